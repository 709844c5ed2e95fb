//! `firmware.update-mechanism`: update clients, their transport and signature checks.

use provisor_engine::{Outcome, Severity};

use crate::checks::{Check, CheckMeta, Context, active_lines};
use crate::finding::FindingSink;

/// Finds how the image installs updates — update scripts in the program and init
/// directories (a script that downloads with wget or curl and writes flash with mtd,
/// flashcp, dd to an MTD or block device, or sysupgrade), and opkg's
/// `/etc/opkg.conf` — and judges each: a download over plain `http://` can be
/// tampered with on the way (5.3-7, 5.5-1); a script that flashes what it downloaded
/// without verifying a signature first (openssl dgst/pkeyutl/smime -verify, usign -V,
/// signify -V, minisign -V, gpg --verify) installs whatever it is given (5.3-9,
/// 5.3-10); opkg without `option check_signature` installs unsigned packages. A script
/// that verifies before flashing passes. Commented-out lines are not read.
pub struct UpdateMechanism;

static META: CheckMeta = CheckMeta {
    id: "firmware.update-mechanism",
    title: "update clients: transport and signature verification",
    provisions: &["5.3-10", "5.3-9", "5.3-7", "5.3-2"],
};

const DOWNLOADERS: &[&str] = &["wget", "curl", "uclient-fetch", "tftp"];
const FLASHERS: &[&str] = &[
    "mtd",
    "flashcp",
    "flash_erase",
    "nandwrite",
    "sysupgrade",
    "fw_setenv",
    "dd",
];
const VERIFIERS: &[&str] = &[
    "-verify",
    "usign -V",
    "signify -V",
    "minisign -V",
    "gpg --verify",
    "gpgv",
    "rauc install",
    "swupdate -k",
];

fn words(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')' | '`' | '$'))
        .map(|word| word.rsplit('/').next().unwrap_or(word))
}

/// An update script's lines of interest: downloads, flash writes and verifications.
struct Script {
    downloads: Vec<(u64, String)>,
    plain_http: Vec<(u64, String)>,
    flashes: Vec<(u64, String)>,
    first_verify: Option<u64>,
}

fn read_script(text: &str) -> Script {
    let mut script = Script {
        downloads: Vec::new(),
        plain_http: Vec::new(),
        flashes: Vec::new(),
        first_verify: None,
    };
    for (line, content) in active_lines(text) {
        if words(content).any(|word| DOWNLOADERS.contains(&word)) {
            script.downloads.push((line, content.to_owned()));
            if content.contains("http://") {
                script.plain_http.push((line, content.to_owned()));
            }
        }
        let writes_flash = words(content).any(|word| FLASHERS.contains(&word))
            && (!content.contains(" dd ") && !content.starts_with("dd ")
                || content.contains("of=/dev/mtd")
                || content.contains("of=/dev/mmcblk"));
        if writes_flash {
            script.flashes.push((line, content.to_owned()));
        }
        if script.first_verify.is_none() && VERIFIERS.iter().any(|verify| content.contains(verify))
        {
            script.first_verify = Some(line);
        }
    }
    script
}

impl Check for UpdateMechanism {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        let vfs = context.vfs;
        let limit = context.limits.max_file_read.min(1 << 20);
        let candidates: Vec<String> = vfs
            .files()
            .filter(|node| {
                let name = node.path.rsplit('/').next().unwrap_or("");
                let in_scope = [
                    "/bin/",
                    "/sbin/",
                    "/usr/bin/",
                    "/usr/sbin/",
                    "/etc/init.d/",
                    "/lib/upgrade/",
                ]
                .iter()
                .any(|directory| node.path.starts_with(directory));
                in_scope
                    && node.size < limit
                    && (name.contains("update") || name.contains("upgrade"))
            })
            .map(|node| node.path.clone())
            .collect();
        for path in candidates {
            let Ok(bytes) = vfs.read(&path, limit) else {
                continue;
            };
            if bytes.starts_with(b"\x7fELF") {
                continue;
            }
            let text = String::from_utf8_lossy(&bytes);
            let script = read_script(&text);
            if script.downloads.is_empty() && script.flashes.is_empty() {
                continue;
            }
            let container = vfs.container_of(&path);
            for (line, content) in &script.plain_http {
                sink.add(
                    META.id,
                    META.provisions,
                    Outcome::Fail,
                    Severity::High,
                    format!("{path} downloads updates over plain HTTP"),
                )
                .detail(format!("`{content}`: anyone on the path can replace the update; use https with a pinned trust anchor"))
                .at(&path, Some(*line), &container)
                .record();
            }
            let unverified = script
                .flashes
                .iter()
                .find(|(line, _)| script.first_verify.is_none_or(|verify| verify > *line));
            match unverified {
                Some((line, content)) => {
                    sink.add(
                        META.id,
                        META.provisions,
                        Outcome::Fail,
                        Severity::Critical,
                        format!("{path} writes an update to flash without verifying its signature"),
                    )
                    .detail(format!("`{content}` runs before any signature check: the device installs whatever image it is given"))
                    .at(&path, Some(*line), &container)
                    .record();
                }
                None if !script.flashes.is_empty() => {
                    let verify = script.first_verify.unwrap_or(0);
                    sink.add(
                        META.id,
                        META.provisions,
                        Outcome::Pass,
                        Severity::Info,
                        format!("{path} verifies the update's signature before writing it"),
                    )
                    .at(&path, Some(verify), &container)
                    .record();
                }
                None => {}
            }
        }
        if let Ok(text) = vfs.read_text("/etc/opkg.conf", 1 << 20) {
            let container = vfs.container_of("/etc/opkg.conf");
            let checks_signatures = active_lines(&text).any(|(_, line)| {
                line.starts_with("option check_signature")
                    && !line.trim_end().ends_with(" 0")
                    && !line.trim_end().ends_with(" false")
            });
            let feed = active_lines(&text).find(|(_, line)| line.starts_with("src"));
            if !checks_signatures {
                if let Some((line, content)) = feed {
                    sink.add(
                        META.id,
                        META.provisions,
                        Outcome::Fail,
                        Severity::High,
                        "opkg installs packages without checking their signatures",
                    )
                    .detail(format!("`{content}` is a package feed and /etc/opkg.conf has no `option check_signature`"))
                    .at("/etc/opkg.conf", Some(line), &container)
                    .record();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flashing_before_verifying_is_found() {
        let unsafe_script = "#!/bin/sh\nwget http://updates.example/fw.bin -O /tmp/fw\nmtd write /tmp/fw firmware\n";
        let script = read_script(unsafe_script);
        assert_eq!(script.plain_http.len(), 1);
        assert_eq!(script.flashes[0].0, 3);
        assert_eq!(script.first_verify, None);
        let safe = "wget https://u.example/fw -O /tmp/fw\nopenssl dgst -sha256 -verify /etc/k.pem -signature /tmp/fw.sig /tmp/fw || exit 1\nmtd write /tmp/fw firmware\n";
        let script = read_script(safe);
        assert!(script.plain_http.is_empty());
        assert_eq!(script.first_verify, Some(2));
        assert!(
            read_script("dd if=/dev/zero of=/tmp/x bs=1k count=1\n")
                .flashes
                .is_empty()
        );
        assert_eq!(
            read_script("dd if=/tmp/fw of=/dev/mtdblock3\n")
                .flashes
                .len(),
            1
        );
    }
}
