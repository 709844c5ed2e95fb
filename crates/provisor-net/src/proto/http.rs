//! HTTP/1.0 requests over plain TCP or TLS: one request per connection, the response read up to
//! [`BODY_LIMIT`] bytes within the deadline, headers parsed leniently.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::connect;
use crate::target::Target;

/// The most bytes of a response read (headers and body).
pub const BODY_LIMIT: usize = 64 * 1024;

/// A response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body as far as it was read.
    pub body: Vec<u8>,
}

impl Response {
    /// Every header of that (lower-case) name.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first header of that (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Sends `GET path` (with extra header lines), through TLS when `tls` is set, and reads
/// the response.
pub async fn get(
    target: &Target,
    port: u16,
    tls: bool,
    path: &str,
    extra: &str,
    deadline: Duration,
) -> Option<Response> {
    send(target, port, tls, Verb::Get, path, extra, deadline).await
}

/// Sends a form (`application/x-www-form-urlencoded`) with `POST path`.
pub async fn post_form(
    target: &Target,
    port: u16,
    tls: bool,
    path: &str,
    form: &str,
    deadline: Duration,
) -> Option<Response> {
    let verb = Verb::Post {
        content_type: "application/x-www-form-urlencoded",
        body: form,
    };
    send(target, port, tls, verb, path, "", deadline).await
}

/// What a request does.
pub enum Verb<'a> {
    /// GET.
    Get,
    /// POST with a body of that content type.
    Post {
        /// The `Content-Type`.
        content_type: &'a str,
        /// The body.
        body: &'a str,
    },
}

/// Sends one request (with extra header lines) and reads the response.
pub async fn send(
    target: &Target,
    port: u16,
    tls: bool,
    verb: Verb<'_>,
    path: &str,
    extra: &str,
    deadline: Duration,
) -> Option<Response> {
    let end = tokio::time::Instant::now() + deadline;
    let mut stream = request(target, port, tls, verb, path, extra, end).await?;
    parse(&read_bounded(&mut stream, end, BODY_LIMIT, |_| false).await)
}

/// The status a server answers `GET path` with, read from the status line alone: the
/// cheap way to tell that it still answers, whatever follows the status line.
pub async fn status(
    target: &Target,
    port: u16,
    tls: bool,
    path: &str,
    deadline: Duration,
) -> Option<u16> {
    let end = tokio::time::Instant::now() + deadline;
    let mut stream = request(target, port, tls, Verb::Get, path, "", end).await?;
    let has_line = |raw: &[u8]| raw.contains(&b'\n');
    let raw = read_bounded(&mut stream, end, STATUS_LINE_LIMIT, has_line).await;
    let line = raw.split(|&byte| byte == b'\n').next()?;
    parse(line).map(|response| response.status)
}

/// The longest status line read.
const STATUS_LINE_LIMIT: usize = 1024;

/// Reads until `end`, `limit` bytes, the end of the stream, or until `enough` says so.
async fn read_bounded(
    stream: &mut Box<dyn super::Stream>,
    end: tokio::time::Instant,
    limit: usize,
    enough: impl Fn(&[u8]) -> bool,
) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut buffer = [0u8; 8192];
    while raw.len() < limit && !enough(&raw) {
        match tokio::time::timeout_at(end, stream.read(&mut buffer)).await {
            Ok(Ok(read)) if read > 0 => {
                raw.extend_from_slice(&buffer[..read.min(limit - raw.len())]);
            }
            _ => break,
        }
    }
    raw
}

/// Connects and sends one request, by `end`; the connection, to read the answer from.
async fn request(
    target: &Target,
    port: u16,
    tls: bool,
    verb: Verb<'_>,
    path: &str,
    extra: &str,
    end: tokio::time::Instant,
) -> Option<Box<dyn super::Stream>> {
    let left = end.saturating_duration_since(tokio::time::Instant::now());
    let mut stream = connect(target, port, tls, left).await?;
    let (method, body) = match verb {
        Verb::Post { content_type, body } => (
            "POST",
            format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        ),
        Verb::Get => ("GET", "\r\n".to_owned()),
    };
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {}\r\nUser-Agent: provisor\r\nAccept: */*\r\nConnection: close\r\n{extra}{body}",
        target.address
    );
    tokio::time::timeout_at(end, stream.write_all(request.as_bytes()))
        .await
        .ok()?
        .ok()?;
    Some(stream)
}

/// Parses a response's status line and headers (HTTP/1.x, or RTSP/1.0, which has the
/// same grammar); the rest is the body.
pub fn parse(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|window| window == b"\r\n\r\n");
    let (head, body) = match split {
        Some(at) => (&raw[..at], raw[at + 4..].to_vec()),
        None => (raw, Vec::new()),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") && !version.starts_with("RTSP/1.") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Some(Response {
        status,
        headers,
        body,
    })
}

/// Paths of the same site linked from a page (`href` and `src` attributes that are
/// relative or absolute paths), first seen first, at most `limit`.
pub fn links(body: &[u8], limit: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(body);
    let mut found: Vec<String> = Vec::new();
    for attribute in ["href=", "src=", "action="] {
        for (at, _) in text.match_indices(attribute) {
            let rest = &text[at + attribute.len()..];
            let quote = rest.chars().next();
            let value: String = match quote {
                Some('"') | Some('\'') => rest[1..]
                    .chars()
                    .take_while(|&c| Some(c) != quote)
                    .collect(),
                _ => rest
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '>')
                    .collect(),
            };
            let value = value.split('#').next().unwrap_or("").to_owned();
            if value.is_empty()
                || value.contains("://")
                || value.starts_with("//")
                || value.contains(':')
            {
                continue;
            }
            let path = if value.starts_with('/') {
                value
            } else {
                format!("/{}", value.trim_start_matches("./"))
            };
            if !found.contains(&path) && found.len() < limit {
                found.push(path);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_is_parsed_leniently() {
        let response = parse(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"cam\"\r\nServer: lighttpd/1.4.69\r\n\r\nno",
        )
        .unwrap();
        assert_eq!(response.status, 401);
        assert_eq!(
            response.header("www-authenticate"),
            Some("Basic realm=\"cam\"")
        );
        assert_eq!(response.body, b"no");
        assert!(parse(b"SSH-2.0-x\r\n").is_none());
        assert!(parse(b"HTTP/1.1 abc\r\n\r\n").is_none());
    }

    #[test]
    fn links_of_the_same_site_are_collected() {
        let page = br#"<a href="/admin/">admin</a> <a href='status.html#top'>s</a>
            <img src=/logo.png> <a href="https://vendor.example/">v</a> <a href="mailto:x@y">m</a>
            <form action="/cgi-bin/login.cgi"><a href="/admin/">again</a>"#;
        assert_eq!(
            links(page, 10),
            ["/admin/", "/status.html", "/logo.png", "/cgi-bin/login.cgi"]
        );
        assert_eq!(links(page, 2).len(), 2);
    }
}
