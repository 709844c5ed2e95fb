//! `firmware.embedded-secret`: cloud credentials, tokens and passwords written into the
//! image's files.

use std::sync::OnceLock;

use provisor_engine::{Outcome, Severity};
use regex::bytes::{Regex, RegexSet};
use serde::Deserialize;

use super::{fingerprint, masked};
use crate::checks::{Check, CheckMeta, Context, pass_if_clean};
use crate::vfs::Node;
use provisor_engine::FindingSink;

/// Searches every file for credentials that must not ship in firmware, with patterns
/// kept as data in `data/secret-patterns.toml`, each with examples and negative
/// examples: cloud access keys and tokens (AWS, Google, GitHub, Slack, Stripe,
/// SendGrid, Alibaba Cloud, Azure storage and IoT Hub), passwords in URLs (such as an
/// RTSP or FTP address with the password in it), passwords in the commands a vendor's
/// programs and scripts run (`echo user:password | chpasswd`, `openssl … -k` or
/// `-pass pass:`, `sshpass -p`, `curl -u`, `wget --password`) and in HTTP basic
/// authorization headers they send (decoded, and reported only when they hold a
/// password) — binaries included, where the finding gives the offset — and passwords,
/// secrets and API keys assigned in scripts and configuration files. The same secret
/// in every device is a hard-coded critical security parameter (5.4-3) protecting
/// communication with associated services that is not unique per device (5.4-4).
/// Placeholders (variables, format strings, documented example keys) are not secrets;
/// assignments on commented-out lines are not reported. A finding names the kind of
/// secret, the file and line, a masked form and a SHA-256 fingerprint, never the secret.
pub struct EmbeddedSecret;

static META: CheckMeta = CheckMeta {
    id: "firmware.embedded-secret",
    title: "credentials and tokens embedded in files",
    provisions: &["5.4-3", "5.4-4"],
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Pattern {
    pub id: String,
    pub name: String,
    pub pattern: String,
    pub scope: Scope,
    #[serde(default)]
    pub skip_comments: bool,
    #[serde(default)]
    pub decode: Option<Decode>,
    pub allow: Vec<String>,
    /// Whole values that are settings rather than secrets, ignoring case.
    #[serde(default)]
    pub not_secrets: Vec<String>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    pub examples: Vec<(String, String)>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    pub negative_examples: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Scope {
    Any,
    Text,
}

/// How a captured value is turned into the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Decode {
    /// Base64 of `user:password` (an HTTP basic authorization header).
    BasicCredentials,
}

impl Decode {
    /// The secret in `captured`, or none when it does not decode to one.
    fn secret(self, captured: &[u8]) -> Option<Vec<u8>> {
        use base64::Engine;
        match self {
            Decode::BasicCredentials => {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(captured)
                    .ok()?;
                let colon = memchr::memchr(b':', &decoded)?;
                let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
                let printable = |bytes: &[u8]| bytes.iter().all(|b| b.is_ascii_graphic());
                (!user.is_empty()
                    && password.len() >= 3
                    && printable(user)
                    && printable(password)
                    && !password.contains(&b'%'))
                .then(|| password.to_vec())
            }
        }
    }
}

#[derive(Deserialize)]
struct PatternFile {
    pattern: Vec<Pattern>,
}

struct Compiled {
    patterns: Vec<(Pattern, Regex)>,
    set: RegexSet,
}

/// Patterns match bytes, not Unicode text: ASCII classes and word boundaries keep the
/// whole search on the fast DFA engines.
fn bytewise(pattern: &str) -> String {
    format!("(?-u){pattern}")
}

fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let patterns: Vec<(Pattern, Regex)> =
            toml::from_str::<PatternFile>(include_str!("../../../data/secret-patterns.toml"))
                .expect("the embedded secret patterns are valid (tested)")
                .pattern
                .into_iter()
                .map(|pattern| {
                    let regex = Regex::new(&bytewise(&pattern.pattern))
                        .expect("secret patterns compile (tested)");
                    (pattern, regex)
                })
                .collect();
        let set = RegexSet::new(
            patterns
                .iter()
                .map(|(pattern, _)| bytewise(&pattern.pattern)),
        )
        .expect("secret patterns compile (tested)");
        Compiled { patterns, set }
    })
}

/// A secret found in some bytes.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub pattern: &'static Pattern,
    pub secret: Vec<u8>,
    pub line: Option<u64>,
    /// Where the secret starts in the file (reported for binaries, which have no lines).
    pub offset: usize,
}

/// Text: no NUL byte in the first KiB.
fn is_text(bytes: &[u8]) -> bool {
    !bytes[..bytes.len().min(1024)].contains(&0)
}

/// Every secret in `bytes`, in order.
pub(crate) fn secrets(bytes: &[u8]) -> Vec<Found> {
    let compiled = compiled();
    let text = is_text(bytes);
    let mut found = Vec::new();
    for index in compiled.set.matches(bytes).iter() {
        let (pattern, regex) = &compiled.patterns[index];
        if pattern.scope == Scope::Text && !text {
            continue;
        }
        for captures in regex.captures_iter(bytes) {
            let (Some(whole), Some(secret)) = (captures.get(0), captures.get(1)) else {
                continue;
            };
            let lowered = whole.as_bytes().to_ascii_lowercase();
            let placeholder = pattern.allow.iter().any(|allowed| {
                memchr::memmem::find(&lowered, allowed.to_ascii_lowercase().as_bytes()).is_some()
            });
            let value = match pattern.decode {
                Some(decode) => match decode.secret(secret.as_bytes()) {
                    Some(value) => value,
                    None => continue,
                },
                None => secret.as_bytes().to_vec(),
            };
            let repeated = value.iter().all(|&b| b == value[0]);
            let setting = pattern
                .not_secrets
                .iter()
                .any(|word| value.eq_ignore_ascii_case(word.as_bytes()));
            if placeholder || repeated || setting {
                continue;
            }
            // The line is the secret's (a match may begin with the previous newline).
            let at = secret.start();
            let line_start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |at| at + 1);
            let line_text = bytes[line_start..at].trim_ascii_start();
            let commented = line_text.starts_with(b"#") || line_text.starts_with(b"//");
            if pattern.skip_comments && commented {
                continue;
            }
            let line = text.then(|| memchr::memchr_iter(b'\n', &bytes[..at]).count() as u64 + 1);
            found.push(Found {
                pattern,
                secret: value,
                line,
                offset: at,
            });
        }
    }
    found.sort_by_key(|found| found.line);
    found
}

impl Check for EmbeddedSecret {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn inspects_files(&self) -> bool {
        true
    }

    fn inspect(&self, node: &Node, bytes: &[u8], sink: &mut FindingSink) {
        for found in secrets(bytes) {
            sink.add(
                META.id,
                META.provisions,
                Outcome::Fail,
                Severity::High,
                format!("{} in {}", found.pattern.name, node.path),
            )
            .detail("every device built from this image carries the same secret; provision credentials per device (in the factory or at enrolment) and keep them out of the image")
            .at(&node.path, found.line, &node.container)
            .evidence({
                let mut evidence = serde_json::json!({
                    "pattern": found.pattern.id,
                    "masked": masked(&found.secret),
                    "fingerprint": fingerprint(&found.secret),
                });
                if found.line.is_none() {
                    evidence["offset"] = found.offset.into();
                }
                evidence
            })
            .record();
        }
    }

    fn conclude(&self, _context: &Context<'_>, inspected: usize, sink: &mut FindingSink) {
        let title = format!(
            "no credential or token embedded in the image ({inspected} files searched, {} patterns)",
            compiled().patterns.len()
        );
        if let Some(pass) = pass_if_clean(sink, &META, inspected > 0, title) {
            pass.record();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_finds_its_examples_and_not_its_negatives() {
        let mut ids = std::collections::BTreeSet::new();
        for (pattern, _) in &compiled().patterns {
            assert!(ids.insert(&pattern.id), "{} twice", pattern.id);
            assert!(!pattern.examples.is_empty(), "{}", pattern.id);
            for (example, secret) in &pattern.examples {
                let found = secrets(example.as_bytes());
                assert!(
                    found
                        .iter()
                        .any(|found| found.pattern.id == pattern.id
                            && found.secret == secret.as_bytes()),
                    "{}: {example} -> {found:?}",
                    pattern.id
                );
            }
            for negative in &pattern.negative_examples {
                let found = secrets(negative.as_bytes());
                assert!(
                    found.iter().all(|found| found.pattern.id != pattern.id),
                    "{}: {negative} -> {found:?}",
                    pattern.id
                );
            }
        }
    }

    #[test]
    fn lines_are_those_of_the_secrets() {
        let text = b"#!/bin/sh\nA=1\nUPLOAD_PASSWORD='Sn4pshot!2019'\n# PASSWORD='old-secret'\n";
        let found = secrets(text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, Some(3));
    }

    #[test]
    fn binaries_are_searched_for_tokens_only_and_secrets_are_masked() {
        let binary = b"\x7fELF\0\0rtsp://admin:acme2020@127.0.0.1/live\0PASSWORD='Sn4pshot!2019'\0";
        let found = secrets(binary);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].pattern.id, "url-credentials");
        assert_eq!(found[0].line, None);
        assert_eq!(masked(b"acme2020"), "a… (8 characters)");
        assert_eq!(masked(b"AKIA2E0A8F3B244C9986"), "AKIA… (20 characters)");
    }
}
