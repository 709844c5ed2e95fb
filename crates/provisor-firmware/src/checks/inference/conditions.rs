//! `firmware.condition-inference`: answers to conditions the image shows.

use crate::checks::accounts::accounts;
use crate::checks::services::boot::Boot;
use crate::checks::{Check, CheckMeta, Context, active_lines};
use provisor_engine::FindingSink;

/// Infers answers to the conditions that decide applicability from what the image
/// contains, each with its evidence: passwords are used (1) when an account has a
/// password; an update mechanism exists (12) when an update client is installed
/// (sysupgrade, swupdate, rauc, mender, opkg, fwupd, or a script named like an update
/// tool, or an update framework's configuration: SWUpdate, RAUC, Mender, fwupd, opkg
/// feeds), delivered over a network (11) when one of them names an http(s) URL; a debug
/// interface exists (13) when a serial console is configured in inittab; security
/// parameters are stored (14) when password hashes or private keys are present; user
/// data is stored (24) when Wi-Fi credentials are configured (OpenWrt's wireless,
/// wpa_supplicant) or a writable data partition is mounted (`/etc/fstab`); users
/// authenticate against the device (8) when an account has a password. The answers are
/// numbered in V2.1.1 and carried into V3.1.3 by its migration map (1 to a, 8 to d, 11 to
/// j, 12 to 12 and so g, 13 to r and so q, 14 to k); the V3.1.3 features with no V2.1.1
/// condition are inferred in their own numbering: authentication over a network
/// interface (e) when a login daemon (SSH, telnet, FTP, rlogin) is started at boot, and a
/// debug interface (q) when a debug daemon (gdbserver, adbd) is. `provisor check` uses
/// an inference where the manufacturer gave no answer, and shows where a declared answer
/// contradicts one.
pub struct ConditionInference;

static META: CheckMeta = CheckMeta {
    id: "firmware.condition-inference",
    title: "answers to conditions inferred from the image",
    provisions: &["5.1-1", "5.3-2", "5.6-4", "5.4-1", "5.11-1"],
};

use provisor_catalog::EN303645_V3_1_3 as V3;

/// Daemons that authenticate users over the network.
const LOGIN_DAEMONS: &[&str] = &[
    "dropbear",
    "sshd",
    "telnetd",
    "utelnetd",
    "in.telnetd",
    "rlogind",
    "in.rlogind",
    "ftpd",
    "vsftpd",
    "pure-ftpd",
    "proftpd",
];

/// Debug daemons (as `firmware.debug-access` names them).
const DEBUG_DAEMONS: &[&str] = &["gdbserver", "adbd"];

const UPDATE_TOOLS: &[&str] = &[
    "sysupgrade",
    "swupdate",
    "rauc",
    "mender",
    "opkg",
    "fwupd",
    "fwupdmgr",
];

impl Check for ConditionInference {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        let vfs = context.vfs;
        let accounts = accounts(context);
        if let Some(account) = accounts.iter().find(|account| !account.is_locked()) {
            sink.infer(
                1,
                true,
                format!(
                    "account {} has a password in {}",
                    account.name, account.path
                ),
            );
        }
        if let Some(account) = accounts.iter().find(|account| !account.is_locked()) {
            sink.infer(
                8,
                true,
                format!(
                    "account {} can authenticate with a password ({})",
                    account.name, account.path
                ),
            );
        }
        for started in Boot::read(context).commands {
            let words: Vec<&str> = started
                .command
                .split(|c: char| c.is_whitespace() || matches!(c, '=' | ':' | ';' | '&' | '"'))
                .map(|word| word.rsplit('/').next().unwrap_or(word))
                .collect();
            let place = format!("{}:{}", started.path, started.line);
            if let Some(daemon) = words.iter().find(|word| LOGIN_DAEMONS.contains(word)) {
                sink.infer_in(
                    V3,
                    "e",
                    true,
                    format!("{daemon} is started at boot ({place})"),
                );
            }
            if let Some(daemon) = words.iter().find(|word| DEBUG_DAEMONS.contains(word)) {
                sink.infer_in(
                    V3,
                    "q",
                    true,
                    format!("{daemon} is started at boot ({place})"),
                );
            }
        }
        if let Some(account) = accounts
            .iter()
            .find(|account| !account.is_locked() && !account.hash.is_empty())
        {
            sink.infer(
                14,
                true,
                format!(
                    "password hash of account {} stored in {}",
                    account.name, account.path
                ),
            );
        }

        let updater = vfs.files().find(|node| {
            let name = node.path.rsplit('/').next().unwrap_or("");
            let in_bin = ["/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/"]
                .iter()
                .any(|directory| node.path.starts_with(directory));
            in_bin
                && (UPDATE_TOOLS.contains(&name)
                    || name.contains("fw-update")
                    || name.contains("firmware-update")
                    || name.contains("fwupgrade"))
        });
        if let Some(updater) = updater {
            sink.infer(12, true, format!("update client {}", updater.path));
            if let Ok(text) = vfs.read_text(&updater.path, 1 << 20)
                && (text.contains("http://") || text.contains("https://"))
            {
                sink.infer(11, true, format!("{} downloads from a URL", updater.path));
            }
        }

        // Update frameworks, by their configuration.
        for path in [
            "/etc/swupdate.cfg",
            "/etc/rauc/system.conf",
            "/etc/mender/mender.conf",
            "/etc/opkg.conf",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain(
            vfs.under("/etc/fwupd/remotes.d")
                .map(|node| node.path.clone()),
        ) {
            let Ok(text) = vfs.read_text(&path, 1 << 20) else {
                continue;
            };
            sink.infer(12, true, format!("update framework configured in {path}"));
            if let Some((line, _)) = active_lines(&text)
                .find(|(_, line)| line.contains("http://") || line.contains("https://"))
            {
                sink.infer(11, true, format!("{path}:{line} names an update server"));
            }
        }
        // Keys kept on the device.
        if let Some(key) = vfs.files().find(|node| {
            node.path.starts_with("/etc/ssl/private/")
                || (node.path.starts_with("/etc/dropbear/") && node.path.ends_with("_host_key"))
        }) {
            sink.infer(14, true, format!("private key stored at {}", key.path));
        }
        // User data: Wi-Fi credentials, writable data partitions.
        for path in [
            "/etc/config/wireless",
            "/etc/wpa_supplicant.conf",
            "/etc/wpa_supplicant/wpa_supplicant.conf",
        ] {
            if vfs.resolve(path).is_some() {
                sink.infer(
                    24,
                    true,
                    format!("Wi-Fi settings and credentials are kept in {path}"),
                );
                break;
            }
        }
        if let Ok(fstab) = vfs.read_text("/etc/fstab", 1 << 20)
            && let Some((line, entry)) = active_lines(&fstab).find(|(_, line)| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                fields.len() >= 4
                    && [
                        "/data",
                        "/overlay",
                        "/userdata",
                        "/mnt/data",
                        "/mnt/sd",
                        "/media",
                    ]
                    .iter()
                    .any(|mount| fields[1].starts_with(mount))
                    && !fields[3].split(',').any(|option| option == "ro")
            })
        {
            sink.infer(
                24,
                true,
                format!("writable data partition in /etc/fstab:{line}: {entry}"),
            );
        }

        if let Ok(inittab) = vfs.read_text("/etc/inittab", 1 << 20)
            && let Some((line, entry)) = active_lines(&inittab).find(|(_, line)| {
                let id = line.split(':').next().unwrap_or("");
                ["ttyS", "ttyAMA", "ttyO", "ttymxc", "console", "ttyUSB"]
                    .iter()
                    .any(|prefix| id.starts_with(prefix))
            })
        {
            sink.infer(
                13,
                true,
                format!("serial console in /etc/inittab:{line}: {entry}"),
            );
        }
    }
}
