//! Assessment bundles: how a manufacturer hands an assessment to a lab and back. A bundle
//! is a tar file holding `manifest.json` (schema `provisor.bundle/1`: every member's
//! path, role, size and SHA-256), optionally `manifest.json.sig` (an SSHSIG signature of
//! the manifest by an OpenSSH Ed25519 key, which `ssh-keygen -Y verify` also checks), and
//! the members: the assessment file, its scans, its evidence and the reports made from
//! it, at their paths relative to the assessment.
//!
//! A bundle is hostile input: reading it bounds the manifest, every member and the
//! total, refuses paths that are absolute, climb with `..` or repeat, and refuses every
//! entry that is not a regular file. Without a signature, verification detects corrupted
//! or swapped members but not a rewritten manifest, and says so.

#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use ssh_key::{PrivateKey, PublicKey};

/// The schema id of a bundle manifest.
pub const BUNDLE_SCHEMA: &str = "provisor.bundle/1";
/// The manifest's name in the tar.
pub const MANIFEST: &str = "manifest.json";
/// The signature's name in the tar.
pub const SIGNATURE: &str = "manifest.json.sig";
/// The SSHSIG namespace of a bundle signature (`ssh-keygen -Y verify -n provisor-bundle`).
pub const NAMESPACE: &str = "provisor-bundle";

/// What goes wrong with a bundle.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A member is missing, damaged or not what the manifest says.
    #[error("bundle member {member}: {reason}")]
    Member {
        /// The member's path in the bundle.
        member: String,
        /// What is wrong.
        reason: String,
    },
    /// The bundle as a whole is not one provisor reads.
    #[error("not a provisor bundle: {0}")]
    Malformed(String),
    /// The signature does not hold.
    #[error("the signature of the manifest does not hold: {0}")]
    Signature(String),
    /// A key could not be used.
    #[error("{path}: {reason}")]
    Key {
        /// The key file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// What a member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The assessment file.
    Assessment,
    /// A findings file of a scan.
    Scan,
    /// An evidence file.
    Evidence,
    /// The wording file that gives the provisions' official texts.
    Wording,
    /// A report made from the assessment.
    Report,
}

/// One member as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Its path, relative to the assessment (`scans/firmware-3.2.1.json`).
    pub path: String,
    /// What it is.
    pub role: Role,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: String,
}

/// The manifest (`provisor.bundle/1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`BUNDLE_SCHEMA`].
    pub schema: String,
    /// `provisor 0.1.0`.
    pub tool: String,
    /// When it was made (RFC 3339).
    pub created: String,
    /// The assessment member's path.
    pub assessment: String,
    /// Every member, in path order.
    pub members: Vec<Entry>,
}

/// Where a member's bytes come from when a bundle is written.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file on disk, streamed.
    File(PathBuf),
    /// Bytes made in memory (a report).
    Bytes(Vec<u8>),
}

/// A member to write.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its path in the bundle.
    pub path: String,
    /// What it is.
    pub role: Role,
    /// Its bytes.
    pub source: Source,
}

/// Bounds on what a bundle may hold when it is read.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The manifest and the signature, each.
    pub manifest_bytes: u64,
    /// Every member together.
    pub total_bytes: u64,
    /// Members.
    pub members: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            manifest_bytes: 16 << 20,
            total_bytes: 64 << 30,
            members: 100_000,
        }
    }
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Whether a member path is one a bundle may hold: relative, normalized, no `..`, no
/// empty or dot components, no backslashes, not the manifest's or signature's name.
pub fn safe_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 1024
        && !path.contains('\\')
        && !path.contains('\0')
        && path != MANIFEST
        && path != SIGNATURE
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && Path::new(path)
            .components()
            .all(|component| matches!(component, Component::Normal(_)))
}

/// Streams a reader through SHA-256, returning the digest and the byte count.
fn hash_reader(mut reader: impl Read) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        total += read as u64;
    }
    Ok((hex(&hasher.finalize()), total))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads an OpenSSH private key for signing; an encrypted one is decrypted with
/// `passphrase`.
pub fn load_private_key(path: &Path, passphrase: Option<&str>) -> Result<PrivateKey, BundleError> {
    let key_error = |reason: String| BundleError::Key {
        path: path.display().to_string(),
        reason,
    };
    let text = fs::read_to_string(path).map_err(io_error(path))?;
    let key = PrivateKey::from_openssh(text.trim()).map_err(|error| {
        key_error(format!(
            "not an OpenSSH private key ({error}); make one with `ssh-keygen -t ed25519 -f KEY`"
        ))
    })?;
    let key = if key.is_encrypted() {
        let passphrase = passphrase.ok_or_else(|| {
            key_error("the key is encrypted: give its passphrase in PROVISOR_KEY_PASSPHRASE".into())
        })?;
        key.decrypt(passphrase)
            .map_err(|_| key_error("the passphrase does not decrypt the key".into()))?
    } else {
        key
    };
    if key.algorithm() != ssh_key::Algorithm::Ed25519 {
        return Err(key_error(format!(
            "the key is {}, bundles are signed with Ed25519 keys; make one with `ssh-keygen -t ed25519`",
            key.algorithm()
        )));
    }
    Ok(key)
}

/// Reads an OpenSSH public key (`ssh-ed25519 AAAA… comment`, as in `KEY.pub`).
pub fn load_public_key(path: &Path) -> Result<PublicKey, BundleError> {
    let text = fs::read_to_string(path).map_err(io_error(path))?;
    PublicKey::from_openssh(text.trim()).map_err(|error| BundleError::Key {
        path: path.display().to_string(),
        reason: format!(
            "not an OpenSSH public key ({error}); give the KEY.pub that ssh-keygen wrote"
        ),
    })
}

/// Writes a bundle: hashes every member (streaming files), then writes the manifest,
/// the signature when a key is given, and the members, in a deterministic tar. The
/// caller writes to a temporary file and renames it.
pub fn write(
    out: impl Write,
    assessment: &str,
    members: &[Member],
    tool: &str,
    created: &str,
    signer: Option<&PrivateKey>,
) -> Result<Manifest, BundleError> {
    let mut entries = Vec::with_capacity(members.len());
    let mut seen = BTreeSet::new();
    for member in members {
        if !safe_path(&member.path) {
            return Err(BundleError::Member {
                member: member.path.clone(),
                reason: "the path is absolute or leaves the assessment's directory; keep scans and evidence beside the assessment".into(),
            });
        }
        if !seen.insert(member.path.as_str()) {
            return Err(BundleError::Member {
                member: member.path.clone(),
                reason: "listed twice".into(),
            });
        }
        let (sha256, size) = match &member.source {
            Source::File(path) => {
                let file = fs::File::open(path).map_err(io_error(path))?;
                hash_reader(file).map_err(io_error(path))?
            }
            Source::Bytes(bytes) => (hex(&Sha256::digest(bytes)), bytes.len() as u64),
        };
        entries.push(Entry {
            path: member.path.clone(),
            role: member.role,
            size,
            sha256,
        });
    }
    if !entries
        .iter()
        .any(|entry| entry.path == assessment && entry.role == Role::Assessment)
    {
        return Err(BundleError::Malformed(format!(
            "the assessment {assessment} is not among the members"
        )));
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest = Manifest {
        schema: BUNDLE_SCHEMA.into(),
        tool: tool.into(),
        created: created.into(),
        assessment: assessment.into(),
        members: entries,
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|error| BundleError::Malformed(error.to_string()))?;

    let mut builder = tar::Builder::new(out);
    builder.mode(tar::HeaderMode::Deterministic);
    let tar_error = |source: std::io::Error| BundleError::Io {
        path: "bundle".into(),
        source,
    };
    append(
        &mut builder,
        MANIFEST,
        manifest_bytes.len() as u64,
        &manifest_bytes[..],
    )
    .map_err(tar_error)?;
    if let Some(key) = signer {
        let signature = key
            .sign(NAMESPACE, ssh_key::HashAlg::Sha512, &manifest_bytes)
            .map_err(|error| BundleError::Signature(error.to_string()))?;
        let pem = signature
            .to_pem(ssh_key::LineEnding::LF)
            .map_err(|error| BundleError::Signature(error.to_string()))?;
        append(&mut builder, SIGNATURE, pem.len() as u64, pem.as_bytes()).map_err(tar_error)?;
    }
    let mut sorted: Vec<&Member> = members.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    for (member, entry) in sorted.into_iter().zip(&manifest.members) {
        match &member.source {
            Source::File(path) => {
                let file = fs::File::open(path).map_err(io_error(path))?;
                // A file that changed size since it was hashed would make a tar entry
                // that lies about its length; read exactly what was hashed.
                let mut limited = file.take(entry.size);
                append(&mut builder, &entry.path, entry.size, &mut limited).map_err(tar_error)?;
            }
            Source::Bytes(bytes) => {
                append(&mut builder, &entry.path, entry.size, &bytes[..]).map_err(tar_error)?
            }
        }
    }
    builder
        .into_inner()
        .map_err(tar_error)?
        .flush()
        .map_err(tar_error)?;
    Ok(manifest)
}

fn append<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &str,
    size: u64,
    data: impl Read,
) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mtime(0);
    builder.append_data(&mut header, path, data)
}

/// How far a bundle's integrity could be established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The manifest is signed and the signature holds for the key given.
    Signed {
        /// The key's SHA-256 fingerprint.
        fingerprint: String,
    },
    /// The manifest is signed, but no key was given to check it with.
    SignedUnchecked,
    /// The manifest is not signed: corruption is detected, a rewritten manifest is not.
    Unsigned,
}

/// A bundle whose members all match its manifest.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The manifest.
    pub manifest: Manifest,
    /// What the signature established.
    pub trust: Trust,
}

/// Reads a bundle and checks every member against the manifest, and the signature
/// against `key` when one is given. With `extract_to`, the members are written below
/// that directory while they are checked; the caller removes it when verification
/// fails.
pub fn verify(
    input: impl Read,
    key: Option<&PublicKey>,
    extract_to: Option<&Path>,
    limits: Limits,
) -> Result<Verified, BundleError> {
    let mut archive = tar::Archive::new(input);
    let tar_error = |source: std::io::Error| {
        BundleError::Malformed(format!("the tar cannot be read: {source}"))
    };
    let mut manifest: Option<(Manifest, Vec<u8>)> = None;
    let mut signature: Option<String> = None;
    let mut seen: BTreeMap<String, ()> = BTreeMap::new();
    let mut total = 0u64;
    for entry in archive.entries().map_err(tar_error)? {
        let mut entry = entry.map_err(tar_error)?;
        let path = String::from_utf8(entry.path_bytes().into_owned())
            .map_err(|_| BundleError::Malformed("a member's name is not UTF-8".into()))?;
        let member_error = |reason: &str| BundleError::Member {
            member: path.clone(),
            reason: reason.to_owned(),
        };
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(member_error(
                "not a regular file (a link or a directory); bundles hold files only",
            ));
        }
        let size = entry.header().size().map_err(tar_error)?;
        if path == MANIFEST || path == SIGNATURE {
            if size > limits.manifest_bytes {
                return Err(member_error("larger than a manifest can be"));
            }
            let mut bytes = Vec::with_capacity(size as usize);
            (&mut entry)
                .take(limits.manifest_bytes)
                .read_to_end(&mut bytes)
                .map_err(tar_error)?;
            if path == MANIFEST {
                if manifest.is_some() {
                    return Err(member_error("appears twice"));
                }
                let parsed: Manifest = serde_json::from_slice(&bytes).map_err(|error| {
                    member_error(&format!("not a provisor.bundle/1 manifest: {error}"))
                })?;
                if parsed.schema != BUNDLE_SCHEMA {
                    return Err(member_error(&format!(
                        "schema is {}, this version reads {BUNDLE_SCHEMA}",
                        parsed.schema
                    )));
                }
                if parsed.members.len() > limits.members {
                    return Err(member_error("lists more members than a bundle may hold"));
                }
                manifest = Some((parsed, bytes));
            } else {
                if signature.is_some() {
                    return Err(member_error("appears twice"));
                }
                signature = Some(String::from_utf8(bytes).map_err(|_| member_error("not text"))?);
            }
            continue;
        }
        let Some((listed, _)) = &manifest else {
            return Err(BundleError::Malformed(
                "the manifest must come first; this tar was not written by `provisor bundle`"
                    .into(),
            ));
        };
        if !safe_path(&path) {
            return Err(member_error("its path is absolute or leaves the bundle"));
        }
        if seen.insert(path.clone(), ()).is_some() {
            return Err(member_error("appears twice"));
        }
        let Some(expected) = listed.members.iter().find(|entry| entry.path == path) else {
            return Err(member_error("is not listed in the manifest"));
        };
        total = total.saturating_add(size);
        if total > limits.total_bytes || size != expected.size {
            return Err(member_error(&format!(
                "is {size} bytes, the manifest says {}",
                expected.size
            )));
        }
        let mut hasher = Sha256::new();
        let mut writer = match extract_to {
            Some(directory) => {
                let target = directory.join(&path);
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).map_err(io_error(parent))?;
                }
                Some((
                    fs::File::create(&target).map_err(io_error(&target))?,
                    target,
                ))
            }
            None => None,
        };
        let mut buffer = vec![0u8; 64 * 1024];
        let mut read_total = 0u64;
        loop {
            let read = entry.read(&mut buffer).map_err(tar_error)?;
            if read == 0 {
                break;
            }
            read_total += read as u64;
            hasher.update(&buffer[..read]);
            if let Some((file, target)) = &mut writer {
                file.write_all(&buffer[..read]).map_err(io_error(target))?;
            }
        }
        if read_total != expected.size {
            return Err(member_error("is cut short"));
        }
        let digest = hex(&hasher.finalize());
        if digest != expected.sha256 {
            return Err(member_error(&format!(
                "its SHA-256 is {digest}, the manifest says {}: the file was changed or damaged",
                expected.sha256
            )));
        }
    }
    let Some((manifest, manifest_bytes)) = manifest else {
        return Err(BundleError::Malformed("it has no manifest.json".into()));
    };
    for expected in &manifest.members {
        if !seen.contains_key(&expected.path) {
            return Err(BundleError::Member {
                member: expected.path.clone(),
                reason: "is listed in the manifest but missing from the bundle".into(),
            });
        }
    }
    if !manifest
        .members
        .iter()
        .any(|entry| entry.path == manifest.assessment && entry.role == Role::Assessment)
    {
        return Err(BundleError::Malformed(format!(
            "the manifest names {} as the assessment, but holds no such member",
            manifest.assessment
        )));
    }
    let trust = match (&signature, key) {
        (None, Some(_)) => {
            return Err(BundleError::Signature(
                "the bundle is not signed, but a key was given to check it with".into(),
            ));
        }
        (None, None) => Trust::Unsigned,
        (Some(_), None) => Trust::SignedUnchecked,
        (Some(pem), Some(key)) => {
            let signature = ssh_key::SshSig::from_pem(pem.as_bytes()).map_err(|error| {
                BundleError::Signature(format!("{SIGNATURE} is not an SSH signature: {error}"))
            })?;
            key.verify(NAMESPACE, &manifest_bytes, &signature).map_err(|_| {
                BundleError::Signature(format!(
                    "it was not made by the key {} over this manifest: the manifest was rewritten or another key signed it",
                    key.fingerprint(ssh_key::HashAlg::Sha256)
                ))
            })?;
            Trust::Signed {
                fingerprint: key.fingerprint(ssh_key::HashAlg::Sha256).to_string(),
            }
        }
    };
    Ok(Verified { manifest, trust })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_relative_normalized_paths_are_safe() {
        for good in ["assessment.toml", "scans/a.json", "evidence/sub/x.pdf"] {
            assert!(safe_path(good), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a\\b",
            MANIFEST,
            SIGNATURE,
        ] {
            assert!(!safe_path(bad), "{bad}");
        }
    }
}
