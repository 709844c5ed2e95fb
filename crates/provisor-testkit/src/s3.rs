//! An S3 server on loopback for the object-storage tests: s3s-fs (a real S3 protocol
//! implementation over a directory, from crates.io; `scripts/test` installs it into
//! `target/tools`), started on a free port of 127.0.0.1 with one bucket and a key pair,
//! and killed when dropped. Its objects are plain files, which lets a test look at or
//! damage what the store wrote.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The bucket the server holds.
pub const BUCKET: &str = "provisor";
/// The key pair it accepts.
pub const ACCESS_KEY: &str = "provisor-test";
/// The secret of the key pair.
pub const SECRET_KEY: &str = "provisor-test-secret-key";

/// A running s3s-fs.
pub struct S3Server {
    child: Child,
    address: SocketAddr,
    root: tempfile::TempDir,
}

impl S3Server {
    /// The s3s-fs binary: `PROVISOR_S3S_FS`, else the workspace's `target/tools/bin/s3s-fs`.
    pub fn binary() -> PathBuf {
        std::env::var_os("PROVISOR_S3S_FS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/tools/bin/s3s-fs")
            })
    }

    /// Starts s3s-fs on loopback. Without the binary the test is skipped (None, with a
    /// note), unless `PROVISOR_REQUIRE_S3` is set, as `scripts/test` does: then it fails.
    pub fn start() -> Option<S3Server> {
        let binary = S3Server::binary();
        if !binary.exists() {
            assert!(
                std::env::var_os("PROVISOR_REQUIRE_S3").is_none(),
                "PROVISOR_REQUIRE_S3 is set but {} is missing: run scripts/test, or cargo install s3s-fs --features binary --root target/tools",
                binary.display()
            );
            eprintln!(
                "skipped: no S3 server ({} is missing; scripts/test installs it)",
                binary.display()
            );
            return None;
        }
        let root = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir(root.path().join(BUCKET)).expect("the bucket's directory");
        // A free port: the listener is dropped just before s3s-fs binds it.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{}: {error}", binary.display()));
        let mut server = S3Server {
            child,
            address,
            root,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("s3s-fs ended at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "s3s-fs did not listen on {address} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The directory that holds the bucket's objects, one file per key.
    pub fn bucket_dir(&self) -> PathBuf {
        self.root.path().join(BUCKET)
    }

    /// The S3 settings to reach it at `endpoint` (its own address, or a proxy's), as
    /// `object_store` and `provisor serve` read them (`AWS_…` in the environment).
    pub fn settings(endpoint: &str) -> Vec<(&'static str, String)> {
        vec![
            ("aws_endpoint", endpoint.to_owned()),
            ("aws_region", "us-east-1".to_owned()),
            ("aws_access_key_id", ACCESS_KEY.to_owned()),
            ("aws_secret_access_key", SECRET_KEY.to_owned()),
            ("aws_allow_http", "true".to_owned()),
        ]
    }

    /// Its URL.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
