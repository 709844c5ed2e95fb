//! `firmware.web-server-config`: lighttpd and nginx running as root or offering legacy
//! TLS.

use provisor_engine::{Outcome, Severity};

use super::config::{directives, legacy_protocols, weak_ciphers};
use crate::checks::{Check, CheckMeta, Context, active_lines};
use crate::finding::FindingSink;

/// Reads lighttpd's configuration (`/etc/lighttpd/lighttpd.conf` and the `conf-enabled`
/// files) and nginx's (`/etc/nginx/nginx.conf`, `conf.d`, `sites-enabled`). Without
/// `server.username` lighttpd keeps running as root, and nginx's `user root;` runs its
/// workers as root, so any flaw in the server or its CGI scripts is a root compromise
/// (5.6-7). With TLS enabled, a minimum protocol below TLS 1.2 (lighttpd's `MinProtocol`
/// or `ssl.use-sslv3`, nginx's `ssl_protocols`) or a cipher list enabling broken suites
/// (RC4, DES and 3DES, NULL, export, anonymous, MD5; lighttpd's `ssl.cipher-list`,
/// nginx's `ssl_ciphers`) offers connections with known attacks (5.5-1). Commented-out
/// lines are not read.
pub struct WebServerConfig;

static META: CheckMeta = CheckMeta {
    id: "firmware.web-server-config",
    title: "web servers running as root or offering legacy TLS",
    provisions: &["5.6-7", "5.5-1"],
};

const LEGACY: &[&str] = &["SSLv3", "TLSv1", "TLSv1.0", "TLSv1.1"];

impl Check for WebServerConfig {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        nginx(context, sink);
        lighttpd(context, sink);
    }
}

/// nginx's configuration files: the main file and what it usually includes.
fn nginx(context: &Context<'_>, sink: &mut FindingSink) {
    let vfs = context.vfs;
    let mut paths = vec!["/etc/nginx/nginx.conf".to_owned()];
    for directory in ["/etc/nginx/conf.d", "/etc/nginx/sites-enabled"] {
        paths.extend(vfs.under(directory).map(|node| node.path.clone()));
    }
    for path in paths {
        let Ok(text) = vfs.read_text(&path, context.limits.max_file_read) else {
            continue;
        };
        let container = vfs.container_of(&path);
        for (key, value, line) in directives(&text) {
            let value = value.trim_end_matches(';').trim();
            let problem = match key.as_str() {
                "user" if value.split_whitespace().next() == Some("root") => Some((
                    &["5.6-7"][..],
                    Severity::Medium,
                    "nginx runs its workers as root (user root)".to_owned(),
                    "set `user` to an unprivileged account (www-data)",
                )),
                "ssl_protocols" => {
                    let legacy = legacy_protocols(value);
                    (!legacy.is_empty()).then(|| {
                        (
                            &["5.5-1"][..],
                            Severity::High,
                            format!("nginx accepts {}", legacy.join(" and ")),
                            "ssl_protocols TLSv1.2 TLSv1.3;",
                        )
                    })
                }
                "ssl_ciphers" => {
                    let weak = weak_ciphers(value);
                    (!weak.is_empty()).then(|| {
                        (
                            &["5.5-1"][..],
                            Severity::High,
                            format!("nginx enables weak cipher suites ({})", weak.join(", ")),
                            "list only AEAD suites with forward secrecy, or leave ssl_ciphers at nginx's default",
                        )
                    })
                }
                _ => None,
            };
            if let Some((provisions, severity, title, detail)) = problem {
                sink.add(META.id, provisions, Outcome::Fail, severity, title)
                    .detail(detail)
                    .at(&path, Some(line), &container)
                    .record();
            }
        }
    }
}

/// lighttpd's main file and the enabled configuration snippets.
fn lighttpd(context: &Context<'_>, sink: &mut FindingSink) {
    let vfs = context.vfs;
    let main = "/etc/lighttpd/lighttpd.conf";
    let Ok(text) = vfs.read_text(main, context.limits.max_file_read) else {
        return;
    };
    let mut files = vec![(main.to_owned(), text)];
    for node in vfs.under("/etc/lighttpd/conf-enabled") {
        if let Ok(text) = vfs.read_text(&node.path, context.limits.max_file_read) {
            files.push((node.path.clone(), text));
        }
    }
    let mut username = false;
    for (path, text) in &files {
        let container = vfs.container_of(path);
        for (line, content) in active_lines(text) {
            username |= content.starts_with("server.username");
            let legacy = LEGACY.iter().find(|version| {
                content.contains("MinProtocol") && content.contains(&format!("\"{version}\""))
            });
            let sslv3 = content.starts_with("ssl.use-sslv3") && content.contains("enable");
            if content.starts_with("ssl.cipher-list") {
                let weak = weak_ciphers(content.split_once('=').map_or("", |(_, v)| v));
                if !weak.is_empty() {
                    sink.add(
                        META.id,
                        &["5.5-1"],
                        Outcome::Fail,
                        Severity::High,
                        format!("lighttpd enables weak cipher suites ({})", weak.join(", ")),
                    )
                    .detail("list only AEAD suites with forward secrecy")
                    .at(path, Some(line), &container)
                    .record();
                }
            }
            if legacy.is_some() || sslv3 {
                let version = legacy.copied().unwrap_or("SSLv3");
                sink.add(
                        META.id,
                        META.provisions,
                        Outcome::Fail,
                        Severity::High,
                        format!("lighttpd accepts {version}"),
                    )
                    .detail("require TLS 1.2 or later: ssl.openssl.ssl-conf-cmd = (\"MinProtocol\" => \"TLSv1.2\")")
                    .at(path, Some(line), &container)
                    .record();
            }
        }
    }
    if !username {
        let container = vfs.container_of(main);
        sink.add(
            META.id,
            META.provisions,
            Outcome::Fail,
            Severity::Medium,
            "lighttpd runs as root (no server.username)",
        )
        .detail("set server.username and server.groupname to an unprivileged account")
        .at(main, None, &container)
        .record();
    }
}
