//! The weak and the hardened device, in every container the build script makes.

use provisor_engine::Outcome;

use crate::{failing, images, scan};

/// Every container the build script makes, as a file-name suffix.
const CONTAINERS: &[&str] = &[
    "rootfs",
    ".xz.squashfs",
    ".gzip.squashfs",
    ".bin",
    ".cpio.gz",
    ".cpio.lzma",
    ".tar.xz",
    ".tar.bz2",
    ".tar.zst",
    ".squashfs.uimage",
    ".initramfs.uimage",
    ".lzo.squashfs",
    ".lzma.squashfs",
    ".cpio.multi.gz",
    ".fit",
    ".external.fit",
    ".trx",
    ".le.cramfs",
    ".be.cramfs",
    ".ext2",
    ".ext3",
    ".ext4",
    ".genext2fs.ext2",
    ".rev0.ext2",
    ".2k.ext3",
    ".inline.ext4",
    ".android.simg",
    ".ext2.gz",
    ".ext4.uimage",
    ".le.jffs2",
    ".be.jffs2",
    ".rtime.jffs2",
    ".lzma.jffs2",
    ".lzo.ubifs",
    ".zlib.ubifs",
    ".zstd.ubifs",
    ".ubi",
];

fn variants(device: &str) -> Vec<String> {
    CONTAINERS
        .iter()
        .map(|suffix| match *suffix {
            "rootfs" => format!("{device}/rootfs"),
            suffix => format!("{device}/{device}{suffix}"),
        })
        .collect()
}

/// (check, provision, path, line, words of the title)
const PLANTED: &[(&str, &str, &str, Option<u64>, &str)] = &[
    (
        "firmware.update-mechanism",
        "5.3-7",
        "/usr/bin/ota-update",
        None,
        "/usr/bin/ota-update downloads updates over plain HTTP",
    ),
    (
        "firmware.update-mechanism",
        "5.3-7",
        "/etc/swupdate.cfg",
        Some(7),
        "SWUpdate fetches updates over plain HTTP",
    ),
    (
        "firmware.update-mechanism",
        "5.3-10",
        "/etc/swupdate.cfg",
        None,
        "SWUpdate installs images without verifying a signature",
    ),
    (
        "firmware.update-mechanism",
        "5.3-7",
        "/etc/mender/mender.conf",
        Some(2),
        "Mender talks to its server over plain HTTP",
    ),
    (
        "firmware.update-mechanism",
        "5.5-1",
        "/etc/mender/mender.conf",
        Some(3),
        "Mender does not verify its server's TLS certificate (SkipVerify)",
    ),
    (
        "firmware.update-mechanism",
        "5.3-10",
        "/etc/mender/mender.conf",
        None,
        "Mender installs artifacts without verifying a signature",
    ),
    (
        "firmware.update-mechanism",
        "5.3-7",
        "/etc/fwupd/remotes.d/acme.conf",
        Some(4),
        "fwupd fetches firmware metadata over plain HTTP",
    ),
    (
        "firmware.update-mechanism",
        "5.3-10",
        "/etc/fwupd/fwupd.conf",
        Some(2),
        "fwupd installs firmware without a trusted signature (OnlyTrusted=false)",
    ),
    (
        "firmware.mqtt-config",
        "5.6-7",
        "/etc/mosquitto/conf.d/local.conf",
        Some(4),
        "the MQTT broker runs as root (user root)",
    ),
    (
        "firmware.mqtt-config",
        "5.5-1",
        "/etc/mosquitto/conf.d/local.conf",
        Some(8),
        "the MQTT broker accepts tlsv1",
    ),
    (
        "firmware.openssl-config",
        "5.5-1",
        "/etc/ssl/openssl.cnf",
        Some(7),
        "OpenSSL's default minimum protocol is TLSv1",
    ),
    (
        "firmware.openssl-config",
        "5.5-1",
        "/etc/ssl/openssl.cnf",
        Some(8),
        "OpenSSL's default cipher string enables DEFAULT@SECLEVEL=0",
    ),
    (
        "firmware.web-server-config",
        "5.5-1",
        "/etc/nginx/nginx.conf",
        Some(6),
        "nginx accepts TLSv1 and TLSv1.1",
    ),
    (
        "firmware.web-server-config",
        "5.5-1",
        "/etc/nginx/nginx.conf",
        Some(7),
        "nginx enables weak cipher suites (RC4-SHA)",
    ),
    (
        "firmware.web-server-config",
        "5.6-7",
        "/etc/nginx/nginx.conf",
        Some(1),
        "nginx runs its workers as root (user root)",
    ),
    (
        "firmware.certificate",
        "5.5-1",
        "/etc/ssl/certs/camera-legacy.pem",
        Some(1),
        "certificate \"CN=camera-legacy.local\" in /etc/ssl/certs/camera-legacy.pem has a 1024-bit RSA key",
    ),
    (
        "firmware.certificate",
        "5.5-1",
        "/etc/ssl/certs/camera-legacy.pem",
        Some(1),
        "certificate \"CN=camera-legacy.local\" in /etc/ssl/certs/camera-legacy.pem is signed with SHA-1",
    ),
    (
        "firmware.certificate",
        "5.5-1",
        "/etc/cloud/client.crt",
        Some(1),
        "certificate \"CN=cloud-client.acme-cam.example\" in /etc/cloud/client.crt expired on 2020-01-01",
    ),
    (
        "firmware.openwrt-config",
        "5.5-1",
        "/etc/config/uhttpd",
        Some(2),
        "the web interface (uhttpd) is served over plain HTTP only",
    ),
    (
        "firmware.openwrt-config",
        "5.6-4",
        "/etc/config/system",
        Some(3),
        "the serial console gives a root shell without login (ttylogin '0')",
    ),
    (
        "firmware.openwrt-config",
        "5.5-1",
        "/etc/config/wireless",
        Some(9),
        "the Wi-Fi network \"ACME-CAM-SETUP\" is open: no encryption",
    ),
    (
        "firmware.openwrt-config",
        "5.1-1",
        "/etc/config/wireless",
        Some(16),
        "the Wi-Fi passphrase of \"ACME-CAM\" is written in the image",
    ),
    (
        "firmware.openwrt-config",
        "5.6-1",
        "/etc/config/upnpd",
        Some(2),
        "UPnP IGD is enabled by default",
    ),
    (
        "firmware.openwrt-config",
        "5.6-1",
        "/etc/config/firewall",
        Some(3),
        "the firewall accepts every connection from the WAN",
    ),
    (
        "firmware.openwrt-config",
        "5.6-1",
        "/etc/config/firewall",
        Some(10),
        "the firewall opens port 23 (telnet) to the WAN",
    ),
    (
        "firmware.plaintext-login-service",
        "5.5-7",
        "/etc/xinetd.d/rlogin",
        Some(4),
        "in.rlogind (rlogin, plaintext) is started at boot",
    ),
    (
        "firmware.plaintext-login-service",
        "5.6-1",
        "/lib/systemd/system/vsftpd.service",
        Some(5),
        "vsftpd (FTP, plaintext) is started at boot",
    ),
    (
        "firmware.embedded-secret",
        "5.4-3",
        "/usr/bin/cloud-sync",
        Some(3),
        "AWS access key ID in /usr/bin/cloud-sync",
    ),
    (
        "firmware.embedded-secret",
        "5.4-3",
        "/usr/bin/cloud-sync",
        Some(4),
        "AWS secret access key in /usr/bin/cloud-sync",
    ),
    (
        "firmware.embedded-secret",
        "5.4-3",
        "/usr/bin/cloud-sync",
        Some(5),
        "password assigned in a script or configuration file",
    ),
    (
        "firmware.embedded-secret",
        "5.4-4",
        "/etc/config/cloud",
        Some(2),
        "Azure IoT Hub shared access key in /etc/config/cloud",
    ),
    (
        "firmware.embedded-secret",
        "5.4-3",
        "/usr/sbin/camd",
        None,
        "password in a URL in /usr/sbin/camd",
    ),
    (
        "firmware.web-server-config",
        "5.6-7",
        "/etc/init.d/S80httpd",
        Some(3),
        "busybox httpd is started as root at boot",
    ),
    (
        "firmware.embedded-secret",
        "5.4-3",
        "/usr/sbin/camd",
        None,
        "password set through chpasswd in /usr/sbin/camd",
    ),
    (
        "firmware.embedded-secret",
        "5.4-3",
        "/usr/sbin/camd",
        None,
        "passphrase given to openssl on its command line in /usr/sbin/camd",
    ),
    (
        "firmware.embedded-secret",
        "5.4-3",
        "/usr/sbin/camd",
        None,
        "HTTP basic authentication credentials in /usr/sbin/camd",
    ),
    (
        "firmware.embedded-secret",
        "5.4-3",
        "/usr/bin/cloud-sync",
        Some(6),
        "password given to curl in /usr/bin/cloud-sync",
    ),
    (
        "firmware.private-key",
        "5.4-3",
        "/root/.ssh/id_ed25519",
        Some(1),
        "OpenSSH private key (Ed25519)",
    ),
    (
        "firmware.private-key",
        "5.4-3",
        "/etc/dropbear/dropbear_rsa_host_key",
        None,
        "dropbear private key (RSA 2048-bit)",
    ),
    (
        "firmware.private-key",
        "5.4-3",
        "/etc/tls/device.der",
        None,
        "PKCS#1 (DER) private key (RSA 2048-bit)",
    ),
    (
        "firmware.private-key",
        "5.4-3",
        "/etc/tls/attestation.p8",
        None,
        "PKCS#8 (DER) private key (EC P-384)",
    ),
    (
        "firmware.private-key",
        "5.4-3",
        "/etc/vpn/client.ppk",
        Some(1),
        "PuTTY private key (Ed25519)",
    ),
    (
        "firmware.default-password",
        "5.1-1",
        "/etc/lighttpd/htpasswd",
        Some(1),
        "web user admin has the well-known password \"admin\"",
    ),
    (
        "firmware.weak-password-hash",
        "5.1-3",
        "/etc/lighttpd/htpasswd",
        Some(1),
        "web user admin has a password hashed with apr1 (md5)",
    ),
    (
        "firmware.default-password",
        "5.1-1",
        "/etc/httpd.conf",
        Some(2),
        "web user admin has the well-known password \"admin123\"",
    ),
    (
        "firmware.weak-password-hash",
        "5.1-3",
        "/etc/httpd.conf",
        Some(2),
        "web user admin has its password stored in plain text",
    ),
    (
        "firmware.default-password",
        "5.1-1",
        "/etc/mosquitto/passwd",
        Some(1),
        "MQTT user camera has the well-known password \"12345\"",
    ),
    (
        "firmware.weak-password-hash",
        "5.1-3",
        "/etc/mosquitto/passwd",
        Some(1),
        "MQTT user camera has a password hashed with salted SHA-512 (one round)",
    ),
    (
        "firmware.update-mechanism",
        "5.3-7",
        "/usr/sbin/fw-update.sh",
        Some(3),
        "/usr/sbin/fw-update.sh downloads updates over plain HTTP",
    ),
    (
        "firmware.update-mechanism",
        "5.3-10",
        "/usr/sbin/fw-update.sh",
        Some(4),
        "/usr/sbin/fw-update.sh writes an update to flash without verifying its signature",
    ),
    (
        "firmware.update-mechanism",
        "5.3-9",
        "/etc/opkg.conf",
        Some(1),
        "opkg installs packages without checking their signatures",
    ),
    (
        "firmware.debug-access",
        "5.6-4",
        "/etc/inittab",
        Some(3),
        "a shell runs on ttyS0 without login",
    ),
    (
        "firmware.debug-access",
        "5.6-4",
        "/etc/init.d/S70debug",
        Some(2),
        "gdbserver is started at boot",
    ),
    (
        "firmware.mqtt-config",
        "5.5-4",
        "/etc/mosquitto/conf.d/local.conf",
        Some(3),
        "the MQTT broker allows anonymous clients",
    ),
    (
        "firmware.mqtt-config",
        "5.5-1",
        "/etc/mosquitto/conf.d/local.conf",
        Some(2),
        "MQTT listener on port 1883 has no TLS",
    ),
    (
        "firmware.ssh-config",
        "5.1-5",
        "/etc/config/dropbear",
        Some(2),
        "dropbear accepts password logins (PasswordAuth on)",
    ),
    (
        "firmware.ssh-config",
        "5.1-5",
        "/etc/config/dropbear",
        Some(3),
        "dropbear accepts root logins with a password",
    ),
    (
        "firmware.ssh-config",
        "5.1-5",
        "/etc/init.d/S50dropbear",
        Some(2),
        "dropbear is started accepting password logins, root included",
    ),
    (
        "firmware.web-server-config",
        "5.5-1",
        "/etc/lighttpd/conf-enabled/10-ssl.conf",
        Some(5),
        "lighttpd accepts TLSv1",
    ),
    (
        "firmware.web-server-config",
        "5.6-7",
        "/etc/lighttpd/lighttpd.conf",
        None,
        "lighttpd runs as root (no server.username)",
    ),
    (
        "firmware.binary-hardening",
        "5.6-8",
        "/usr/sbin/camd",
        None,
        "/usr/sbin/camd has an executable stack",
    ),
    (
        "firmware.file-permissions",
        "5.6-7",
        "/etc/init.d/S60tftp",
        None,
        "/etc/init.d/S60tftp is world-writable (mode 0777)",
    ),
    (
        "firmware.file-permissions",
        "5.6-7",
        "/bin/busybox",
        None,
        "/bin/busybox is set-uid root (mode 4755)",
    ),
    (
        "firmware.default-password",
        "5.1-1",
        "/etc/shadow",
        Some(1),
        "account root has the well-known password \"xc3511\"",
    ),
    (
        "firmware.default-password",
        "5.1-1",
        "/etc/shadow",
        Some(2),
        "account admin has the well-known password \"admin\"",
    ),
    (
        "firmware.default-password",
        "5.1-1",
        "/etc/shadow",
        Some(3),
        "account support has an empty password",
    ),
    (
        "firmware.default-password",
        "5.1-1",
        "/etc/passwd",
        Some(4),
        "account service has the well-known password \"service\"",
    ),
    (
        "firmware.weak-password-hash",
        "5.1-3",
        "/etc/shadow",
        Some(1),
        "account root has a password hashed with md5crypt",
    ),
    (
        "firmware.weak-password-hash",
        "5.1-3",
        "/etc/passwd",
        Some(4),
        "account service has a password hashed with DES crypt",
    ),
    (
        "firmware.plaintext-login-service",
        "5.6-1",
        "/etc/inittab",
        Some(2),
        "telnetd (telnet, plaintext) is started at boot",
    ),
    (
        "firmware.plaintext-login-service",
        "5.5-7",
        "/etc/init.d/S60tftp",
        Some(3),
        "tftpd (TFTP, plaintext) is started at boot",
    ),
    (
        "firmware.private-key",
        "5.4-3",
        "/etc/ssl/private/device.key",
        Some(1),
        "PKCS#8 private key",
    ),
    (
        "firmware.private-key",
        "5.4-3",
        "/etc/lighttpd/server.pem",
        Some(20),
        "PKCS#8 private key",
    ),
    (
        "firmware.private-key",
        "5.4-4",
        "/usr/bin/cloud-register",
        Some(4),
        "PKCS#8 private key",
    ),
    (
        "firmware.boot-backdoor",
        "5.6-1",
        "/etc/rc.local",
        Some(3),
        "/usr/sbin/diagd started at boot offers a shell on the network",
    ),
    (
        "firmware.boot-backdoor",
        "5.5-5",
        "/etc/init.d/S95support",
        Some(3),
        "telnetd started at boot offers a shell on the network",
    ),
    (
        "firmware.boot-backdoor",
        "5.5-5",
        "/etc/crontabs/root",
        Some(1),
        "nc started at boot offers a shell on the network",
    ),
    (
        "firmware.plaintext-login-service",
        "5.6-1",
        "/etc/init.d/S95support",
        Some(3),
        "telnetd (telnet, plaintext) is started at boot",
    ),
    (
        "firmware.file-permissions",
        "5.6-7",
        "/usr/bin/camlogin",
        None,
        "/usr/bin/camlogin is set-uid root (mode 4755)",
    ),
    (
        "firmware.compiled-credential",
        "5.1-1",
        "/usr/bin/camlogin",
        None,
        "/usr/bin/camlogin has a credential compiled in (admin_pwd)",
    ),
    (
        "firmware.compiled-credential",
        "5.1-1",
        "/usr/bin/camlogin",
        None,
        "/usr/bin/camlogin has a credential compiled in (SERVICE_PASS)",
    ),
    (
        "firmware.compiled-credential",
        "5.1-1",
        "/usr/bin/camlogin",
        None,
        "/usr/bin/camlogin compares logins of 'admin' with a password compiled in",
    ),
    (
        "firmware.compiled-credential",
        "5.4-3",
        "/usr/bin/camlogin",
        None,
        "/usr/bin/camlogin holds the hex-encoded password of 'factory'",
    ),
    (
        "firmware.compiled-credential",
        "5.4-3",
        "/usr/bin/camlogin",
        None,
        "/usr/bin/camlogin holds the base64-encoded password of 'cloud'",
    ),
];

#[test]
fn every_planted_weakness_is_found_in_every_container() {
    let root = images();
    for variant in variants("weak") {
        let variant = variant.as_str();
        let findings = scan(&root.join(variant));
        for (check, provision, path, line, title) in PLANTED {
            let found = findings.findings.iter().any(|finding| {
                finding.check == *check
                    && finding.outcome == Outcome::Fail
                    && finding.provisions.iter().any(|p| p == provision)
                    && finding.location.path.as_deref() == Some(*path)
                    && finding.location.line == *line
                    && finding.title.contains(title)
            });
            assert!(
                found,
                "{variant}: {check} {title} at {path}:{line:?} not found in {:#?}",
                failing(&findings)
            );
        }
        assert_eq!(
            failing(&findings).len(),
            PLANTED.len(),
            "{variant}: {:#?}",
            failing(&findings)
        );
    }
}

#[test]
fn no_trap_of_the_hardened_device_fires() {
    let root = images();
    for variant in variants("hardened") {
        let variant = variant.as_str();
        let findings = scan(&root.join(variant));
        assert!(
            failing(&findings).is_empty(),
            "{variant}: {:#?}",
            failing(&findings)
        );
        assert!(
            findings
                .findings
                .iter()
                .all(|f| f.outcome != Outcome::Inconclusive),
            "{variant}: {:#?}",
            findings.findings
        );
        // Mbed TLS's six test keys, compiled into libmbedx509 as PEM and DER, are
        // noted as published test keys, once each.
        let mbedtls = findings
            .findings
            .iter()
            .filter(|finding| {
                finding.check == "firmware.private-key"
                    && finding.title.contains("Mbed TLS's published self-test key")
            })
            .count();
        assert_eq!(mbedtls, 6, "{variant}");
    }
}

#[test]
fn containers_are_located_and_the_image_identified() {
    let root = images();
    let findings = scan(&root.join("weak/weak.bin"));
    let first = &findings.findings[0];
    assert_eq!(
        first.location.container.as_deref(),
        Some("squashfs@0x10000")
    );
    assert_eq!(
        findings.target.size,
        Some(std::fs::metadata(root.join("weak/weak.bin")).unwrap().len())
    );
    assert_eq!(findings.target.sha256.as_ref().map(String::len), Some(64));
    let nested = scan(&root.join("weak/weak.initramfs.uimage"));
    assert_eq!(
        nested.findings[0].location.container.as_deref(),
        Some("uImage@0x0 > gzip@0x0 > cpio@0x0")
    );
    for (variant, chain) in [
        ("weak/weak.fit", "FIT@0x0 > images/rootfs-1 > squashfs@0x0"),
        ("weak/weak.trx", "TRX@0x0 > partition-1 > squashfs@0x0"),
        ("weak/weak.be.cramfs", "cramfs@0x200"),
        ("weak/weak.ext4", "ext@0x0"),
        ("weak/weak.android.simg", "android-sparse@0x0 > ext@0x0"),
        ("weak/weak.ext2.gz", "gzip@0x0 > ext@0x0"),
        ("weak/weak.ext4.uimage", "uImage@0x0 > ext@0x0"),
        ("weak/weak.cpio.multi.gz", "gzip@0x0 > cpio@0x0"),
        ("weak/weak.be.jffs2", "JFFS2@0x0"),
        ("weak/weak.ubi", "UBI@0x0 > volume rootfs > UBIFS@0x0"),
    ] {
        let findings = scan(&root.join(variant));
        assert_eq!(
            findings.findings[0].location.container.as_deref(),
            Some(chain),
            "{variant}"
        );
    }
    // The kernel of a FIT is a payload, not a filesystem: its banner still names it.
    let fit = scan(&root.join("weak/weak.fit"));
    let kernel = fit
        .components
        .iter()
        .find(|component| component.name == "linux")
        .expect("the kernel is identified");
    assert_eq!(kernel.version.as_deref(), Some("5.10.110"));
    assert_eq!(kernel.locations, ["FIT@0x0 > images/kernel-1 > gzip@0x0"]);
    let from_directory = scan(&root.join("weak/rootfs"));
    assert_eq!(from_directory.findings[0].location.container, None);
}

#[test]
fn secrets_are_never_printed() {
    let root = images();
    let findings = scan(&root.join("weak/weak.xz.squashfs"));
    let json = serde_json::to_string(&findings).unwrap();
    assert!(!json.contains("BEGIN PRIVATE KEY"));
    assert!(!json.contains("$1$mirai$"), "hashes stay in the image");
    assert!(json.contains("SHA256:"), "keys are named by fingerprint");
}

#[test]
fn components_and_conditions_are_identified() {
    let root = images();
    for variant in ["weak/weak.xz.squashfs", "weak/rootfs", "weak/weak.tar.zst"] {
        let findings = scan(&root.join(variant));
        // What the package database and the binaries say of a project is one component,
        // named by its CPE, with both places it was found.
        let version = |product: &str| {
            let component = findings.components.iter().find(|component| {
                component
                    .cpe
                    .as_deref()
                    .is_some_and(|cpe| cpe.split(':').nth(4) == Some(product))
                    && component
                        .locations
                        .iter()
                        .any(|at| at != "/var/lib/dpkg/status")
            })?;
            assert!(
                component
                    .locations
                    .iter()
                    .any(|at| at == "/var/lib/dpkg/status"),
                "{variant}: {component:?} joins the package database's entry"
            );
            component
                .cpe
                .as_deref()?
                .split(':')
                .nth(5)
                .map(str::to_owned)
        };
        let built = |package: &str| Some(crate::upstream_version(package));
        assert_eq!(version("busybox"), built("busybox-static"), "{variant}");
        assert_eq!(version("openssl"), built("libssl3"), "{variant}");
        assert_eq!(version("dropbear_ssh"), built("dropbear-bin"), "{variant}");
        assert_eq!(version("lighttpd"), built("lighttpd"), "{variant}");
        let mosquitto = findings
            .components
            .iter()
            .find(|component| component.name == "mosquitto")
            .expect("mosquitto from the dpkg database");
        assert!(mosquitto.purl.as_deref().unwrap().starts_with(&format!(
            "pkg:deb/mosquitto@{}",
            crate::package_version("mosquitto")
        )));
        let inferred = |id: &str| {
            findings
                .inferred_conditions
                .iter()
                .find(|inferred| inferred.condition.as_str() == id)
                .map(|inferred| inferred.answer)
        };
        assert_eq!(inferred("1"), Some(true), "{variant}");
        assert_eq!(inferred("13"), Some(true), "{variant}: ttyS0 in inittab");
        assert_eq!(inferred("14"), Some(true), "{variant}");
        assert_eq!(inferred("12"), Some(true), "{variant}: the update script");
        assert_eq!(inferred("11"), Some(true), "{variant}: it downloads");
        assert_eq!(inferred("24"), Some(true), "{variant}: Wi-Fi credentials");
        assert_eq!(
            inferred("8"),
            Some(true),
            "{variant}: accounts with passwords"
        );
        // V3.1.3's features the image shows, in V3.1.3's numbering.
        let feature = |id: &str| {
            findings
                .inferred_conditions
                .iter()
                .find(|inferred| {
                    inferred.condition.as_str() == id
                        && inferred.edition.as_deref() == Some("en303645-v3.1.3")
                })
                .map(|inferred| inferred.answer)
        };
        assert_eq!(feature("e"), Some(true), "{variant}: telnetd and dropbear");
        assert_eq!(feature("q"), Some(true), "{variant}: gdbserver at boot");
        assert_eq!(feature("p"), Some(true), "{variant}: a boot backdoor");
    }
}

#[test]
fn binary_hardening_is_summarized() {
    let findings = scan(&images().join("hardened/hardened.xz.squashfs"));
    let summary = findings
        .findings
        .iter()
        .find(|finding| finding.check == "firmware.binary-hardening")
        .expect("a summary");
    assert_eq!(summary.outcome, Outcome::Pass);
    assert!(summary.detail.starts_with("NX 38/38"), "{}", summary.detail);
    let busybox = summary.evidence["binaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["path"] == "/bin/busybox")
        .unwrap();
    assert_eq!(
        busybox["pie"], false,
        "busybox-static is not position independent"
    );
    let dropbear = summary.evidence["binaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["path"] == "/usr/sbin/dropbear")
        .unwrap();
    assert_eq!(dropbear["pie"], true);
    assert_eq!(dropbear["relro"], "full");
    assert_eq!(dropbear["canary"], true);
}

#[test]
fn components_are_matched_against_imported_advisories() {
    let root = images();
    let advisories =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/advisories");
    let database = provisor_advisories::Database::import(&advisories, "2026-11-28").unwrap();
    let options = provisor_firmware::ScanOptions {
        tool_version: "test".into(),
        advisories: Some(std::sync::Arc::new(database)),
        ..Default::default()
    };
    let findings = provisor_firmware::scan(&root.join("weak/weak.xz.squashfs"), &options).unwrap();
    let mut affected: Vec<(String, Option<String>)> = findings
        .findings
        .iter()
        .filter(|finding| finding.check == "firmware.known-vulnerabilities")
        .filter(|finding| finding.outcome == Outcome::Fail)
        .map(|finding| (finding.title.clone(), finding.location.path.clone()))
        .collect();
    affected.sort();
    assert_eq!(
        affected,
        [
            (
                "busybox 1.35.0 is affected by CVE-2022-28391".to_owned(),
                Some("/bin/busybox".to_owned())
            ),
            (
                "dropbear 2022.83 is affected by CVE-2023-48795".to_owned(),
                Some("/usr/bin/dbclient".to_owned())
            ),
        ]
    );
    // Without advisories the check says it did not look.
    let unchecked = scan(&root.join("weak/weak.xz.squashfs"));
    assert!(
        unchecked
            .findings
            .iter()
            .any(|finding| finding.check == "firmware.known-vulnerabilities"
                && finding.outcome == Outcome::Info)
    );
}

/// Clean Debian systems (debootstrap minbase, root locked): Debian 12 for 32-bit ARM,
/// whose GnuTLS holds self-test keys, and Debian 13 for 64-bit ARM, with OpenSSL 3.5
/// and merged /usr. They hold configuration variables named like passwords and
/// programs named `update-*` that are no updaters: none of it is a weakness.
#[test]
fn clean_debian_systems_have_no_fail_and_no_inconclusive_finding() {
    // (root, GnuTLS self-test keys, packages of minbase)
    for (root, keys, listed) in [("debian/rootfs", 10, 88), ("debian13/rootfs", 0, 78)] {
        let findings = scan(&images().join(root));
        let flagged: Vec<String> = findings
            .findings
            .iter()
            .filter(|finding| matches!(finding.outcome, Outcome::Fail | Outcome::Inconclusive))
            .map(|finding| format!("{} {}", finding.check, finding.title))
            .collect();
        assert!(flagged.is_empty(), "{root}: {flagged:#?}");
        let test_keys = findings
            .findings
            .iter()
            .filter(|finding| {
                finding.check == "firmware.private-key" && finding.title.contains("self-test key")
            })
            .count();
        assert_eq!(test_keys, keys, "{root}: the known-answer test keys");
        let packages = findings
            .components
            .iter()
            .filter(|component| {
                component
                    .purl
                    .as_deref()
                    .is_some_and(|purl| purl.starts_with("pkg:deb/"))
            })
            .count();
        assert_eq!(
            packages, listed,
            "{root}: every package of minbase is listed"
        );
        let hardening = findings
            .findings
            .iter()
            .find(|finding| finding.check == "firmware.binary-hardening")
            .map(|finding| finding.title.clone());
        assert!(
            hardening
                .as_deref()
                .is_some_and(|title| title.contains("ELF binaries")),
            "{root}: the programs are read: {hardening:?}"
        );
    }
}

/// The binary checks read programs of every architecture: the vendor login's compiled
/// credentials, the bind shell started at boot and not the harmless service beside it,
/// and each binary's mitigations, for MIPS of both byte orders, AArch64, PowerPC and
/// x86-64, in the big-endian images of a MIPS router.
#[test]
fn binary_checks_read_every_architecture() {
    let architectures = ["mips", "mipsel", "aarch64", "powerpc", "x86_64"];
    for variant in [
        "multiarch/rootfs",
        "multiarch/multiarch.be.jffs2",
        "multiarch/multiarch.be.cramfs",
    ] {
        let findings = scan(&images().join(variant));
        let failing_at = |check: &str, path: &str| {
            findings
                .findings
                .iter()
                .filter(|finding| {
                    finding.check == check
                        && finding.outcome == Outcome::Fail
                        && finding.location.path.as_deref() == Some(path)
                })
                .count()
        };
        for arch in architectures {
            let login = format!("/usr/bin/camlogin-{arch}");
            assert_eq!(
                failing_at("firmware.compiled-credential", &login),
                5,
                "{variant}: {login}"
            );
            let backdoors: Vec<&str> = findings
                .findings
                .iter()
                .filter(|finding| finding.check == "firmware.boot-backdoor")
                .map(|finding| finding.title.as_str())
                .collect();
            assert!(
                backdoors.contains(
                    &format!(
                        "/usr/sbin/diagd-{arch} started at boot offers a shell on the network"
                    )
                    .as_str()
                ),
                "{variant}: {backdoors:#?}"
            );
            assert!(
                !backdoors.iter().any(|title| title.contains("echod")),
                "{variant}: {backdoors:#?}"
            );
        }
        let summary = findings
            .findings
            .iter()
            .find(|finding| {
                finding.check == "firmware.binary-hardening"
                    && finding.evidence.get("binaries").is_some()
            })
            .expect("a hardening summary");
        assert_eq!(
            summary.evidence["binaries"].as_array().map(Vec::len),
            Some(15),
            "{variant}: every binary of every architecture is read"
        );
        // Debian's MIPS toolchain marks the stack executable (for the FPU emulator's
        // trampolines): a true observation, on MIPS only.
        for arch in architectures {
            let stack = failing_at(
                "firmware.binary-hardening",
                &format!("/usr/sbin/diagd-{arch}"),
            );
            assert_eq!(
                stack,
                usize::from(arch.starts_with("mips")),
                "{variant}: {arch}"
            );
        }
    }
}

/// A daemon that links the image's libcrypto names the OpenSSL it was compiled against;
/// the component list has the OpenSSL the image ships, found in libcrypto itself.
#[test]
fn a_version_a_program_was_compiled_against_is_no_component() {
    let findings = scan(&images().join("hardened/rootfs"));
    let openssl: Vec<(Option<&str>, &[String])> = findings
        .components
        .iter()
        .filter(|component| {
            component
                .cpe
                .as_deref()
                .is_some_and(|cpe| cpe.starts_with("cpe:2.3:a:openssl:openssl:"))
        })
        .map(|component| (component.cpe.as_deref(), component.locations.as_slice()))
        .collect();
    assert_eq!(openssl.len(), 1, "{openssl:#?}");
    assert_eq!(
        openssl[0].0,
        Some(
            format!(
                "cpe:2.3:a:openssl:openssl:{}:*:*:*:*:*:*:*",
                crate::upstream_version("libssl3")
            )
            .as_str()
        )
    );
    assert!(
        !openssl[0].1.iter().any(|at| at.ends_with("wifid")),
        "{openssl:#?}"
    );
    let wifid = std::fs::read(images().join("hardened/rootfs/usr/sbin/wifid")).unwrap();
    assert!(
        wifid
            .windows(26)
            .any(|w| w == b"OpenSSL 3.0.16 11 Feb 2025"),
        "the trap holds the compile-time version"
    );
}
