//! `firmware.plaintext-login-service`: telnet, FTP, TFTP and rlogin started at boot.

use provisor_engine::{Outcome, Severity};

use super::boot::Boot;
use crate::checks::{Check, CheckMeta, Context, pass_if_clean};
use provisor_engine::FindingSink;

/// Reads what starts at boot — busybox `/etc/inittab`, `/etc/init.d/rcS`, the `S??`
/// scripts it runs, scripts linked from `/etc/rc?.d`, `/etc/rcS.d` and OpenWrt's
/// `/etc/rc.d` (procd services included), `/etc/inetd.conf`, xinetd services not
/// disabled, and enabled systemd units and the services their sockets activate — and flags daemons that offer remote logins or file transfer in
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

impl Check for PlaintextLogin {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        let boot = Boot::read(context);
        for started in &boot.commands {
            let Some((daemon, protocol)) = daemon_in(&started.command) else {
                continue;
            };
            sink.add(
                META.id,
                META.provisions,
                Outcome::Fail,
                Severity::High,
                format!("{daemon} ({protocol}, plaintext) is started at boot"),
            )
            .detail(format!(
                "`{}` starts a {protocol} service: logins and data cross the network unencrypted",
                started.command
            ))
            .at(&started.path, Some(started.line), &started.container)
            .evidence(serde_json::json!({"daemon": daemon, "protocol": protocol, "line": started.command}))
            .record();
        }
        let files = boot.files;
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
