//! `firmware.debug-access`: shells on serial consoles without login, and debug daemons.

use provisor_engine::{Outcome, Severity};

use super::boot::Boot;
use crate::checks::{Check, CheckMeta, Context, active_lines};
use provisor_engine::FindingSink;

/// Reads `/etc/inittab` and the boot scripts for debug access left enabled in
/// software: a shell started directly on a serial console (`ttyS0::respawn:/bin/sh`,
/// `::askfirst:-/bin/sh`) gives whoever touches the UART pads a root shell without a
/// password, and debug daemons (gdbserver, adbd) started at boot by any init system
/// (see `firmware.plaintext-login-service` for those read) expose the device to
/// anyone on the network. 5.6-4 asks that a physically accessible debug interface be
/// disabled in software (in V3.1.3 a serial console is 5.6-4A and 5.6-4B, a debug daemon
/// 5.6-4A: the evidence's `interface` says which). A console with `getty` or `login` asks for credentials and is
/// fine; commented-out lines are not read.
pub struct DebugAccess;

static META: CheckMeta = CheckMeta {
    id: "firmware.debug-access",
    title: "shells on serial consoles without login, and debug daemons",
    provisions: &["5.6-4", "5.6-1"],
};

const SHELLS: &[&str] = &["sh", "ash", "bash", "hush", "msh", "-sh", "-ash", "-bash"];
const DEBUG_DAEMONS: &[&str] = &["gdbserver", "adbd", "dropbear-debug"];

impl Check for DebugAccess {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        let vfs = context.vfs;
        let limit = context.limits.max_file_read;
        if let Ok(inittab) = vfs.read_text("/etc/inittab", limit) {
            for (line, entry) in active_lines(&inittab) {
                let fields: Vec<&str> = entry.splitn(4, ':').collect();
                if fields.len() < 4 {
                    continue;
                }
                let (terminal, action, process) = (fields[0], fields[2], fields[3]);
                let program = process
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .rsplit('/')
                    .next()
                    .unwrap_or("");
                let console = terminal.is_empty()
                    || [
                        "ttyS", "ttyAMA", "ttyO", "ttymxc", "console", "ttyUSB", "ttyGS",
                    ]
                    .iter()
                    .any(|prefix| terminal.starts_with(prefix));
                let interactive = matches!(action, "respawn" | "askfirst" | "once");
                if console && interactive && SHELLS.contains(&program) {
                    let terminal = if terminal.is_empty() {
                        "the console"
                    } else {
                        terminal
                    };
                    sink.add(
                        META.id,
                        META.provisions,
                        Outcome::Fail,
                        Severity::High,
                        format!("a shell runs on {terminal} without login"),
                    )
                    .detail(format!("`{entry}` gives a root shell to anyone on the serial port; start getty or login instead"))
                    .at("/etc/inittab", Some(line), &vfs.container_of("/etc/inittab"))
                    .evidence(serde_json::json!({"interface": "serial", "terminal": terminal}))
                    .record();
                }
            }
        }
        for started in Boot::read(context).commands {
            let daemon = started
                .command
                .split(|c: char| c.is_whitespace() || matches!(c, '=' | ':' | ';' | '&'))
                .map(|word| word.rsplit('/').next().unwrap_or(word))
                .find(|word| DEBUG_DAEMONS.contains(word));
            if let Some(daemon) = daemon {
                sink.add(
                    META.id,
                    META.provisions,
                    Outcome::Fail,
                    Severity::High,
                    format!("{daemon} is started at boot"),
                )
                .detail(format!(
                    "`{}` leaves a debugging service running on the device",
                    started.command
                ))
                .at(&started.path, Some(started.line), &started.container)
                .evidence(serde_json::json!({"interface": "network", "daemon": daemon}))
                .record();
            }
        }
    }
}
