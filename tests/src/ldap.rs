//! A real OpenLDAP server (Debian's `slapd`) on 127.0.0.1 for the directory sign-in tests:
//! a fresh database in a temporary folder, seeded with people and groups by `slapadd`
//! before it starts, stopped when dropped. It allows unauthenticated binds (a DN with an
//! empty password), as many directories do, so that the tests show the service refusing
//! them itself.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "a test harness fails loudly"
)]

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The suffix of the seeded directory.
pub const BASE: &str = "dc=example,dc=org";
/// The service account (the directory's root DN here).
pub const SERVICE_DN: &str = "cn=admin,dc=example,dc=org";
/// Its password.
pub const SERVICE_PASSWORD: &str = "service-secret";

/// The seeded entries: ada (group admins and staff), bob (staff), eve (no group).
const SEED: &str = "\
dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=org
objectClass: organizationalUnit
ou: groups

dn: uid=ada,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: ada
cn: Ada Lovelace
sn: Lovelace
mail: ada@example.org
userPassword: ada-password

dn: uid=bob,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: Builder
mail: bob@example.org
userPassword: bob-password

dn: uid=eve,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: eve
cn: Eve
sn: Eve
mail: eve@example.org
userPassword: eve-password

dn: cn=admins,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: admins
member: uid=ada,ou=people,dc=example,dc=org

dn: cn=staff,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: staff
member: uid=ada,ou=people,dc=example,dc=org
member: uid=bob,ou=people,dc=example,dc=org
";

/// A running slapd.
#[derive(Debug)]
pub struct Slapd {
    child: Child,
    /// `ldap://127.0.0.1:PORT`.
    pub url: String,
    _dir: tempfile::TempDir,
}

fn slapd_binary() -> Option<&'static str> {
    ["/usr/sbin/slapd", "/usr/local/libexec/slapd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

impl Slapd {
    /// Starts one; `None` (with the reason printed) when slapd is not installed, except
    /// under `CI=true`, where that fails the test.
    pub async fn start() -> Option<Self> {
        let Some(slapd) = slapd_binary() else {
            crate::missing_server("slapd is not installed (apt-get install slapd ldap-utils)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir(&db).unwrap();
        let conf = dir.path().join("slapd.conf");
        let mut file = std::fs::File::create(&conf).unwrap();
        write!(
            file,
            "include /etc/ldap/schema/core.schema\n\
             include /etc/ldap/schema/cosine.schema\n\
             include /etc/ldap/schema/inetorgperson.schema\n\
             modulepath /usr/lib/ldap\n\
             moduleload back_mdb\n\
             pidfile {pid}\n\
             allow bind_anon_dn\n\
             database mdb\n\
             maxsize 10485760\n\
             suffix \"{BASE}\"\n\
             rootdn \"{SERVICE_DN}\"\n\
             rootpw {SERVICE_PASSWORD}\n\
             directory {db}\n",
            pid = dir.path().join("slapd.pid").display(),
            db = db.display(),
        )
        .unwrap();
        let seed = dir.path().join("seed.ldif");
        std::fs::write(&seed, SEED).unwrap();
        let added = Command::new("/usr/sbin/slapadd")
            .arg("-f")
            .arg(&conf)
            .arg("-l")
            .arg(&seed)
            .output()
            .unwrap();
        assert!(added.status.success(), "slapadd: {added:?}");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("ldap://127.0.0.1:{port}");
        let child = Command::new(slapd)
            .arg("-f")
            .arg(&conf)
            .arg("-h")
            .arg(format!("{url}/"))
            // In the foreground, so the child is slapd itself.
            .args(["-d", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let ready = crate::eventually(Duration::from_secs(10), || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        })
        .await;
        assert!(ready, "slapd did not start on {url}");
        Some(Self {
            child,
            url,
            _dir: dir,
        })
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server on 127.0.0.1 that accepts connections and never answers: a directory that
/// hangs. Its address.
pub async fn silent_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ldap://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, task)
}
