//! The login interfaces of a host, shared by the checks that send credentials: SSH
//! servers that take passwords, telnet login prompts, FTP servers that ask named users
//! for a password, web pages behind HTTP basic or digest authentication and HTML login
//! forms (among the pages of the site crawled before the checks: each protected realm
//! and each distinct form is its own interface, at most four per web port), RTSP
//! streams behind a login, and MQTT brokers that refuse anonymous clients, over plain
//! TCP or TLS. One login attempt at a time, with its outcome and how long the answer
//! took.

use std::time::{Duration, Instant};

use base64::Engine;

use super::HostContext;
use crate::proto::telnet::{self, Telnet};
use crate::proto::{ftp, http, http_auth, mqtt, rtsp, ssh_auth};

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
    /// A page behind HTTP digest authentication.
    HttpDigest {
        /// The port.
        port: u16,
        /// Through TLS.
        tls: bool,
        /// The protected page.
        path: String,
    },
    /// An HTML login form.
    HttpForm {
        /// The port.
        port: u16,
        /// Through TLS.
        tls: bool,
        /// The page that shows it.
        page: String,
        /// The form.
        form: http_auth::Form,
        /// How the site answered a surely wrong password.
        refused: Reply,
    },
    /// An RTSP stream behind a login.
    Rtsp {
        /// The port.
        port: u16,
        /// The stream's path.
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
            | Login::HttpDigest { port, .. }
            | Login::HttpForm { port, .. }
            | Login::Rtsp { port, .. }
            | Login::Mqtt { port, .. } => *port,
        }
    }

    /// The service name findings use.
    pub fn service(&self) -> &'static str {
        match self {
            Login::Ssh { .. } => "ssh",
            Login::Telnet { .. } => "telnet",
            Login::Ftp { .. } => "ftp",
            Login::Rtsp { .. } => "rtsp",
            Login::HttpBasic { tls: false, .. }
            | Login::HttpDigest { tls: false, .. }
            | Login::HttpForm { tls: false, .. } => "http",
            Login::HttpBasic { tls: true, .. }
            | Login::HttpDigest { tls: true, .. }
            | Login::HttpForm { tls: true, .. } => "https",
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
            Login::HttpDigest { port, path, .. } => format!(
                "HTTP digest authentication on {}{path}",
                context.target.endpoint(*port)
            ),
            Login::HttpForm { port, page, .. } => {
                format!("the login form on {}{page}", context.target.endpoint(*port))
            }
            Login::Rtsp { port, path } => {
                format!("the RTSP stream {}{path}", context.target.endpoint(*port))
            }
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

impl Answer {
    /// A login's verdict: accepted, refused, or no answer at all.
    fn of_verdict(verdict: Option<bool>) -> Answer {
        match verdict {
            Some(true) => Answer::Accepted,
            Some(false) => Answer::Rejected,
            None => Answer::Silent,
        }
    }
}

/// Every login interface of the host; found once, before the checks that send
/// credentials run, since their attempts may trip the interface's rate limit. The
/// ports are looked at side by side.
pub async fn interfaces(context: &HostContext) -> Vec<Login> {
    let per_port = context
        .services
        .iter()
        .map(|service| interfaces_on(context, service));
    futures_util::future::join_all(per_port)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// The login interfaces of one port.
async fn interfaces_on(context: &HostContext, service: &crate::identify::Service) -> Vec<Login> {
    let port = service.port;
    let mut found = Vec::new();
    match service.name.as_deref() {
        Some("ssh")
            if context.ssh_methods(port).is_some_and(|methods| {
                methods
                    .iter()
                    .any(|method| method == "password" || method == "keyboard-interactive")
            }) =>
        {
            found.push(Login::Ssh { port });
        }
        Some("telnet") => {
            if let Some(mut session) =
                Telnet::connect(&context.target, port, context.deadline).await
            {
                let greeting = session
                    .read_until(context.deadline, telnet::asks_for_login)
                    .await;
                if telnet::asks_for_login(&greeting) {
                    found.push(Login::Telnet { port });
                }
            }
        }
        Some("ftp") if ftp::takes_passwords(&context.target, port, context.deadline).await => {
            found.push(Login::Ftp { port });
        }
        Some(name @ ("http" | "https")) => {
            found.extend(web_logins(context, port, name == "https").await);
        }
        Some("rtsp") => {
            if let Some((path, 401)) =
                rtsp::find_stream(&context.target, port, context.deadline).await
            {
                found.push(Login::Rtsp { port, path });
            }
        }
        Some(name @ ("mqtt" | "mqtts")) => {
            let tls = name == "mqtts";
            // Refused as "bad user name or password" or "not authorized".
            let anonymous = mqtt::connect(&context.target, port, tls, None, context.deadline).await;
            if matches!(anonymous, Err(4 | 5)) {
                found.push(Login::Mqtt { port, tls });
            }
        }
        _ => {}
    }
    found
}

/// How a site answered a login form: told apart by status, redirection and whether the
/// form shows again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    status: u16,
    location: Option<String>,
    form_again: bool,
}

impl Reply {
    fn of(page: &http::Response) -> Reply {
        Reply {
            status: page.status,
            location: page.header("location").map(str::to_owned),
            form_again: http_auth::has_password_field(&page.body),
        }
    }
}

/// Words of a refused login.
fn says_refused(page: &http::Response) -> bool {
    let body = String::from_utf8_lossy(&page.body).to_ascii_lowercase();
    ["invalid", "incorrect", "wrong", "failed", "denied", "error"]
        .iter()
        .any(|word| body.contains(word))
}

/// Sends a login form filled in with `user` and `password`.
async fn submit(
    context: &HostContext,
    port: u16,
    tls: bool,
    form: &http_auth::Form,
    user: &str,
    password: &str,
) -> Option<http::Response> {
    let fields = form.fill(user, password);
    if form.post {
        http::post_form(
            &context.target,
            port,
            tls,
            &form.action,
            &fields,
            context.deadline,
        )
        .await
    } else {
        let path = format!("{}?{fields}", form.action);
        http::get(&context.target, port, tls, &path, "", context.deadline).await
    }
}

/// The web logins of a site, the first of each kind among the root and the pages it
/// links to: a page behind HTTP basic authentication, one behind digest
/// authentication, a login form (with how the site refuses a surely wrong password).
async fn web_logins(context: &HostContext, port: u16, tls: bool) -> Vec<Login> {
    let Some(site) = context.sites.iter().find(|site| site.port == port) else {
        return Vec::new();
    };
    let mut found: Vec<Login> = Vec::new();
    // Each protected area (a scheme and realm) and each distinct form is its own login
    // interface, tried on its own; a site gets at most WEB_LOGINS of them.
    let mut realms: Vec<(bool, String)> = Vec::new();
    let mut forms: Vec<http_auth::Form> = Vec::new();
    for page in &site.pages {
        if found.len() >= WEB_LOGINS {
            break;
        }
        let path = page.path.clone();
        let response = &page.response;
        if response.status == 401 {
            let challenges: Vec<&str> = response.headers_named("www-authenticate").collect();
            let digest = challenges
                .iter()
                .any(|value| http_auth::Challenge::parse(value).is_some());
            let basic = challenges
                .iter()
                .any(|value| value.to_ascii_lowercase().starts_with("basic"));
            let realm = challenges
                .iter()
                .find_map(|value| realm_of(value))
                .unwrap_or_default();
            if !(digest || basic) || realms.contains(&(digest, realm.clone())) {
                continue;
            }
            realms.push((digest, realm));
            found.push(if digest {
                Login::HttpDigest { port, tls, path }
            } else {
                Login::HttpBasic { port, tls, path }
            });
        } else if (200..300).contains(&response.status) {
            let Some(form) = http_auth::login_form(&response.body, &path) else {
                continue;
            };
            let same = |known: &http_auth::Form| {
                known.action == form.action
                    && known.user_field == form.user_field
                    && known.password_field == form.password_field
            };
            if forms.iter().any(same) {
                continue;
            }
            let wrong = format!("provisor-wrong-{}", crate::proto::unique_word());
            if let Some(answer) = submit(context, port, tls, &form, "provisor", &wrong).await {
                forms.push(form.clone());
                found.push(Login::HttpForm {
                    port,
                    tls,
                    page: path,
                    form,
                    refused: Reply::of(&answer),
                });
            }
        }
    }
    found
}

/// Login interfaces tried at most per web port.
const WEB_LOGINS: usize = 4;

/// The realm a `WWW-Authenticate` challenge names.
fn realm_of(challenge: &str) -> Option<String> {
    let at = challenge.to_ascii_lowercase().find("realm=")?;
    let rest = &challenge[at + "realm=".len()..];
    let realm = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next().unwrap_or(""),
        None => rest.split([',', ' ']).next().unwrap_or(""),
    };
    Some(realm.to_owned())
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
        Login::Ssh { port } => Answer::of_verdict(
            ssh_auth::login(&context.target, *port, user, password, context.deadline).await,
        ),
        Login::Telnet { port } => Answer::of_verdict(
            telnet::login(&context.target, *port, user, password, context.deadline).await,
        ),
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
        Login::HttpDigest { port, tls, path } => {
            digest(context, *port, *tls, path, user, password).await
        }
        Login::HttpForm {
            port,
            tls,
            form,
            refused,
            ..
        } => match submit(context, *port, *tls, form, user, password).await {
            Some(page) if matches!(page.status, 429 | 503) => Answer::Throttled,
            Some(page)
                if (200..400).contains(&page.status)
                    && Reply::of(&page) != *refused
                    && !Reply::of(&page).form_again
                    && !says_refused(&page) =>
            {
                Answer::Accepted
            }
            Some(_) => Answer::Rejected,
            None => Answer::Silent,
        },
        Login::Rtsp { port, path } => {
            match rtsp::login(
                &context.target,
                *port,
                path,
                (user, password),
                context.deadline,
            )
            .await
            {
                Some(200) => Answer::Accepted,
                Some(503) => Answer::Throttled,
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

/// One digest login: a fresh challenge, then the answer to it.
async fn digest(
    context: &HostContext,
    port: u16,
    tls: bool,
    path: &str,
    user: &str,
    password: &str,
) -> Answer {
    let target = &context.target;
    let Some(asked) = http::get(target, port, tls, path, "", context.deadline).await else {
        return Answer::Silent;
    };
    if matches!(asked.status, 429 | 503) {
        return Answer::Throttled;
    }
    let Some(challenge) = asked
        .headers_named("www-authenticate")
        .find_map(http_auth::Challenge::parse)
    else {
        return Answer::Rejected;
    };
    let header = format!(
        "Authorization: {}\r\n",
        challenge.answer("GET", path, (user, password), &crate::proto::unique_word())
    );
    match http::get(target, port, tls, path, &header, context.deadline).await {
        Some(page) if (200..400).contains(&page.status) => Answer::Accepted,
        Some(page) if matches!(page.status, 429 | 503) => Answer::Throttled,
        Some(_) => Answer::Rejected,
        None => Answer::Silent,
    }
}
