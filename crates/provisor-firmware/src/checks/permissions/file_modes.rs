//! `firmware.file-permissions`: setuid-root programs and world-writable files.

use provisor_engine::{Outcome, Severity};

use crate::checks::{Check, CheckMeta, Context};
use crate::vfs::NodeKind;
use provisor_engine::FindingSink;

/// Walks every entry's mode. A world-writable regular file fails (any process can
/// change it; a world-writable boot script or configuration is a privilege escalation),
/// as does a world-writable directory without the sticky bit. A setuid-root BusyBox
/// fails: every applet, shell included, then runs as root. Other setuid and setgid
/// programs are listed as information, to be justified. Software should run with least
/// privilege (5.6-7). Symlinks (always mode 777) and sticky directories such as `/tmp`
/// are fine.
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
                    let setuid_root = mode & 0o4000 != 0 && node.uid == 0;
                    let busybox = node.path.ends_with("/busybox");
                    let bits = match (mode & 0o4000 != 0, mode & 0o2000 != 0) {
                        (true, true) => "setuid and setgid",
                        (true, false) => "setuid",
                        _ => "setgid",
                    };
                    let owner = if setuid_root { " root" } else { "" };
                    let (outcome, severity) = if setuid_root && busybox {
                        (Outcome::Fail, Severity::High)
                    } else {
                        (Outcome::Info, Severity::Info)
                    };
                    sink.add(
                        META.id,
                        META.provisions,
                        outcome,
                        severity,
                        format!("{} is {bits}{owner}", node.path),
                    )
                    .detail(if busybox {
                        "a setuid-root multi-call binary runs every applet, shells included, as root"
                    } else {
                        "justify why this program needs elevated privileges"
                    })
                    .at(&node.path, None, &container)
                    .evidence(serde_json::json!({"mode": format!("{:04o}", mode & 0o7777), "uid": node.uid}))
                    .record();
                }
                _ => {}
            }
        }
    }
}
