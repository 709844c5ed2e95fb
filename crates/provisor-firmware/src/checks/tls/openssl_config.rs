//! `firmware.openssl-config`: system-wide OpenSSL defaults that re-enable legacy TLS.

use provisor_engine::{Outcome, Severity};

use crate::checks::services::config::{legacy_protocols, weak_ciphers};
use crate::checks::{Check, CheckMeta, Context, active_lines, pass_if_clean};
use provisor_engine::FindingSink;

/// Reads the OpenSSL configuration every program linked with libssl loads
/// (`/etc/ssl/openssl.cnf`, `/usr/lib/ssl/openssl.cnf`, `/etc/pki/tls/openssl.cnf`).
/// `MinProtocol` below TLSv1.2, a `CipherString` that enables broken suites, and
/// `@SECLEVEL=0` (which accepts any key size and SHA-1) weaken every TLS client and
/// server on the device at once (5.5-1). Commented-out lines are not read.
pub struct OpenSslConfig;

static META: CheckMeta = CheckMeta {
    id: "firmware.openssl-config",
    title: "system-wide OpenSSL defaults that allow legacy TLS",
    provisions: &["5.5-1"],
};

const FILES: &[&str] = &[
    "/etc/ssl/openssl.cnf",
    "/usr/lib/ssl/openssl.cnf",
    "/etc/pki/tls/openssl.cnf",
];

impl Check for OpenSslConfig {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        let vfs = context.vfs;
        let mut read = Vec::new();
        for path in FILES {
            // /usr/lib/ssl/openssl.cnf is usually a link to /etc/ssl/openssl.cnf.
            let Some(node) = vfs.resolve(path) else {
                continue;
            };
            if read.contains(&node.path) {
                continue;
            }
            let Ok(text) = vfs.read_text(&node.path, context.limits.max_file_read) else {
                continue;
            };
            let path = node.path.clone();
            let container = vfs.container_of(&path);
            for (line, content) in active_lines(&text) {
                let Some((key, value)) = content.split_once('=') else {
                    continue;
                };
                let value = value.split('#').next().unwrap_or("").trim();
                let problem = match key.trim() {
                    "MinProtocol" => legacy_protocols(value)
                        .first()
                        .map(|version| format!("OpenSSL's default minimum protocol is {version}")),
                    "CipherString" | "Ciphersuites" => {
                        let weak = weak_ciphers(value);
                        (!weak.is_empty()).then(|| {
                            format!(
                                "OpenSSL's default cipher string enables {}",
                                weak.join(", ")
                            )
                        })
                    }
                    _ => None,
                };
                if let Some(title) = problem {
                    sink.add(META.id, META.provisions, Outcome::Fail, Severity::High, title)
                        .detail("every TLS client and server on the device inherits it; keep MinProtocol = TLSv1.2 and the default security level")
                        .at(&path, Some(line), &container)
                        .record();
                }
            }
            read.push(path);
        }
        let title = format!(
            "OpenSSL's system-wide defaults keep TLS 1.2 and strong suites ({})",
            read.join(", ")
        );
        if let Some(pass) = pass_if_clean(sink, &META, !read.is_empty(), title) {
            pass.record();
        }
    }
}
