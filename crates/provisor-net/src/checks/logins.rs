//! The login interfaces of a host, shared by the checks that send credentials: SSH
//! servers that take passwords, telnet login prompts, FTP servers that ask named users
//! for a password, web pages behind HTTP basic authentication (the root and the pages it
//! links to) and MQTT brokers that refuse anonymous clients, over plain TCP or TLS. One login attempt at a time, with its outcome and how long the answer took.

use std::time::{Duration, Instant};

use base64::Engine;

use super::HostContext;
use crate::proto::telnet::{self, Telnet};
use crate::proto::{ftp, http, mqtt, ssh_auth};

/// Pages looked at for a login prompt.
const PAGES: usize = 20;

/// Where credentials can be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// An SSH server that offers password (or keyboard-interactive) authentication.
    Ssh {
        /// The port.
        port: u16,
    },
    /// A telnet server that prompts for a login.
    Telnet {
        /// The port.
        port: u16,
    },
    /// An FTP server that asks named users for a password.
    Ftp {
        /// The port.
        port: u16,
    },
    /// A page behind HTTP basic authentication.
    HttpBasic {
        /// The port.
        port: u16,
        /// Through TLS.
        tls: bool,
        /// The protected page.
        path: String,
    },
    /// An MQTT broker that wants a user and password.
    Mqtt {
        /// The port.
        port: u16,
        /// Through TLS.
        tls: bool,
    },
}

impl Login {
    /// Its port.
    pub fn port(&self) -> u16 {
        match self {
            Login::Ssh { port }
            | Login::Telnet { port }
            | Login::Ftp { port }
            | Login::HttpBasic { port, .. }
            | Login::Mqtt { port, .. } => *port,
        }
    }

    /// The service name findings use.
    pub fn service(&self) -> &'static str {
        match self {
            Login::Ssh { .. } => "ssh",
            Login::Telnet { .. } => "telnet",
            Login::Ftp { .. } => "ftp",
            Login::HttpBasic { tls: false, .. } => "http",
            Login::HttpBasic { tls: true, .. } => "https",
            Login::Mqtt { tls: false, .. } => "mqtt",
            Login::Mqtt { tls: true, .. } => "mqtts",
        }
    }

    /// How a finding names it: `HTTP basic authentication on 127.0.0.1:80/admin/`.
    pub fn describe(&self, context: &HostContext) -> String {
        match self {
            Login::Ssh { port } => format!(
                "SSH password authentication on {}",
                context.target.endpoint(*port)
            ),
            Login::Telnet { port } => {
                format!("the telnet login on {}", context.target.endpoint(*port))
            }
            Login::Ftp { port } => format!("the FTP login on {}", context.target.endpoint(*port)),
            Login::HttpBasic { port, path, .. } => format!(
                "HTTP basic authentication on {}{path}",
                context.target.endpoint(*port)
            ),
            Login::Mqtt { port, .. } => {
                format!("the MQTT broker on {}", context.target.endpoint(*port))
            }
        }
    }
}

/// What one attempt got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The credentials were accepted.
    Accepted,
    /// Refused as wrong, the usual way.
    Rejected,
    /// Refused with a sign of throttling: HTTP 429 or 503, or MQTT's "server
    /// unavailable".
    Throttled,
    /// The connection was refused, reset or timed out.
    Silent,
}

/// Every login interface of the host; found once, before the checks that send
/// credentials run, since their attempts may trip the interface's rate limit.
pub async fn interfaces(context: &HostContext) -> Vec<Login> {
    let mut found = Vec::new();
    for service in &context.services {
        let port = service.port;
        match service.name.as_deref() {
            Some("ssh") => {
                let methods = ssh_auth::methods(&context.target, port, context.deadline).await;
                if methods.is_some_and(|methods| {
                    methods
                        .iter()
                        .any(|method| method == "password" || method == "keyboard-interactive")
                }) {
                    found.push(Login::Ssh { port });
                }
            }
            Some("telnet") => {
                if let Some(mut session) =
                    Telnet::connect(&context.target, port, context.deadline).await
                {
                    let greeting = session.read_text(context.deadline).await;
                    if telnet::asks_for_login(&greeting) {
                        found.push(Login::Telnet { port });
                    }
                }
            }
            Some("ftp") if ftp::takes_passwords(&context.target, port, context.deadline).await => {
                found.push(Login::Ftp { port });
            }
            Some(name @ ("http" | "https")) => {
                let tls = name == "https";
                if let Some(path) = basic_page(context, port, tls).await {
                    found.push(Login::HttpBasic { port, tls, path });
                }
            }
            Some(name @ ("mqtt" | "mqtts")) => {
                let tls = name == "mqtts";
                // Refused as "bad user name or password" or "not authorized".
                let anonymous =
                    mqtt::connect(&context.target, port, tls, None, context.deadline).await;
                if matches!(anonymous, Err(4 | 5)) {
                    found.push(Login::Mqtt { port, tls });
                }
            }
            _ => {}
        }
    }
    found
}

/// The first page of a site (the root or a page it links to) that asks for HTTP basic
/// authentication.
async fn basic_page(context: &HostContext, port: u16, tls: bool) -> Option<String> {
    let target = &context.target;
    let root = http::get(target, port, tls, "/", "", context.deadline).await?;
    let basic = |page: &http::Response| {
        page.status == 401
            && page
                .header("www-authenticate")
                .is_some_and(|value| value.to_ascii_lowercase().starts_with("basic"))
    };
    if basic(&root) {
        return Some("/".into());
    }
    for path in http::links(&root.body, PAGES) {
        if let Some(page) = http::get(target, port, tls, &path, "", context.deadline).await {
            if basic(&page) {
                return Some(path);
            }
        }
    }
    None
}

/// Tries one credential; the answer and how long it took.
pub(crate) async fn attempt(
    context: &HostContext,
    login: &Login,
    user: &str,
    password: &str,
) -> (Answer, Duration) {
    let started = Instant::now();
    let answer = match login {
        Login::Ssh { port } => {
            match ssh_auth::login(&context.target, *port, user, password, context.deadline).await {
                Some(true) => Answer::Accepted,
                Some(false) => Answer::Rejected,
                None => Answer::Silent,
            }
        }
        Login::Telnet { port } => {
            match telnet::login(&context.target, *port, user, password, context.deadline).await {
                Some(true) => Answer::Accepted,
                Some(false) => Answer::Rejected,
                None => Answer::Silent,
            }
        }
        Login::Ftp { port } => {
            match ftp::login(&context.target, *port, user, password, context.deadline).await {
                Some(230) => Answer::Accepted,
                Some(421) => Answer::Throttled,
                Some(_) => Answer::Rejected,
                None => Answer::Silent,
            }
        }
        Login::HttpBasic { port, tls, path } => {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            let header = format!("Authorization: Basic {token}\r\n");
            match http::get(
                &context.target,
                *port,
                *tls,
                path,
                &header,
                context.deadline,
            )
            .await
            {
                Some(page) if (200..400).contains(&page.status) => Answer::Accepted,
                Some(page) if matches!(page.status, 429 | 503) => Answer::Throttled,
                Some(_) => Answer::Rejected,
                None => Answer::Silent,
            }
        }
        Login::Mqtt { port, tls } => {
            match mqtt::connect(
                &context.target,
                *port,
                *tls,
                Some((user, password)),
                context.deadline,
            )
            .await
            {
                Ok(_) => Answer::Accepted,
                Err(3) => Answer::Throttled,
                Err(255) => Answer::Silent,
                Err(_) => Answer::Rejected,
            }
        }
    };
    (answer, started.elapsed())
}
