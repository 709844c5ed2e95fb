//! What an image starts at boot, read from every init system embedded Linux uses: the
//! busybox and sysvinit `/etc/inittab`; `rcS`, `rc.local`, the `S??` scripts busybox's
//! rcS runs and the scripts linked from `/etc/rc?.d`, `/etc/rcS.d` and OpenWrt's
//! `/etc/rc.d` (procd scripts included: their `procd_set_param command` lines are read
//! like any other); inetd's `/etc/inetd.conf`; xinetd services not marked `disable =
//! yes`; and systemd units that are enabled (linked from a `.wants` or `.requires`
//! directory), with the service a socket unit activates; and cron's `@reboot` jobs.
//!
//! Each command comes with its file and line. Commented-out lines are never read, and a
//! script, unit or service that nothing starts contributes nothing.

use std::collections::BTreeSet;

use crate::checks::{Context, active_lines};
use crate::vfs::NodeKind;

/// One command line started at boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BootCommand {
    /// The file it is written in.
    pub path: String,
    pub line: u64,
    /// The active line (for xinetd, the `server` and its arguments).
    pub command: String,
    /// The container chain of the file.
    pub container: String,
    /// The account the boot configuration runs it as, where it says: a systemd unit's
    /// `User=`, procd's `procd_set_param user`, xinetd's `user`, inetd's user field.
    /// A privilege drop on the command line itself is the command's to read.
    pub user: Option<String>,
}

/// Everything started at boot, and the files read to find it.
pub(crate) struct Boot {
    pub commands: Vec<BootCommand>,
    pub files: Vec<String>,
}

const SYSTEMD_DIRECTORIES: &[&str] = &[
    "/etc/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
];

impl Boot {
    /// Reads the boot configuration of the image.
    pub fn read(context: &Context<'_>) -> Boot {
        let vfs = context.vfs;
        let limit = context.limits.max_file_read;
        let mut scripts: Vec<String> = Vec::new();
        let mut add = |path: &str| {
            if let Some(node) = vfs.resolve(path)
                && node.kind == NodeKind::File
                && !scripts.contains(&node.path)
            {
                scripts.push(node.path.clone());
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
        // busybox's rcS runs /etc/init.d/S??*; sysvinit and procd run the S links of
        // rc?.d, rcS.d and rc.d.
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
                parent.starts_with("/etc/rc")
                    && parent.ends_with(".d")
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
        let units = enabled_units(context);
        for unit in &units {
            add(unit);
        }
        let mut commands = Vec::new();
        for path in &scripts {
            let Ok(text) = vfs.read_text(path, limit) else {
                continue;
            };
            let container = vfs.container_of(path);
            let is_unit = path.ends_with(".service") || path.ends_with(".socket");
            let user = run_as(path, &text);
            let inetd = path == "/etc/inetd.conf";
            for (line, content) in active_lines(&text) {
                if is_unit
                    && !["ExecStart", "ExecStartPre", "ExecStartPost", "ListenStream"]
                        .iter()
                        .any(|key| content.starts_with(key))
                {
                    continue;
                }
                // inetd: service, socket type, protocol, wait, user, server, arguments.
                let user = if inetd {
                    content.split_whitespace().nth(4).map(str::to_owned)
                } else {
                    user.clone()
                };
                commands.push(BootCommand {
                    path: path.clone(),
                    line,
                    command: content.to_owned(),
                    container: container.clone(),
                    user,
                });
            }
        }
        let mut files = scripts;
        for (path, found) in xinetd_services(context) {
            if !files.contains(&path) {
                files.push(path);
            }
            commands.extend(found);
        }
        for job in reboot_jobs(context) {
            if !files.contains(&job.path) {
                files.push(job.path.clone());
            }
            commands.push(job);
        }
        Boot { commands, files }
    }
}

/// cron's `@reboot` entries: the system crontab and cron.d (with a user field) and the
/// users' crontabs.
fn reboot_jobs(context: &Context<'_>) -> Vec<BootCommand> {
    let vfs = context.vfs;
    let limit = context.limits.max_file_read;
    let mut tables: Vec<(String, bool)> = vec![("/etc/crontab".to_owned(), true)];
    for (directory, system) in [
        ("/etc/cron.d", true),
        ("/var/spool/cron/crontabs", false),
        ("/etc/crontabs", false),
        ("/var/spool/cron", false),
    ] {
        for node in vfs.under(directory) {
            if node.kind == NodeKind::File
                && node.path.matches('/').count() == directory.matches('/').count() + 1
            {
                tables.push((node.path.clone(), system));
            }
        }
    }
    let mut jobs = Vec::new();
    for (path, system) in tables {
        let Ok(text) = vfs.read_text(&path, limit) else {
            continue;
        };
        for (line, content) in active_lines(&text) {
            let Some(rest) = content.strip_prefix("@reboot") else {
                continue;
            };
            let mut fields = rest.trim_start();
            let mut user = None;
            if system {
                let (name, command) = fields
                    .split_once(char::is_whitespace)
                    .unwrap_or((fields, ""));
                user = Some(name.to_owned());
                fields = command.trim_start();
            }
            jobs.push(BootCommand {
                path: path.clone(),
                line,
                command: fields.to_owned(),
                container: vfs.container_of(&path),
                user,
            });
        }
    }
    jobs
}

/// The account a unit or a procd script runs its commands as (the last setting wins,
/// as systemd reads it).
fn run_as(path: &str, text: &str) -> Option<String> {
    let unit = path.ends_with(".service");
    active_lines(text)
        .filter_map(|(_, content)| {
            let value = if unit {
                content.strip_prefix("User=")?
            } else {
                content
                    .strip_prefix("procd_set_param")?
                    .trim_start()
                    .strip_prefix("user")?
            };
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            (!value.is_empty()).then(|| value.to_owned())
        })
        .last()
}

/// Unit files started at boot: the targets of links in `.wants`/`.requires`
/// directories, and the services enabled sockets activate.
fn enabled_units(context: &Context<'_>) -> Vec<String> {
    let vfs = context.vfs;
    let mut enabled = BTreeSet::new();
    for directory in SYSTEMD_DIRECTORIES {
        for node in vfs.under(directory) {
            let parent = node.path.rsplit_once('/').map_or("", |(head, _)| head);
            if !(parent.ends_with(".wants") || parent.ends_with(".requires")) {
                continue;
            }
            let name = node.path.rsplit('/').next().unwrap_or("");
            // A link names its unit; resolve it where systemd would look.
            let unit = vfs
                .resolve(&node.path)
                .filter(|unit| unit.kind == NodeKind::File)
                .map(|unit| unit.path.clone())
                .or_else(|| find_unit(context, name));
            if let Some(unit) = unit {
                enabled.insert(unit);
            }
        }
    }
    let sockets: Vec<String> = enabled
        .iter()
        .filter(|unit| unit.ends_with(".socket"))
        .cloned()
        .collect();
    for socket in sockets {
        let stem = socket
            .rsplit('/')
            .next()
            .unwrap_or("")
            .trim_end_matches(".socket");
        for service in [format!("{stem}.service"), format!("{stem}@.service")] {
            if let Some(unit) = find_unit(context, &service) {
                enabled.insert(unit);
            }
        }
    }
    enabled.into_iter().collect()
}

/// A unit by name, in systemd's search order.
fn find_unit(context: &Context<'_>, name: &str) -> Option<String> {
    SYSTEMD_DIRECTORIES.iter().find_map(|directory| {
        context
            .vfs
            .resolve(&format!("{directory}/{name}"))
            .filter(|unit| unit.kind == NodeKind::File)
            .map(|unit| unit.path.clone())
    })
}

/// The settings of one xinetd service being read.
#[derive(Default)]
struct XinetdService {
    /// The line of `server`.
    line: u64,
    server: String,
    arguments: String,
    disabled: bool,
    user: Option<String>,
}

/// xinetd's services that are not disabled, per file: `server` and `server_args`.
fn xinetd_services(context: &Context<'_>) -> Vec<(String, Vec<BootCommand>)> {
    let vfs = context.vfs;
    if vfs.resolve("/etc/xinetd.conf").is_none() && vfs.resolve("/etc/xinetd.d").is_none() {
        return Vec::new();
    }
    let mut paths = vec!["/etc/xinetd.conf".to_owned()];
    paths.extend(
        vfs.under("/etc/xinetd.d")
            .filter(|node| node.kind == NodeKind::File)
            .map(|node| node.path.clone()),
    );
    let mut found = Vec::new();
    for path in paths {
        let Ok(text) = vfs.read_text(&path, context.limits.max_file_read) else {
            continue;
        };
        let container = vfs.container_of(&path);
        let mut commands = Vec::new();
        let mut service: Option<XinetdService> = None;
        for (line, content) in active_lines(&text) {
            if content.starts_with("service ") {
                service = Some(XinetdService::default());
                continue;
            }
            if content.starts_with('}') {
                if let Some(ended) = service.take()
                    && !ended.disabled
                    && !ended.server.is_empty()
                {
                    commands.push(BootCommand {
                        path: path.clone(),
                        line: ended.line,
                        command: format!("{} {}", ended.server, ended.arguments)
                            .trim()
                            .to_owned(),
                        container: container.clone(),
                        user: ended.user,
                    });
                }
                continue;
            }
            let Some((key, value)) = content.split_once('=') else {
                continue;
            };
            if let Some(current) = service.as_mut() {
                let value = value.trim().to_owned();
                match key.trim() {
                    "server" => (current.line, current.server) = (line, value),
                    "server_args" => current.arguments = value,
                    "disable" => current.disabled = value == "yes",
                    "user" => current.user = Some(value),
                    _ => {}
                }
            }
        }
        found.push((path, commands));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::with_context;

    fn boot(entries: &[(&str, &str)]) -> Vec<(String, u64, String)> {
        with_context(entries, |context| {
            Boot::read(context)
                .commands
                .into_iter()
                .map(|command| (command.path, command.line, command.command))
                .collect()
        })
    }

    #[test]
    fn only_what_is_enabled_is_started() {
        let commands = boot(&[
            (
                "/lib/systemd/system/telnet.socket",
                "[Socket]\nListenStream=23\nAccept=yes\n",
            ),
            (
                "/lib/systemd/system/telnet@.service",
                "[Service]\nExecStart=-/usr/sbin/in.telnetd\n",
            ),
            (
                "/lib/systemd/system/ftp.service",
                "[Service]\nExecStart=/usr/sbin/vsftpd\n",
            ),
            (
                "/etc/systemd/system/sockets.target.wants/telnet.socket",
                "->/lib/systemd/system/telnet.socket",
            ),
            (
                "/etc/xinetd.d/tftp",
                "service tftp\n{\n\tserver = /usr/sbin/in.tftpd\n\tserver_args = -s /srv\n\tdisable = no\n}\n",
            ),
            (
                "/etc/xinetd.d/rlogin",
                "service login\n{\n\tserver = /usr/sbin/in.rlogind\n\tdisable = yes\n}\n",
            ),
            ("/etc/rc.d/S50telnet", "->../init.d/telnet"),
            (
                "/etc/init.d/telnet",
                "#!/bin/sh /etc/rc.common\nSTART=50\nUSE_PROCD=1\nstart_service() {\n\tprocd_open_instance\n\tprocd_set_param command /usr/sbin/telnetd -F\n}\n",
            ),
            ("/etc/init.d/unused", "/usr/sbin/ftpd\n"),
        ]);
        let text: Vec<String> = commands
            .iter()
            .map(|(_, _, command)| command.clone())
            .collect();
        assert!(text.iter().any(|c| c == "ListenStream=23"), "{text:?}");
        assert!(
            text.iter().any(|c| c == "ExecStart=-/usr/sbin/in.telnetd"),
            "{text:?}"
        );
        assert!(
            !text.iter().any(|c| c.contains("vsftpd")),
            "not enabled: {text:?}"
        );
        assert!(
            text.iter().any(|c| c == "/usr/sbin/in.tftpd -s /srv"),
            "{text:?}"
        );
        assert!(
            !text.iter().any(|c| c.contains("rlogind")),
            "disabled: {text:?}"
        );
        assert!(
            text.iter()
                .any(|c| c == "procd_set_param command /usr/sbin/telnetd -F"),
            "{text:?}"
        );
        assert!(
            !text
                .iter()
                .any(|c| c.contains("ftpd") && !c.contains("tftpd")),
            "{text:?}"
        );
        let tftp = commands
            .iter()
            .find(|(_, _, c)| c.contains("in.tftpd"))
            .unwrap();
        assert_eq!((tftp.0.as_str(), tftp.1), ("/etc/xinetd.d/tftp", 3));
    }
}
