//! `firmware.file-permissions`: setuid-root programs and world-writable files.

use provisor_engine::{Outcome, Severity};

use std::sync::OnceLock;

use serde::Deserialize;

use crate::checks::{Check, CheckMeta, Context};
use crate::vfs::{Node, NodeKind};
use provisor_engine::FindingSink;

/// Walks every entry's mode. A world-writable regular file fails (any process can
/// change it; a world-writable boot script or configuration is a privilege escalation),
/// as does a world-writable directory without the sticky bit. A program that is
/// set-uid or set-gid root fails, with its owner and mode, unless it is one of the usual
/// system programs whose job needs it (su, passwd, mount, ping, PAM's password helper
/// and the others listed with examples in `data/privileged-programs.toml`) in a system
/// directory: those are noted. A set-uid root BusyBox fails (every applet, shells
/// included, then runs as root) unless `/etc/busybox.conf` says which applets keep the
/// privilege. Set-uid or set-gid programs of other accounts are noted, to be justified.
/// Software should run with least privilege (5.6-7). Symlinks (always mode 777) and
/// sticky directories such as `/tmp` are fine.
pub struct FileModes;

static META: CheckMeta = CheckMeta {
    id: "firmware.file-permissions",
    title: "setuid programs and world-writable files",
    provisions: &["5.6-7"],
};

impl Check for FileModes {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        for node in context.vfs.nodes() {
            let mode = node.mode;
            let container = node.container.to_string();
            match node.kind {
                NodeKind::File if mode & 0o002 != 0 => {
                    let boot =
                        node.path.starts_with("/etc/init.d/") || node.path.starts_with("/etc/rc");
                    sink.add(
                        META.id,
                        META.provisions,
                        Outcome::Fail,
                        if boot {
                            Severity::High
                        } else {
                            Severity::Medium
                        },
                        format!(
                            "{} is world-writable (mode {:04o})",
                            node.path,
                            mode & 0o7777
                        ),
                    )
                    .detail(if boot {
                        "any process can change a script that runs as root at boot"
                    } else {
                        "any process can change this file"
                    })
                    .at(&node.path, None, &container)
                    .evidence(serde_json::json!({"mode": format!("{:04o}", mode & 0o7777)}))
                    .record();
                }
                NodeKind::Directory if mode & 0o002 != 0 && mode & 0o1000 == 0 => {
                    sink.add(
                        META.id,
                        META.provisions,
                        Outcome::Fail,
                        Severity::Medium,
                        format!(
                            "directory {} is world-writable without the sticky bit",
                            node.path
                        ),
                    )
                    .at(&node.path, None, &container)
                    .evidence(serde_json::json!({"mode": format!("{:04o}", mode & 0o7777)}))
                    .record();
                }
                NodeKind::File if mode & 0o6000 != 0 => {
                    privileged(context, node, sink);
                }
                _ => {}
            }
        }
    }
}

/// `data/privileged-programs.toml`.
#[derive(Deserialize)]
struct ProgramFile {
    #[cfg_attr(not(test), allow(dead_code))]
    examples: Vec<String>,
    #[cfg_attr(not(test), allow(dead_code))]
    negative_examples: Vec<String>,
    program: Vec<Program>,
}

/// Usual privileged programs and why they need it.
#[derive(Deserialize)]
struct Program {
    names: Vec<String>,
    why: String,
}

fn programs() -> &'static ProgramFile {
    static FILE: OnceLock<ProgramFile> = OnceLock::new();
    FILE.get_or_init(|| {
        toml::from_str(include_str!("../../../data/privileged-programs.toml"))
            .expect("data/privileged-programs.toml is valid")
    })
}

/// The directories system programs live in.
const SYSTEM_DIRECTORIES: &[&str] = &[
    "/bin/",
    "/sbin/",
    "/usr/bin/",
    "/usr/sbin/",
    "/usr/local/bin/",
    "/usr/local/sbin/",
    "/usr/lib",
    "/usr/libexec/",
    "/lib",
];

/// Why a usual privileged program needs its privilege, when `path` is one.
fn usual(path: &str) -> Option<&'static str> {
    if !SYSTEM_DIRECTORIES
        .iter()
        .any(|directory| path.starts_with(directory))
    {
        return None;
    }
    let name = path.rsplit('/').next()?;
    programs()
        .program
        .iter()
        .find(|program| program.names.iter().any(|usual| usual == name))
        .map(|program| program.why.as_str())
}

/// Judges one set-uid or set-gid program.
fn privileged(context: &Context<'_>, node: &Node, sink: &mut FindingSink) {
    let mode = node.mode & 0o7777;
    let setuid = mode & 0o4000 != 0;
    let setgid = mode & 0o2000 != 0;
    let root = (setuid && node.uid == 0) || (setgid && node.gid == 0);
    let bits = match (setuid, setgid) {
        (true, true) => "set-uid and set-gid",
        (true, false) => "set-uid",
        _ => "set-gid",
    };
    let whose = match (setuid, setgid) {
        (true, true) => format!("uid {} and gid {}", node.uid, node.gid),
        (true, false) => format!("uid {}", node.uid),
        _ => format!("gid {}", node.gid),
    };
    let busybox = node.path.ends_with("/busybox");
    let configured = busybox && context.vfs.resolve("/etc/busybox.conf").is_some();
    let (outcome, severity, title, detail) = if !root {
        (
            Outcome::Info,
            Severity::Info,
            format!("{} is {bits} ({whose})", node.path),
            "runs with another account's privileges; justify why it needs them".to_owned(),
        )
    } else if busybox && !configured {
        (
            Outcome::Fail,
            Severity::High,
            format!("{} is {bits} root (mode {mode:04o})", node.path),
            "a set-uid root multi-call binary runs every applet, shells included, as root; \
             drop the bit, or list the applets that need it in /etc/busybox.conf"
                .to_owned(),
        )
    } else if busybox {
        (
            Outcome::Info,
            Severity::Info,
            format!("{} is {bits} root, its applets configured", node.path),
            "/etc/busybox.conf says which applets keep root privileges".to_owned(),
        )
    } else if let Some(why) = usual(&node.path) {
        (
            Outcome::Info,
            Severity::Info,
            format!("{} is {bits} root, as usual", node.path),
            format!("a usual system program: it {why}"),
        )
    } else {
        (
            Outcome::Fail,
            Severity::High,
            format!("{} is {bits} root (mode {mode:04o})", node.path),
            "any user who can run it gets root privileges for what it does; a program that \
             is not one of the usual system ones (su, passwd, mount, ping, ...) should run \
             with the least privilege it needs: drop the bit, or give it a capability or a \
             service account"
                .to_owned(),
        )
    };
    sink.add(META.id, META.provisions, outcome, severity, title)
        .detail(detail)
        .at(&node.path, None, node.container.as_ref())
        .evidence(serde_json::json!({
            "mode": format!("{mode:04o}"),
            "uid": node.uid,
            "gid": node.gid,
        }))
        .record();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_programs_are_told_from_unusual_ones() {
        let file = programs();
        for path in &file.examples {
            assert!(usual(path).is_some(), "{path} is usual");
        }
        for path in &file.negative_examples {
            assert!(usual(path).is_none(), "{path} is not usual");
        }
    }
}
