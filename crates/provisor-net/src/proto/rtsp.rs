//! RTSP (RFC 2326), as far as a login goes: DESCRIBE a stream, answer a basic or digest
//! challenge on the same connection (digest nonces of some servers belong to the
//! connection), and find which of the usual stream paths (`data/rtsp-paths.toml`) a
//! device serves. Each answer is read within the deadline and a byte limit.

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::http::{self, Response};
use super::http_auth::Challenge;
use crate::identify::{open, read_answer};
use crate::target::Target;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Paths {
    path: Vec<StreamPath>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "the vendor is documentation in the data file")]
struct StreamPath {
    path: String,
    vendor: String,
}

/// The stream paths tried, in order.
pub fn paths() -> &'static [String] {
    static PATHS: OnceLock<Vec<String>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let file: Paths = toml::from_str(include_str!("../../data/rtsp-paths.toml"))
            .expect("the RTSP path list is valid (tested)");
        file.path.into_iter().map(|path| path.path).collect()
    })
}

/// An RTSP connection.
struct Session {
    stream: TcpStream,
    url: String,
    sequence: u32,
}

impl Session {
    async fn open(target: &Target, port: u16, path: &str, deadline: Duration) -> Option<Session> {
        Some(Session {
            stream: open(target, port, deadline).await?,
            url: format!("rtsp://{}{path}", target.endpoint(port)),
            sequence: 0,
        })
    }

    /// Sends DESCRIBE (with an `Authorization` value) and reads the answer.
    async fn describe(
        &mut self,
        authorization: Option<&str>,
        deadline: Duration,
    ) -> Option<Response> {
        self.sequence += 1;
        let mut request = format!(
            "DESCRIBE {} RTSP/1.0\r\nCSeq: {}\r\nUser-Agent: provisor\r\nAccept: application/sdp\r\n",
            self.url, self.sequence
        );
        if let Some(value) = authorization {
            request.push_str(&format!("Authorization: {value}\r\n"));
        }
        request.push_str("\r\n");
        tokio::time::timeout(deadline, self.stream.write_all(request.as_bytes()))
            .await
            .ok()?
            .ok()?;
        http::parse(&read_answer(&mut self.stream, deadline).await)
    }
}

/// The first usual stream path the server on `port` knows, with the status of a
/// DESCRIBE without credentials (200: anyone can play it; 401: it wants a login).
pub async fn find_stream(target: &Target, port: u16, deadline: Duration) -> Option<(String, u16)> {
    for path in paths() {
        let mut session = Session::open(target, port, path, deadline).await?;
        let Some(answer) = session.describe(None, deadline).await else {
            continue;
        };
        if matches!(answer.status, 200 | 401) {
            return Some((path.clone(), answer.status));
        }
    }
    None
}

/// Whether `user` and `password` open the stream at `path`: the status of the DESCRIBE
/// that carried them (200 when accepted), or `None` when the server did not answer.
pub async fn login(
    target: &Target,
    port: u16,
    path: &str,
    (user, password): (&str, &str),
    deadline: Duration,
) -> Option<u16> {
    let mut session = Session::open(target, port, path, deadline).await?;
    let asked = session.describe(None, deadline).await?;
    if asked.status != 401 {
        return Some(asked.status);
    }
    let authorization = match asked
        .headers_named("www-authenticate")
        .find_map(Challenge::parse)
    {
        Some(challenge) => challenge.answer(
            "DESCRIBE",
            &session.url,
            (user, password),
            &super::unique_word(),
        ),
        None => format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        ),
    };
    Some(
        session
            .describe(Some(&authorization), deadline)
            .await?
            .status,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_list_is_read() {
        let paths = paths();
        assert_eq!(paths[0], "/");
        assert!(paths.iter().all(|path| path.starts_with('/')));
        assert!(paths.contains(&"/Streaming/Channels/101".to_owned()));
    }
}
