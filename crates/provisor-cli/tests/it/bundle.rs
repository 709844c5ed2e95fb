//! Bundles: written with a manifest of hashes, verified, signed with an OpenSSH key (and
//! checked by `ssh-keygen -Y verify` as well), and refused when tampered with.

use std::fs;
use std::path::Path;

use crate::support::provisor;

fn assessment_with_evidence(directory: &Path) -> std::path::PathBuf {
    fs::create_dir_all(directory.join("evidence")).unwrap();
    fs::write(
        directory.join("evidence/policy.md"),
        "# Vulnerability disclosure policy\n",
    )
    .unwrap();
    fs::write(
        directory.join("secrets.toml"),
        "[camera]\nadmin = \"hunter2\"\n",
    )
    .unwrap();
    let assessment = directory.join("device.toml");
    fs::write(
        &assessment,
        "kind = \"lab\"\n[provision.\"5.2-1\"]\nsupport = \"yes\"\ndetail = \"published\"\nevidence = [\"evidence/policy.md\"]\n\n[[ixit.\"15-Intf\"]]\ndescription = \"web\"\nport = 443\nuser = \"admin\"\npassword = { file = \"secrets.toml\", key = \"camera.admin\" }\n",
    )
    .unwrap();
    assessment
}

fn keypair(directory: &Path) -> std::path::PathBuf {
    let key = directory.join("lab-key");
    let status = std::process::Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "lab@example.org",
            "-f",
        ])
        .arg(&key)
        .status()
        .expect("ssh-keygen (openssh-client) is installed by scripts/install-bench");
    assert!(status.success());
    key
}

/// A tar's members: name and bytes, in order.
type Members = Vec<(String, Vec<u8>)>;

/// The members of a tar, in order.
fn members(bundle: &Path) -> Members {
    let mut archive = tar::Archive::new(fs::File::open(bundle).unwrap());
    archive
        .entries()
        .unwrap()
        .map(|entry| {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().display().to_string();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            (path, bytes)
        })
        .collect()
}

fn write_tar(bundle: &Path, members: &[(String, Vec<u8>)]) {
    let mut builder = tar::Builder::new(fs::File::create(bundle).unwrap());
    for (path, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        // Written by hand: the tar crate refuses to write a hostile name like `../x`.
        let name = &mut header.as_old_mut().name;
        name.fill(0);
        name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_cksum();
        builder.append(&header, &bytes[..]).unwrap();
    }
    builder.finish().unwrap();
}

#[test]
fn a_bundle_holds_the_assessment_scans_evidence_and_reports_but_no_secrets() {
    let directory = tempfile::tempdir().unwrap();
    let assessment = assessment_with_evidence(directory.path());
    let bundle = directory.path().join("device.tar");
    provisor()
        .arg("bundle")
        .arg(&assessment)
        .arg("-o")
        .arg(&bundle)
        .assert()
        .success();
    let members = members(&bundle);
    let names: Vec<&str> = members.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "manifest.json",
            "device.toml",
            "evidence/policy.md",
            "reports/report.html",
            "reports/report.json",
            "reports/report.md"
        ]
    );
    for (name, bytes) in &members {
        assert!(
            !String::from_utf8_lossy(bytes).contains("hunter2"),
            "{name} holds the secret"
        );
    }
    let manifest: serde_json::Value = serde_json::from_slice(&members[0].1).unwrap();
    assert_eq!(manifest["schema"], "provisor.bundle/1");
    assert_eq!(manifest["assessment"], "device.toml");
    let policy = manifest["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["path"] == "evidence/policy.md")
        .unwrap();
    assert_eq!(policy["role"], "evidence");
    assert_eq!(
        policy["sha256"],
        provisor_engine::sha256_hex(b"# Vulnerability disclosure policy\n")
    );

    let output = provisor().arg("verify").arg(&bundle).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("5 members match the manifest"), "{stdout}");
    assert!(
        stdout.contains("signature: none. Damaged or swapped files are detected, but not a manifest rewritten to match them"),
        "{stdout}"
    );

    // Extracted, it checks as it did before.
    let extracted = directory.path().join("received");
    provisor()
        .arg("verify")
        .arg(&bundle)
        .arg("--extract")
        .arg(&extracted)
        .assert()
        .success();
    assert!(extracted.join("evidence/policy.md").exists());
    provisor()
        .arg("check")
        .arg(extracted.join("device.toml"))
        .assert()
        .code(1);
}

#[test]
fn a_signed_bundle_is_checked_here_and_by_ssh_keygen() {
    let directory = tempfile::tempdir().unwrap();
    let assessment = assessment_with_evidence(directory.path());
    let key = keypair(directory.path());
    let bundle = directory.path().join("signed.tar");
    provisor()
        .arg("bundle")
        .arg(&assessment)
        .arg("-o")
        .arg(&bundle)
        .arg("--sign")
        .arg(&key)
        .assert()
        .success();
    let output = provisor()
        .arg("verify")
        .arg(&bundle)
        .arg("--key")
        .arg(key.with_extension("pub"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("signature: good, by the key SHA256:")
    );

    // OpenSSH agrees: the signature is an SSHSIG over the manifest.
    let members = members(&bundle);
    let manifest = directory.path().join("manifest.json");
    let signature = directory.path().join("manifest.json.sig");
    fs::write(&manifest, &members[0].1).unwrap();
    assert_eq!(members[1].0, "manifest.json.sig");
    fs::write(&signature, &members[1].1).unwrap();
    let public = fs::read_to_string(key.with_extension("pub")).unwrap();
    let signers = directory.path().join("allowed_signers");
    fs::write(&signers, format!("lab@example.org {public}")).unwrap();
    let verified = std::process::Command::new("ssh-keygen")
        .args([
            "-Y",
            "verify",
            "-n",
            "provisor-bundle",
            "-I",
            "lab@example.org",
            "-f",
        ])
        .arg(&signers)
        .arg("-s")
        .arg(&signature)
        .stdin(fs::File::open(&manifest).unwrap())
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );

    // A rewritten manifest (a changed file with its new hash) passes an unsigned check
    // but not the signature.
    let mut rewritten = members.clone();
    let policy = rewritten
        .iter()
        .position(|(name, _)| name == "evidence/policy.md")
        .unwrap();
    let old_hash = provisor_engine::sha256_hex(&rewritten[policy].1);
    rewritten[policy].1 = b"# Vulnerability disclosure policy!\n".to_vec();
    let new_hash = provisor_engine::sha256_hex(&rewritten[policy].1);
    let mut manifest: serde_json::Value = serde_json::from_slice(&rewritten[0].1).unwrap();
    for entry in manifest["members"].as_array_mut().unwrap() {
        if entry["sha256"] == old_hash.as_str() {
            entry["sha256"] = new_hash.clone().into();
            entry["size"] = rewritten[policy].1.len().into();
        }
    }
    rewritten[0].1 = serde_json::to_vec_pretty(&manifest).unwrap();
    let forged = directory.path().join("forged.tar");
    write_tar(&forged, &rewritten);
    let output = provisor().arg("verify").arg(&forged).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = provisor()
        .arg("verify")
        .arg(&forged)
        .arg("--key")
        .arg(key.with_extension("pub"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("signature of the manifest does not hold")
    );

    // Another key's public half does not verify it either.
    let other = directory.path().join("other");
    fs::create_dir_all(&other).unwrap();
    let other_key = keypair(&other);
    provisor()
        .arg("verify")
        .arg(&bundle)
        .arg("--key")
        .arg(other_key.with_extension("pub"))
        .assert()
        .code(2);
}

#[test]
fn a_tampered_bundle_is_refused_naming_the_member() {
    let directory = tempfile::tempdir().unwrap();
    let assessment = assessment_with_evidence(directory.path());
    let bundle = directory.path().join("device.tar");
    provisor()
        .arg("bundle")
        .arg(&assessment)
        .arg("-o")
        .arg(&bundle)
        .assert()
        .success();
    let original = members(&bundle);
    let cases: Vec<(Members, &str)> = vec![
        (
            original
                .iter()
                .map(|(name, bytes)| {
                    let bytes = if name == "evidence/policy.md" {
                        b"# Vulnerability disclosure polic!\n".to_vec()
                    } else {
                        bytes.clone()
                    };
                    (name.clone(), bytes)
                })
                .collect(),
            "bundle member evidence/policy.md: its SHA-256 is",
        ),
        (
            original
                .iter()
                .filter(|(name, _)| name != "reports/report.md")
                .cloned()
                .collect(),
            "bundle member reports/report.md: is listed in the manifest but missing",
        ),
        (
            {
                let mut extra = original.clone();
                extra.push(("scans/planted.json".into(), b"{}".to_vec()));
                extra
            },
            "bundle member scans/planted.json: is not listed in the manifest",
        ),
        (
            {
                let mut climbing = original.clone();
                climbing.push(("../outside".into(), b"x".to_vec()));
                climbing
            },
            "bundle member ../outside",
        ),
        (original[1..].to_vec(), "the manifest must come first"),
    ];
    for (members, message) in cases {
        let tampered = directory.path().join("tampered.tar");
        write_tar(&tampered, &members);
        let extract = directory.path().join("out");
        let output = provisor()
            .arg("verify")
            .arg(&tampered)
            .arg("--extract")
            .arg(&extract)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{message}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{stderr}");
        assert!(!extract.exists(), "nothing is extracted from a bad bundle");
        assert!(!directory.path().join("outside").exists());
    }
    // Not a tar at all.
    fs::write(directory.path().join("junk.tar"), b"not a tar").unwrap();
    provisor()
        .arg("verify")
        .arg(directory.path().join("junk.tar"))
        .assert()
        .code(2);
}
