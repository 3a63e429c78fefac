//! A real three-node Redis Cluster on 127.0.0.1 for the cluster tests: three
//! `redis-server --cluster-enabled yes` (Debian's redis-server package) joined by
//! `redis-cli --cluster create`, stopped when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running cluster of three primaries, no replicas.
#[derive(Debug)]
pub struct RedisCluster {
    children: Vec<Child>,
    /// The nodes' ports.
    pub ports: Vec<u16>,
    _dir: tempfile::TempDir,
}

/// A port `p` free on 127.0.0.1 whose cluster bus port `p + 10000` is free too.
fn cluster_port() -> u16 {
    loop {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        if port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

fn redis_cli(port: u16, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn installed(binary: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(binary).exists()))
}

impl RedisCluster {
    /// Starts one; `None` (with the reason printed) when redis-server or redis-cli is
    /// missing, except under `CI=true`, where that fails the test.
    pub async fn start() -> Option<Self> {
        if !installed("redis-server") || !installed("redis-cli") {
            crate::missing_server(
                "redis-server and redis-cli are not installed (apt-get install redis-server)",
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut ports = Vec::new();
        let mut children = Vec::new();
        for _ in 0..3 {
            let port = cluster_port();
            children.push(Self::node(dir.path(), port));
            ports.push(port);
        }
        let mut cluster = Self {
            children,
            ports,
            _dir: dir,
        };
        for &port in &cluster.ports {
            let up = crate::eventually(Duration::from_secs(10), || async move {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
            })
            .await;
            assert!(up, "redis-server did not start on port {port}");
        }
        let nodes: Vec<String> = cluster
            .ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&nodes)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .unwrap();
        assert!(
            created.status.success(),
            "redis-cli --cluster create: {created:?}"
        );
        let ports = cluster.ports.clone();
        let ok = crate::eventually(Duration::from_secs(20), || {
            let ports = ports.clone();
            async move {
                ports
                    .iter()
                    .all(|&port| redis_cli(port, &["cluster", "info"]).contains("cluster_state:ok"))
            }
        })
        .await;
        if !ok {
            cluster.stop();
            panic!("the Redis Cluster on {nodes:?} did not come up");
        }
        Some(cluster)
    }

    fn node(dir: &Path, port: u16) -> Child {
        Command::new("redis-server")
            .args(["--port", &port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--cluster-enabled", "yes"])
            .arg("--cluster-config-file")
            .arg(dir.join(format!("nodes-{port}.conf")))
            .args(["--cluster-node-timeout", "5000"])
            .arg("--dir")
            .arg(dir)
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// `AUTH__REDIS__URL` for the cluster: every node, comma-separated.
    #[must_use]
    pub fn url(&self) -> String {
        self.ports
            .iter()
            .map(|port| format!("redis://127.0.0.1:{port}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// How many keys each node holds.
    #[must_use]
    pub fn keys_per_node(&self) -> Vec<u64> {
        self.ports
            .iter()
            .map(|&port| redis_cli(port, &["dbsize"]).trim().parse().unwrap_or(0))
            .collect()
    }

    fn stop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        self.stop();
    }
}
