//! Helpers for the workspace integration tests: a server on 127.0.0.1, a fast test
//! configuration, and fresh PostgreSQL databases.
//!
//! PostgreSQL tests use `AUTH_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`)
//! and create a fresh database per test. Under `CI=true` an unreachable server fails the test;
//! elsewhere the test is skipped with a printed reason.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test helpers fail loudly"
)]

pub mod app;
pub mod browser;
pub mod example;
pub mod federation;
pub mod guarded;
pub mod ldap;
pub mod mfa;
pub mod outbox;
pub mod provider;
pub mod python;
pub mod redis_cluster;
pub mod saml;

use std::net::SocketAddr;
use std::path::Path;

use auth_axum::core::config::AuthConfig;
use auth_axum::core::store::sql::{SqlOptions, SqlStore};
use secrecy::SecretString;
use sqlx::{Connection, Executor, PgConnection};

/// A server running on 127.0.0.1 with an ephemeral port, stopped when dropped.
#[derive(Debug)]
pub struct TestServer {
    /// The bound address.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Serves `router` on 127.0.0.1:0, recording each connection's peer address (as the
    /// example service does), so handlers see the client address.
    pub async fn spawn(router: axum::Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        Self::serve(listener, router)
    }

    /// Serves `router` on `listener` (bound beforehand, when the service must know its own
    /// address, as an OAuth issuer does), recording each connection's peer address.
    pub fn serve(listener: tokio::net::TcpListener, router: axum::Router) -> Self {
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("server");
        });
        Self { addr, task }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A configuration for tests: cheap Argon2 parameters, a random HS256 secret, the given
/// database, development keys file and mail outbox inside `dir`.
#[must_use]
pub fn test_config(database_url: &str, dir: &Path) -> AuthConfig {
    let mut config = AuthConfig::default();
    config.database.url = database_url.to_owned();
    config.password.memory_kib = 1024;
    config.password.iterations = 1;
    config.jwt.keys_file = dir.join("auth-keys.json");
    // Mail (verification links at registration) goes to the test's own folder.
    config.mail.outbox = dir.join("outbox");
    config.jwt.secret_key = Some(SecretString::from(random_secret()));
    config.jwt.refresh_token_secret = Some(SecretString::from(random_secret()));
    config
}

/// 64 random characters.
#[must_use]
pub fn random_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A SQLite database file URL inside `dir`.
#[must_use]
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("auth.db").display())
}

/// A SQLite file store with the default options in a fresh temporary directory, which lives
/// as long as the returned guard.
pub async fn sqlite_store() -> (tempfile::TempDir, SqlStore) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqlStore::connect(&sqlite_url(dir.path()), SqlOptions::default())
        .await
        .expect("SQLite store");
    (dir, store)
}

/// A fresh PostgreSQL database, dropped by [`PgDatabase::drop_database`].
#[derive(Debug)]
pub struct PgDatabase {
    /// Its URL.
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgDatabase {
    /// Creates a fresh database, or returns `None` (with a printed reason) when PostgreSQL is
    /// unreachable outside CI. Under `CI=true`, unreachable PostgreSQL panics.
    pub async fn create() -> Option<Self> {
        let admin_url = std::env::var("AUTH_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let mut conn = match PgConnection::connect(&admin_url).await {
            Ok(conn) => conn,
            Err(e) => {
                if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                    panic!("PostgreSQL at {admin_url} is required in CI: {e}");
                }
                eprintln!("skipping: PostgreSQL at {admin_url} is unreachable ({e}); set AUTH_TEST_POSTGRES_URL");
                return None;
            }
        };
        let name = format!("auth_test_{}", uuid::Uuid::new_v4().simple());
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create database");
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(base, _)| base);
        Some(Self {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        })
    }

    /// Drops the database (connections to it are terminated first).
    pub async fn drop_database(self) {
        let Ok(mut conn) = PgConnection::connect(&self.admin_url).await else {
            return;
        };
        let _ = conn
            .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
            .await;
    }
}

/// The Redis URL tests use (`AUTH_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`), or `None`
/// (with a printed reason) when Redis does not answer outside CI. Under `CI=true`, Redis not
/// answering panics.
pub async fn redis_url() -> Option<String> {
    let url = std::env::var("AUTH_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let addr = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:6379")
        .to_owned();
    match tokio::net::TcpStream::connect(&addr).await {
        Ok(_) => Some(url),
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("Redis at {url} is required in CI: {e}");
            }
            eprintln!("skipping: Redis at {url} is unreachable ({e}); set AUTH_TEST_REDIS_URL");
            None
        }
    }
}

/// Runs `suite` against every SQL backend in turn: a SQLite file, an in-memory SQLite
/// database and a fresh PostgreSQL database (skipped with a printed reason outside CI when
/// PostgreSQL is unreachable). Each backend is named on stderr first, so a failure says
/// which one. The store conformance suites (`auth_core::testing::conformance`) run through
/// this, and [`on_redis`].
pub async fn on_sql_backends<F, Fut>(suite: F)
where
    F: Fn(SqlStore) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (_dir, file) = sqlite_store().await;
    eprintln!("conformance on a SQLite file");
    suite(file.clone()).await;
    file.close().await;
    let memory = SqlStore::connect("sqlite::memory:", SqlOptions::default())
        .await
        .expect("in-memory SQLite");
    eprintln!("conformance on an in-memory SQLite database");
    suite(memory).await;
    if let Some(db) = PgDatabase::create().await {
        let store = SqlStore::connect(&db.url, SqlOptions::default())
            .await
            .expect("PostgreSQL store");
        eprintln!("conformance on PostgreSQL");
        suite(store.clone()).await;
        store.close().await;
        db.drop_database().await;
    }
}

/// Runs `suite` against a Redis store with a key prefix of its own (skipped with a printed
/// reason outside CI when Redis does not answer).
pub async fn on_redis<F, Fut>(suite: F)
where
    F: FnOnce(auth_axum::core::store::redis::RedisStore) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(url) = redis_url().await else {
        return;
    };
    let store = auth_axum::core::store::redis::RedisStore::connect(
        &url,
        &format!("{}:", unique_prefix("conformance")),
    )
    .await
    .expect("Redis store");
    eprintln!("conformance on Redis");
    suite(store).await;
}

/// A test server the machine lacks (`reason` says which and how to install it): under
/// `CI=true` this fails the test; elsewhere it prints `skipping: <reason>` and the caller
/// skips.
pub fn missing_server(reason: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true and {reason}"
    );
    eprintln!("skipping: {reason}");
}

/// Every conformance suite of the Redis store (`auth_core::testing::conformance`), on one
/// Redis or a Redis Cluster.
pub async fn redis_conformance(store: std::sync::Arc<auth_axum::core::store::redis::RedisStore>) {
    use auth_axum::core::testing::conformance;
    conformance::revocations(store.as_ref()).await;
    conformance::refresh_tokens(store.clone()).await;
    conformance::sessions(store.clone()).await;
    conformance::lockout(store.clone()).await;
    conformance::pending(store.as_ref()).await;
    conformance::rate_limiter(store.as_ref()).await;
    conformance::counters(store).await;
}

/// A channel or key prefix no other test run uses.
#[must_use]
pub fn unique_prefix(what: &str) -> String {
    format!("auth-test:{what}:{}", uuid::Uuid::new_v4().simple())
}

/// Polls `check` every 10 ms until it holds or `within` passes; returns whether it held.
pub async fn eventually<F, Fut>(within: std::time::Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// A TCP proxy on 127.0.0.1 in front of a real service (PostgreSQL, Redis), so a test can take
/// the service away and give it back without touching it: [`cut`](Self::cut) closes every
/// connection and refuses new ones, [`restore`](Self::restore) lets them through again.
#[derive(Debug)]
pub struct TcpProxy {
    addr: std::net::SocketAddr,
    state: std::sync::Arc<ProxyState>,
    accept: tokio::task::JoinHandle<()>,
}

#[derive(Debug, Default)]
struct ProxyState {
    cut: std::sync::atomic::AtomicBool,
    connections: std::sync::Mutex<Vec<tokio::task::AbortHandle>>,
}

impl TcpProxy {
    /// Starts a proxy to `target` (`host:port`).
    pub async fn start(target: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let state = std::sync::Arc::new(ProxyState::default());
        let target = target.to_owned();
        let shared = std::sync::Arc::clone(&state);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                if shared.cut.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                shared
                    .connections
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(task.abort_handle());
            }
        });
        Self {
            addr,
            state,
            accept,
        }
    }

    /// `127.0.0.1:<port>` of the proxy.
    #[must_use]
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.state
            .cut
            .store(true, std::sync::atomic::Ordering::SeqCst);
        for connection in self
            .state
            .connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .drain(..)
        {
            connection.abort();
        }
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.state
            .cut
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// A real SMTP server on 127.0.0.1 (Python's aiosmtpd, whose default handler prints every
/// message it receives), started for one test and killed when dropped.
#[derive(Debug)]
pub struct SmtpServer {
    /// Its port.
    pub port: u16,
    child: std::process::Child,
    output: std::sync::Arc<std::sync::Mutex<String>>,
}

impl SmtpServer {
    /// Starts the server, or returns `None` (with a printed reason) when aiosmtpd is not
    /// installed outside CI. Under `CI=true`, a missing aiosmtpd panics (`.ci/run` installs it).
    pub async fn start() -> Option<Self> {
        use std::io::Read as _;
        let installed = std::process::Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            assert!(
                std::env::var("CI").is_err(),
                "CI=true but aiosmtpd is missing: `python3 -m pip install aiosmtpd`"
            );
            eprintln!("skipping: aiosmtpd is not installed (`python3 -m pip install aiosmtpd`)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = std::process::Command::new("python3")
            .args(["-u", "-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let mut stdout = child.stdout.take().expect("aiosmtpd output");
        let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = std::sync::Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = [0_u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let up = eventually(std::time::Duration::from_secs(15), || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        })
        .await;
        assert!(up, "aiosmtpd did not listen on 127.0.0.1:{port}");
        Some(Self {
            port,
            child,
            output,
        })
    }

    /// Everything the server printed so far: each message received, headers and body.
    #[must_use]
    pub fn received(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
