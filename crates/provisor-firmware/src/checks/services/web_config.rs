//! `firmware.web-server-config`: lighttpd running as root or offering legacy TLS.

use provisor_engine::{Outcome, Severity};

use crate::checks::{Check, CheckMeta, Context, active_lines};
use crate::finding::FindingSink;

/// Reads lighttpd's configuration (`/etc/lighttpd/lighttpd.conf` and the `conf-enabled`
/// files). Without `server.username` the server keeps running as root, so any flaw in it
/// or its CGI scripts is a root compromise (5.6-7). With TLS enabled, a minimum protocol
/// below TLS 1.2 (`ssl.openssl.ssl-conf-cmd` `MinProtocol`, `ssl.use-sslv3`) offers
/// versions with known attacks (5.5-1). Commented-out lines are not read.
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
}
