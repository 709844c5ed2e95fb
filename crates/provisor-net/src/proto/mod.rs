//! Just enough of the protocols the checks speak (HTTP/1.0, MQTT 3.1.1, FTP logins,
//! telnet option negotiation, the start of SSH), over plain TCP or through TLS, each over a connection from [`crate::identify::open`], with every read
//! bounded in bytes and time.

pub mod dns;
pub mod ftp;
pub mod http;
pub mod http_auth;
pub mod mqtt;
pub mod rtsp;
pub mod ssh;
pub mod ssh_auth;
pub mod telnet;
pub mod tls_client;
pub mod upnp;

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::target::Target;

/// How long a server may take to answer a password: login programs wait before they
/// say one was wrong (busybox and util-linux `login` three seconds, PAM about two,
/// vsftpd one).
pub const PASSWORD_VERDICT: Duration = Duration::from_secs(5);

/// The value of the first `key` in a list of (key, value) pairs.
pub fn value_of<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.as_str())
}

/// A word no page or greeting holds by chance (`provisor` and the clock's
/// nanoseconds): for a shell to echo back, or as a client nonce.
pub fn unique_word() -> String {
    format!(
        "provisor{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(7, |elapsed| elapsed.subsec_nanos())
    )
}

/// A connection the checks talk over: plain TCP or TLS.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Connects to `port`, through TLS when `tls` is set.
pub async fn connect(
    target: &Target,
    port: u16,
    tls: bool,
    deadline: Duration,
) -> Option<Box<dyn Stream>> {
    if tls {
        let stream = tls_client::connect(target, port, deadline).await?;
        Some(Box::new(stream))
    } else {
        let stream = crate::identify::open(target, port, deadline).await?;
        Some(Box::new(stream))
    }
}
