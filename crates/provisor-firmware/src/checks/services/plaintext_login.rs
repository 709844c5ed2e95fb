//! `firmware.plaintext-login-service`: telnet, FTP, TFTP and rlogin started at boot.

use provisor_engine::{Outcome, Severity};

use crate::checks::{Check, CheckMeta, Context, active_lines, pass_if_clean};
use crate::finding::FindingSink;
use crate::vfs::NodeKind;

/// Reads what starts at boot — busybox `/etc/inittab`, `/etc/init.d/rcS`, the `S??`
/// scripts it runs, scripts linked from `/etc/rc?.d` and `/etc/rcS.d`, `/etc/inetd.conf`,
/// and systemd units — and flags daemons that offer remote logins or file transfer in
/// plaintext: telnetd, ftpd, tftpd, rlogind, rshd. Credentials and data cross the network
/// in the clear (5.5-7, 5.5-1) through an interface a device rarely needs (5.6-1).
/// Commented-out lines and scripts that nothing starts are not flagged.
pub struct PlaintextLogin;

static META: CheckMeta = CheckMeta {
    id: "firmware.plaintext-login-service",
    title: "plaintext remote login or file-transfer daemons started at boot",
    provisions: &["5.6-1", "5.5-7", "5.5-1"],
};

const DAEMONS: &[(&str, &str)] = &[
    ("telnetd", "telnet"),
    ("utelnetd", "telnet"),
    ("in.telnetd", "telnet"),
    ("ftpd", "FTP"),
    ("vsftpd", "FTP"),
    ("pure-ftpd", "FTP"),
    ("proftpd", "FTP"),
    ("tftpd", "TFTP"),
    ("in.tftpd", "TFTP"),
    ("rlogind", "rlogin"),
    ("in.rlogind", "rlogin"),
    ("rshd", "rsh"),
    ("in.rshd", "rsh"),
];

/// The plaintext daemon a command line starts, if any: a word of the line, or its
/// file name, is one of the daemons.
fn daemon_in(line: &str) -> Option<(&'static str, &'static str)> {
    line.split(|c: char| c.is_whitespace() || matches!(c, ':' | ';' | '&' | '|' | '"' | '\'' | '='))
        .map(|word| word.rsplit('/').next().unwrap_or(word))
        .find_map(|word| DAEMONS.iter().find(|(name, _)| *name == word).copied())
}

/// The files whose active lines start services.
fn boot_files(context: &Context<'_>) -> Vec<String> {
    let vfs = context.vfs;
    let mut files: Vec<String> = Vec::new();
    let mut add = |path: &str| {
        if let Some(node) = vfs.resolve(path) {
            if node.kind == NodeKind::File && !files.contains(&node.path) {
                files.push(node.path.clone());
            }
        }
    };
    for path in [
        "/etc/inittab",
        "/etc/init.d/rcS",
        "/etc/rc.local",
        "/etc/inetd.conf",
    ] {
        add(path);
    }
    // busybox's rcS runs /etc/init.d/S??*; sysvinit runs the S links of rc?.d.
    for node in vfs.under("/etc/init.d") {
        let name = node.path.rsplit('/').next().unwrap_or("");
        if name.starts_with('S') && node.path.matches('/').count() == 3 {
            add(&node.path);
        }
    }
    let links: Vec<String> = vfs
        .nodes()
        .filter(|node| {
            let parent = node.path.rsplit_once('/').map_or("", |(head, _)| head);
            (parent.starts_with("/etc/rc") && parent.ends_with(".d"))
                && node
                    .path
                    .rsplit('/')
                    .next()
                    .is_some_and(|name| name.starts_with('S'))
        })
        .map(|node| node.path.clone())
        .collect();
    for link in links {
        add(&link);
    }
    let units: Vec<String> = vfs
        .nodes()
        .filter(|node| {
            (node.path.starts_with("/etc/systemd/system/")
                || node.path.starts_with("/lib/systemd/system/")
                || node.path.starts_with("/usr/lib/systemd/system/"))
                && (node.path.ends_with(".service") || node.path.ends_with(".socket"))
        })
        .map(|node| node.path.clone())
        .collect();
    for unit in units {
        add(&unit);
    }
    files
}

impl Check for PlaintextLogin {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        let files = boot_files(context);
        for path in &files {
            let path = path.as_str();
            let Ok(text) = context.vfs.read_text(path, context.limits.max_file_read) else {
                continue;
            };
            let is_unit = path.ends_with(".service") || path.ends_with(".socket");
            for (line_number, line) in active_lines(&text) {
                if is_unit && !(line.starts_with("ExecStart") || line.starts_with("ListenStream")) {
                    continue;
                }
                let Some((daemon, protocol)) = daemon_in(line) else {
                    continue;
                };
                let container = context.vfs.container_of(path);
                sink.add(
                    META.id,
                    META.provisions,
                    Outcome::Fail,
                    Severity::High,
                    format!("{daemon} ({protocol}, plaintext) is started at boot"),
                )
                .detail(format!(
                    "`{line}` starts a {protocol} service: logins and data cross the network unencrypted"
                ))
                .at(path, Some(line_number), &container)
                .evidence(serde_json::json!({"daemon": daemon, "protocol": protocol, "line": line}))
                .record();
            }
        }
        let title = format!(
            "no plaintext login or file-transfer daemon is started at boot ({} boot files read)",
            files.len()
        );
        if let Some(pass) = pass_if_clean(sink, &META, !files.is_empty(), title) {
            pass.detail(files.join(", ")).record();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemons_are_found_by_word() {
        assert_eq!(
            daemon_in("::respawn:/usr/sbin/telnetd -F -l /bin/login")
                .unwrap()
                .0,
            "telnetd"
        );
        assert_eq!(daemon_in("telnetd -l /bin/sh &").unwrap().0, "telnetd");
        assert_eq!(
            daemon_in("start-stop-daemon -S -x /usr/sbin/vsftpd")
                .unwrap()
                .0,
            "vsftpd"
        );
        assert!(daemon_in("echo no telnet here").is_none());
        assert!(daemon_in("/usr/sbin/telnetd-helper").is_none());
    }
}
