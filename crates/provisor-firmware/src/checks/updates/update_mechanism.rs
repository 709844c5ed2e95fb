//! `firmware.update-mechanism`: update clients, their transport and signature checks.

use provisor_engine::{Outcome, Severity};

use crate::checks::services::boot::{Boot, BootCommand};
use crate::checks::{Check, CheckMeta, Context, active_lines};
use provisor_engine::FindingSink;

/// Finds how the image installs updates — update scripts in the program and init
/// directories (a script that downloads with wget or curl and writes flash with mtd,
/// flashcp, dd to an MTD or block device, or sysupgrade), and opkg's
/// `/etc/opkg.conf` — and judges each: a download over plain `http://` can be
/// tampered with on the way (5.3-7, 5.5-1); a script that flashes what it downloaded
/// without verifying a signature first (openssl dgst/pkeyutl/smime -verify, usign -V,
/// signify -V, minisign -V, gpg --verify) installs whatever it is given (5.3-9,
/// 5.3-10); opkg without `option check_signature` installs unsigned packages. A script
/// that verifies before flashing passes. The update frameworks are read from their own
/// configuration: SWUpdate (`/etc/swupdate.cfg`: a plain-HTTP suricatta server, no
/// `public-key-file` and no `-k` where it is started), RAUC (`/etc/rauc/system.conf`
/// without a `[keyring]`, or with its file missing), Mender (`/etc/mender/mender.conf`:
/// a plain-HTTP `ServerURL`, `SkipVerify`, no `ArtifactVerifyKey`) and fwupd (remotes
/// with plain-HTTP metadata, `OnlyTrusted=false`); each one configured safely passes.
/// Update clients built as programs (named like update tools, and doing what one does:
/// fetching over the network and naming the flash, a flashing tool or a firmware image)
/// are judged by their strings: an `http://` address is a plain-HTTP download; whether
/// they link a signature verification function is reported, not judged. Programs named
/// `update-*` that manage something else (update-alternatives, update-passwd, PAM's
/// unix_update) are left alone. Commented-out lines are
/// not read.
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
        let boot = Boot::read(context);
        swupdate(context, &boot.commands, sink);
        rauc(context, sink);
        mender(context, sink);
        fwupd(context, sink);
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
                    && (name.contains("update")
                        || name.contains("upgrade")
                        || name.starts_with("ota"))
            })
            .map(|node| node.path.clone())
            .collect();
        for path in candidates {
            let Ok(bytes) = vfs.read(&path, limit) else {
                continue;
            };
            if bytes.starts_with(b"\x7fELF") {
                if updates_firmware(&bytes) {
                    elf_client(&path, &bytes, &vfs.container_of(&path), sink);
                }
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
            if !checks_signatures && let Some((line, content)) = feed {
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

/// Functions an update client calls to verify a signature (OpenSSL, mbed TLS, wolfSSL,
/// libsodium, GPGME), as they appear among an ELF file's strings.
const VERIFY_FUNCTIONS: &[&str] = &[
    "RSA_verify",
    "ECDSA_verify",
    "EVP_DigestVerify",
    "EVP_PKEY_verify",
    "EVP_VerifyFinal",
    "mbedtls_pk_verify",
    "wc_SignatureVerify",
    "crypto_sign_verify_detached",
    "crypto_sign_open",
    "gpgme_op_verify",
];

/// An update client built as an ELF program: the URLs among its strings are its
/// transport; the verification functions it links say whether it can check a
/// signature at all.
/// Functions a program fetches with.
const NETWORK_IMPORTS: &[&str] = &[
    "connect",
    "getaddrinfo",
    "gethostbyname",
    "curl_easy_perform",
    "SSL_connect",
    "mbedtls_net_connect",
    "wolfSSL_connect",
];
/// What a program that installs firmware names: the flash, the tools that write it,
/// the images it writes.
const INSTALL_MARKERS: &[&str] = &[
    "/dev/mtd",
    "/dev/mmcblk",
    "/dev/ubi",
    "mtd write",
    "sysupgrade",
    "flashcp",
    "flash_erase",
    "nandwrite",
    "ubiupdatevol",
    "fw_setenv",
    "firmware",
    "swupdate",
    "rauc",
];

/// Whether a program named like an updater is one by what it does: it fetches (it
/// imports network functions or holds a URL) and it installs firmware (it names the
/// flash, a flashing tool or a firmware image). `update-alternatives`, `update-passwd`
/// and PAM's `unix_update` do neither.
fn updates_firmware(bytes: &[u8]) -> bool {
    let imports = crate::checks::binaries::elf::ElfView::parse(bytes)
        .map(|view| {
            view.imports()
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let has = |marker: &str| memchr::memmem::find(bytes, marker.as_bytes()).is_some();
    let fetches = NETWORK_IMPORTS
        .iter()
        .any(|name| imports.iter().any(|import| import == name))
        || has("http://")
        || has("https://");
    fetches && INSTALL_MARKERS.iter().any(|marker| has(marker))
}

fn elf_client(path: &str, bytes: &[u8], container: &str, sink: &mut FindingSink) {
    let plain = memchr::memmem::find_iter(bytes, b"http://")
        .map(|start| {
            let end = bytes[start..]
                .iter()
                .position(|&byte| !(0x21..0x7f).contains(&byte))
                .map_or(bytes.len(), |length| start + length);
            String::from_utf8_lossy(&bytes[start..end]).into_owned()
        })
        .find(|url| {
            url.len() > "http://".len()
                && !url.starts_with("http://%s")
                && !url.contains("127.0.0.1")
        });
    if let Some(url) = plain {
        sink.add(
            META.id,
            TRANSPORT,
            Outcome::Fail,
            Severity::High,
            format!("{path} downloads updates over plain HTTP"),
        )
        .detail(format!("the program contains the address {url}: anyone on the path can replace the update; use https with a pinned trust anchor"))
        .at(path, None, container)
        .evidence(serde_json::json!({"url": url}))
        .record();
    }
    let verifies = VERIFY_FUNCTIONS
        .iter()
        .find(|function| memchr::memmem::find(bytes, function.as_bytes()).is_some());
    let (outcome, title) = match verifies {
        Some(function) => (
            Outcome::Info,
            format!("{path} links a signature verification function ({function})"),
        ),
        None => (
            Outcome::Inconclusive,
            format!("{path} links no known signature verification function"),
        ),
    };
    sink.add(META.id, SIGNATURE, outcome, Severity::Info, title)
        .detail("whether the program verifies an update before writing it cannot be read from the image alone; the manufacturer's statement for 5.3-10 decides")
        .at(path, None, container)
        .record();
}

/// What an update's transport is judged against.
const TRANSPORT: &[&str] = &["5.3-7", "5.5-1"];
/// What an update's signature check is judged against.
const SIGNATURE: &[&str] = &["5.3-10", "5.3-9"];

/// Records a finding of the update frameworks' configuration.
fn framework_finding(
    sink: &mut FindingSink,
    provisions: &[&str],
    outcome: Outcome,
    severity: Severity,
    title: String,
    detail: &str,
    at: (&str, Option<u64>, String),
) {
    sink.add(META.id, provisions, outcome, severity, title)
        .detail(detail)
        .at(at.0, at.1, &at.2)
        .record();
}

/// The line of the first active line containing `needle`.
fn line_with(text: &str, needle: &str) -> Option<(u64, String)> {
    active_lines(text)
        .find(|(_, line)| line.contains(needle))
        .map(|(number, line)| (number, line.to_owned()))
}

/// SWUpdate: `/etc/swupdate.cfg` (libconfig). Signed images need a public key, given
/// as `public-key-file` or `-k` on the command line; suricatta's server URL is its
/// transport.
fn swupdate(context: &Context<'_>, boot: &[BootCommand], sink: &mut FindingSink) {
    let vfs = context.vfs;
    let path = "/etc/swupdate.cfg";
    let Ok(text) = vfs.read_text(path, 1 << 20) else {
        return;
    };
    let container = vfs.container_of(path);
    if let Some((line, content)) = line_with(&text, "http://") {
        framework_finding(
            sink,
            TRANSPORT,
            Outcome::Fail,
            Severity::High,
            "SWUpdate fetches updates over plain HTTP".into(),
            &format!("`{content}`: use https"),
            (path, Some(line), container.clone()),
        );
    }
    let key_in_config = line_with(&text, "public-key-file");
    let key_on_command_line = boot.iter().find(|started| {
        started.command.contains("swupdate")
            && started.command.split_whitespace().any(|word| word == "-k")
    });
    match (key_in_config, key_on_command_line) {
        (Some((line, _)), _) => framework_finding(
            sink,
            META.provisions,
            Outcome::Pass,
            Severity::Info,
            "SWUpdate verifies update signatures (public-key-file)".into(),
            "",
            (path, Some(line), container),
        ),
        (None, Some(started)) => framework_finding(
            sink,
            META.provisions,
            Outcome::Pass,
            Severity::Info,
            "SWUpdate verifies update signatures (-k)".into(),
            "",
            (&started.path, Some(started.line), started.container.clone()),
        ),
        (None, None) => framework_finding(
            sink,
            SIGNATURE,
            Outcome::Fail,
            Severity::Critical,
            "SWUpdate installs images without verifying a signature".into(),
            "neither public-key-file in /etc/swupdate.cfg nor -k where swupdate is started: build SWUpdate with signed images and give it the vendor's public key",
            (path, None, container),
        ),
    }
}

/// RAUC: `/etc/rauc/system.conf`. Every bundle is verified against the `[keyring]`;
/// without one (or with the file missing) nothing can be installed safely.
fn rauc(context: &Context<'_>, sink: &mut FindingSink) {
    let vfs = context.vfs;
    let path = "/etc/rauc/system.conf";
    let Ok(text) = vfs.read_text(path, 1 << 20) else {
        return;
    };
    let container = vfs.container_of(path);
    let mut section = "";
    let mut keyring = None;
    for (line, content) in active_lines(&text) {
        if content.starts_with('[') {
            section = content;
        } else if section == "[keyring]"
            && let Some(value) = content
                .strip_prefix("path=")
                .or_else(|| content.strip_prefix("path ="))
        {
            keyring = Some((line, value.trim().to_owned()));
        }
    }
    match keyring {
        Some((line, keyring)) => {
            let file = if keyring.starts_with('/') {
                keyring.clone()
            } else {
                format!("/etc/rauc/{keyring}")
            };
            if vfs.resolve(&file).is_some() {
                framework_finding(
                    sink,
                    META.provisions,
                    Outcome::Pass,
                    Severity::Info,
                    format!("RAUC verifies bundles against the keyring {file}"),
                    "",
                    (path, Some(line), container),
                );
            } else {
                framework_finding(
                    sink,
                    SIGNATURE,
                    Outcome::Fail,
                    Severity::High,
                    format!("RAUC's keyring {file} is not in the image"),
                    "RAUC cannot verify bundles without its keyring; ship the vendor's CA",
                    (path, Some(line), container),
                );
            }
        }
        None => framework_finding(
            sink,
            SIGNATURE,
            Outcome::Fail,
            Severity::High,
            "RAUC has no keyring to verify bundles against".into(),
            "add a [keyring] section with the path of the vendor's CA",
            (path, None, container),
        ),
    }
}

/// Mender: `/etc/mender/mender.conf` (JSON): `ServerURL` is the transport,
/// `ArtifactVerifyKey` the signature check, `SkipVerify` turns off TLS verification.
fn mender(context: &Context<'_>, sink: &mut FindingSink) {
    let vfs = context.vfs;
    let path = "/etc/mender/mender.conf";
    let Ok(text) = vfs.read_text(path, 1 << 20) else {
        return;
    };
    let container = vfs.container_of(path);
    let Ok(config) = serde_json::from_str::<serde_json::Value>(&text) else {
        return;
    };
    let line = |key: &str| line_with(&text, &format!("\"{key}\"")).map(|(line, _)| line);
    if config["ServerURL"]
        .as_str()
        .is_some_and(|url| url.starts_with("http://"))
    {
        framework_finding(
            sink,
            TRANSPORT,
            Outcome::Fail,
            Severity::High,
            "Mender talks to its server over plain HTTP".into(),
            "set ServerURL to an https URL",
            (path, line("ServerURL"), container.clone()),
        );
    }
    if config["SkipVerify"].as_bool() == Some(true) {
        framework_finding(
            sink,
            TRANSPORT,
            Outcome::Fail,
            Severity::High,
            "Mender does not verify its server's TLS certificate (SkipVerify)".into(),
            "remove SkipVerify: anyone on the path can impersonate the update server",
            (path, line("SkipVerify"), container.clone()),
        );
    }
    let verify_key = ["ArtifactVerifyKey", "ArtifactVerifyKeys"]
        .iter()
        .find(|key| !config[**key].is_null());
    match verify_key {
        Some(key) => framework_finding(
            sink,
            META.provisions,
            Outcome::Pass,
            Severity::Info,
            format!("Mender verifies artifact signatures ({key})"),
            "",
            (path, line(key), container),
        ),
        None => framework_finding(
            sink,
            SIGNATURE,
            Outcome::Fail,
            Severity::Critical,
            "Mender installs artifacts without verifying a signature".into(),
            "set ArtifactVerifyKey to the vendor's public key so that only signed artifacts install",
            (path, None, container),
        ),
    }
}

/// fwupd: remotes (`/etc/fwupd/remotes.d/*.conf`) fetch metadata over their
/// `MetadataURI`; `OnlyTrusted=false` in `/etc/fwupd/fwupd.conf` or `daemon.conf`
/// installs firmware without a trusted signature.
fn fwupd(context: &Context<'_>, sink: &mut FindingSink) {
    let vfs = context.vfs;
    let remotes: Vec<String> = vfs
        .under("/etc/fwupd/remotes.d")
        .map(|node| node.path.clone())
        .collect();
    for path in remotes {
        let Ok(text) = vfs.read_text(&path, 1 << 20) else {
            continue;
        };
        let enabled =
            !active_lines(&text).any(|(_, line)| line.replace(' ', "") == "Enabled=false");
        if let Some((line, content)) = line_with(&text, "http://").filter(|_| enabled) {
            framework_finding(
                sink,
                TRANSPORT,
                Outcome::Fail,
                Severity::High,
                "fwupd fetches firmware metadata over plain HTTP".into(),
                &format!("`{content}`: use https"),
                (&path, Some(line), vfs.container_of(&path)),
            );
        }
    }
    for path in ["/etc/fwupd/fwupd.conf", "/etc/fwupd/daemon.conf"] {
        let Ok(text) = vfs.read_text(path, 1 << 20) else {
            continue;
        };
        if let Some((line, _)) =
            active_lines(&text).find(|(_, line)| line.replace(' ', "") == "OnlyTrusted=false")
        {
            framework_finding(
                sink,
                SIGNATURE,
                Outcome::Fail,
                Severity::Critical,
                "fwupd installs firmware without a trusted signature (OnlyTrusted=false)".into(),
                "remove OnlyTrusted=false",
                (path, Some(line), vfs.container_of(path)),
            );
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
