//! `net.plaintext`: logins and data that cross the network unencrypted.

use provisor_engine::{FindingSink, Outcome, Severity};

use super::{Check, CheckMeta, CheckRun, HostContext, describe, pass_if_clean};
use crate::proto::{http, http_auth};

/// Flags services that carry credentials or data in plaintext: telnet, FTP, TFTP and RTSP,
/// MQTT on a port without TLS, and web pages that ask for credentials without TLS
/// (HTTP basic or digest authentication, a login form with a password field). A plain
/// HTTP port that only redirects to HTTPS is fine, and one that serves pages without
/// asking for credentials is noted, not failed. 5.5-7 asks that security-sensitive data
/// be encrypted in transit, 5.5-1 for best-practice cryptography in communication, 5.8-1
/// for personal data in transit.
pub struct Plaintext;

static META: CheckMeta = CheckMeta {
    id: "net.plaintext",
    title: "logins and data carried in plaintext",
    provisions: &["5.5-7", "5.5-1", "5.8-1"],
};

impl Check for Plaintext {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, context: &'a HostContext, sink: &'a mut FindingSink) -> CheckRun<'a> {
        Box::pin(observe(context, sink))
    }
}

async fn observe(context: &HostContext, sink: &mut FindingSink) {
    let host = context.target.address.to_string();
    let mut examined = 0;
    for service in &context.services {
        let Some(name) = service.name.as_deref() else {
            continue;
        };
        let endpoint = context.target.endpoint(service.port);
        let plain = match name {
            "telnet" => Some((Severity::High, "telnet", "logins and everything typed")),
            "ftp" => Some((Severity::High, "FTP", "logins and files")),
            "rtsp" => Some((Severity::Medium, "RTSP", "stream credentials and video")),
            "mqtt" => Some((
                Severity::High,
                "MQTT without TLS",
                "credentials and messages",
            )),
            _ => None,
        };
        if let Some((severity, protocol, what)) = plain {
            examined += 1;
            sink.add(
                META.id,
                META.provisions,
                Outcome::Fail,
                severity,
                format!("{protocol} on {endpoint} carries {what} in plaintext"),
            )
            .detail("anyone on the path can read and change the traffic; offer the service over TLS (or SSH) only, or turn it off")
            .on(&host, service.port, "tcp", Some(name))
            .record();
            continue;
        }
        if name == "http" {
            examined += 1;
            web(context, service.port, &describe(service), sink).await;
        }
    }
    for service in &context.udp {
        if service.name == "tftp" {
            examined += 1;
            sink.add(
                META.id,
                META.provisions,
                Outcome::Fail,
                Severity::High,
                format!(
                    "TFTP on {}/udp transfers files in plaintext and without a login",
                    context.target.endpoint(service.port)
                ),
            )
            .detail("anyone on the network can read (or write) files through it; turn TFTP off outside the factory")
            .on(&host, service.port, "udp", Some("tftp"))
            .record();
        }
    }
    pass_if_clean(
        sink,
        &META,
        context,
        examined > 0,
        format!("no login or sensitive data in plaintext on the {examined} services examined"),
    );
}

/// A plain HTTP port: whether a page of its site (crawled before the checks: the root,
/// the pages linked from it and the usual login paths) asks for credentials.
async fn web(context: &HostContext, port: u16, described: &str, sink: &mut FindingSink) {
    let host = context.target.address.to_string();
    let endpoint = context.target.endpoint(port);
    let Some(site) = context.sites.iter().find(|site| site.port == port) else {
        return;
    };
    let Some(root) = site.pages.first().filter(|page| page.path == "/") else {
        return;
    };
    let to_https = root
        .response
        .header("location")
        .is_some_and(|location| location.to_ascii_lowercase().starts_with("https://"));
    let pages: Vec<(String, http::Response)> = if to_https {
        vec![("/".to_owned(), root.response.clone())]
    } else {
        site.pages
            .iter()
            .map(|page| (page.path.clone(), page.response.clone()))
            .collect()
    };
    for (path, page) in &pages {
        let challenge = page.header("www-authenticate").map(|value| {
            value
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase()
        });
        let form = http_auth::has_password_field(&page.body);
        let found = match (challenge.as_deref(), form) {
            (Some("basic"), _) => Some((
                Severity::High,
                format!(
                    "HTTP basic authentication on {endpoint}{path} sends passwords in plaintext"
                ),
            )),
            (Some("digest"), _) => Some((
                Severity::Medium,
                format!("HTTP digest authentication on {endpoint}{path} runs without TLS"),
            )),
            (_, true) => Some((
                Severity::High,
                format!("a login form on {endpoint}{path} is served without TLS"),
            )),
            _ => None,
        };
        if let Some((severity, title)) = found {
            sink.add(META.id, META.provisions, Outcome::Fail, severity, title)
                .detail("credentials cross the network readable by anyone on the path; serve the login over HTTPS only")
                .on(&host, port, "tcp", Some("http"))
                .evidence(serde_json::json!({"path": path, "status": page.status, "www-authenticate": page.header("www-authenticate")}))
                .record();
            return;
        }
    }
    let title = if to_https {
        format!("{endpoint} redirects to HTTPS")
    } else {
        format!(
            "{described} on {endpoint} serves pages without TLS and asks for no login ({} pages looked at)",
            pages.len()
        )
    };
    sink.add(
        META.id,
        META.provisions,
        Outcome::Info,
        Severity::Info,
        title,
    )
    .on(&host, port, "tcp", Some("http"))
    .record();
}
