//! `firmware.ssh-config`: SSH servers that accept passwords or root logins.

use provisor_engine::{Outcome, Severity};

use super::config::{directives, is_on, uci_options};
use crate::checks::{Check, CheckMeta, Context, active_lines, pass_if_clean};
use provisor_engine::FindingSink;

/// Reads how the SSH server is configured — OpenWrt's `/etc/config/dropbear`
/// (`PasswordAuth`, `RootPasswordAuth`, `RootLogin`), dropbear's command line in init
/// scripts (`-s` disables passwords, `-g` root passwords, `-w` root logins) and
/// OpenSSH's `/etc/ssh/sshd_config` (`PasswordAuthentication`, `PermitRootLogin`,
/// `PermitEmptyPasswords`). Password logins over the network, for root above all, are
/// what brute-force and default-credential attacks need (5.1-1, 5.1-5); empty passwords
/// fail outright. Keys-only configurations pass.
pub struct SshConfig;

static META: CheckMeta = CheckMeta {
    id: "firmware.ssh-config",
    title: "SSH servers accepting password or root logins",
    provisions: &["5.1-5", "5.1-1", "5.5-1"],
};

impl Check for SshConfig {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        let vfs = context.vfs;
        let limit = context.limits.max_file_read;
        let mut flag = |path: &str, line: u64, title: String, severity: Severity| {
            let container = vfs.container_of(path);
            sink.add(META.id, META.provisions, Outcome::Fail, severity, title)
                .at(path, Some(line), &container)
                .record();
        };
        let mut examined = false;
        if let Ok(text) = vfs.read_text("/etc/config/dropbear", limit) {
            examined = true;
            for option in uci_options(&text) {
                match option.name.as_str() {
                    "PasswordAuth" if is_on(&option.value) => flag(
                        "/etc/config/dropbear",
                        option.line,
                        "dropbear accepts password logins (PasswordAuth on)".into(),
                        Severity::Medium,
                    ),
                    "RootPasswordAuth" if is_on(&option.value) => flag(
                        "/etc/config/dropbear",
                        option.line,
                        "dropbear accepts root logins with a password (RootPasswordAuth on)".into(),
                        Severity::High,
                    ),
                    _ => {}
                }
            }
        }
        if let Ok(text) = vfs.read_text("/etc/ssh/sshd_config", limit) {
            examined = true;
            for (key, value, line) in directives(&text) {
                let value = value.to_ascii_lowercase();
                match key.as_str() {
                    "PasswordAuthentication" if value == "yes" => flag(
                        "/etc/ssh/sshd_config",
                        line,
                        "sshd accepts password logins (PasswordAuthentication yes)".into(),
                        Severity::Medium,
                    ),
                    "PermitRootLogin" if value == "yes" => flag(
                        "/etc/ssh/sshd_config",
                        line,
                        "sshd accepts root logins with a password (PermitRootLogin yes)".into(),
                        Severity::High,
                    ),
                    "PermitEmptyPasswords" if value == "yes" => flag(
                        "/etc/ssh/sshd_config",
                        line,
                        "sshd accepts empty passwords (PermitEmptyPasswords yes)".into(),
                        Severity::Critical,
                    ),
                    _ => {}
                }
            }
        }
        // dropbear started by a script without -s accepts passwords.
        let scripts: Vec<String> = vfs
            .under("/etc/init.d")
            .map(|node| node.path.clone())
            .chain(std::iter::once("/etc/inittab".to_owned()))
            .collect();
        for path in scripts {
            let Ok(text) = vfs.read_text(&path, limit) else {
                continue;
            };
            for (line, content) in active_lines(&text) {
                let words: Vec<&str> = content.split_whitespace().collect();
                let Some(start) = words
                    .iter()
                    .position(|word| word.rsplit('/').next() == Some("dropbear"))
                else {
                    continue;
                };
                examined = true;
                let flags: String = words[start + 1..]
                    .iter()
                    .filter(|word| word.starts_with('-') && !word.starts_with("--"))
                    .map(|word| word.trim_start_matches('-'))
                    .collect();
                if !flags.contains('s') {
                    let root = !flags.contains('g') && !flags.contains('w');
                    flag(
                        &path,
                        line,
                        if root {
                            "dropbear is started accepting password logins, root included (no -s, -g or -w)".into()
                        } else {
                            "dropbear is started accepting password logins (no -s)".into()
                        },
                        if root {
                            Severity::High
                        } else {
                            Severity::Medium
                        },
                    );
                }
            }
        }
        let title = "the SSH server accepts neither password nor root password logins".to_owned();
        if let Some(pass) = pass_if_clean(sink, &META, examined, title) {
            pass.record();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenWrt's dropbear init script builds the command over many lines: the weakness
    /// is read once, with every line that builds it.
    #[test]
    fn an_init_script_building_one_command_gives_one_finding() {
        let script = "#!/bin/sh /etc/rc.common\n\
            START=19\n\
            USE_PROCD=1\n\
            PROG=/usr/sbin/dropbear\n\
            NAME=dropbear\n\
            PIDCOUNT=0\n\
            dropbear_instance() {\n\
            \tprocd_open_instance\n\
            \tprocd_set_param command \"$PROG\" -F -P /var/run/dropbear.1.pid\n\
            \t[ \"${PasswordAuth}\" -eq 0 ] && procd_append_param command -s\n\
            \tprocd_append_param command -p 22\n\
            \tprocd_close_instance\n\
            }\n\
            start_service() {\n\
            \t/usr/sbin/dropbear -p 22\n\
            \t/usr/sbin/dropbear -p 2222\n\
            }\n";
        crate::checks::with_context(&[("/etc/init.d/dropbear", script)], |context| {
            let mut sink = FindingSink::new();
            SshConfig.run(context, &mut sink);
            let failing: Vec<_> = sink
                .findings()
                .iter()
                .filter(|finding| finding.outcome == Outcome::Fail)
                .collect();
            assert_eq!(failing.len(), 1, "{failing:#?}");
            assert_eq!(failing[0].location.line, Some(4));
            assert_eq!(
                failing[0].evidence["lines"],
                serde_json::json!([4, 15, 16]),
                "{:#?}",
                failing[0]
            );
        });
    }
}
