//! `firmware.compiled-credential`: passwords and keys compiled into vendor programs.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use base64::Engine;
use provisor_engine::{Outcome, Severity};
use regex::Regex;
use serde::Deserialize;

use super::{fingerprint, masked};
use crate::checks::accounts::known_from;
use crate::checks::binaries::elf::{ElfView, Found};
use crate::checks::{Check, CheckMeta};
use crate::vfs::Node;
use provisor_engine::FindingSink;

/// Reads every ELF program and library, of any architecture, for credentials compiled
/// into it, the way a vendor's login is often written: a data symbol named like a
/// password, secret, key or token (`SERVICE_PASS`, `admin_pwd`) whose value is a
/// string, directly or through a pointer (followed through the dynamic relocations of
/// position-independent programs); an account name followed in `.rodata` by a string
/// that looks like its password (what `strcmp(user, "admin") == 0 && strcmp(password,
/// "…") == 0` compiles to), in a program that compares strings; and base64 or hex
/// strings that decode to `user:password`. A password a login compares with is the same
/// in every device: a universal default password (5.1-1) and a hard-coded critical
/// security parameter (5.4-3). Format strings, usage texts, prompts, paths, identifiers
/// and translations are not secrets; the names, labels and examples are data in
/// `data/compiled-credentials.toml`. A finding names the program, the symbol or the
/// account, the offset in the file, a masked form and a SHA-256 fingerprint, never the
/// secret.
pub struct CompiledCredential;

static META: CheckMeta = CheckMeta {
    id: "firmware.compiled-credential",
    title: "credentials compiled into programs",
    provisions: &["5.4-3", "5.1-1"],
};

/// `data/compiled-credentials.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rules {
    symbol_names: String,
    not_symbol_names: String,
    login_symbol_names: String,
    published_symbols: String,
    accounts: Vec<String>,
    labels: Vec<String>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    symbol_example: Vec<SymbolExample>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    symbol_negative: Vec<SymbolExample>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    layout_example: Vec<LayoutExample>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    layout_negative: Vec<LayoutExample>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    encoded_example: Vec<EncodedExample>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    encoded_negative: Vec<EncodedExample>,
}

#[derive(Deserialize)]
#[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
struct SymbolExample {
    name: String,
    value: String,
}

#[derive(Deserialize)]
#[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
struct LayoutExample {
    strings: Vec<String>,
    #[serde(default)]
    account: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
#[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
struct EncodedExample {
    text: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    password: String,
}

struct Compiled {
    rules: Rules,
    symbol_names: Regex,
    not_symbol_names: Regex,
    login_symbol_names: Regex,
    published_symbols: Regex,
    identifier: Regex,
}

fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let rules: Rules = toml::from_str(include_str!("../../../data/compiled-credentials.toml"))
            .expect("data/compiled-credentials.toml is valid (tested)");
        let regex = |pattern: &str| Regex::new(pattern).expect("the name patterns compile");
        Compiled {
            symbol_names: regex(&rules.symbol_names),
            not_symbol_names: regex(&rules.not_symbol_names),
            login_symbol_names: regex(&rules.login_symbol_names),
            published_symbols: regex(&rules.published_symbols),
            // Identifiers, locales, file, path, version and scoped names: words joined by
            // _ . - / or :.
            identifier: regex(r"^[A-Za-z0-9]+([_.\-/:]+[A-Za-z0-9]+)+$"),
            rules,
        }
    })
}

/// Whether a string could be a secret at all: printable ASCII without spaces, not a
/// format string, path, URL, prompt, identifier or field label.
fn could_be_secret(value: &str) -> bool {
    let compiled = compiled();
    (4..=64).contains(&value.len())
        && value.bytes().all(|byte| byte.is_ascii_graphic())
        && !value.contains('%')
        && !value.contains("://")
        && !value.starts_with(['/', '.', '-', '<', '{', '['])
        && !value.ends_with([':', '='])
        && !compiled.identifier.is_match(value)
        && !compiled
            .rules
            .labels
            .iter()
            .any(|label| label.eq_ignore_ascii_case(value))
        && value.bytes().any(|byte| byte != value.as_bytes()[0])
}

/// Whether a string after an account name is its password: a known default password,
/// or one that mixes letters with digits or symbols (a word alone is a field name or a
/// translation far more often than a password).
fn looks_like_password(value: &str) -> bool {
    if !could_be_secret(value) {
        return false;
    }
    if known_from(value).is_some() {
        return true;
    }
    let letters = value.bytes().any(|byte| byte.is_ascii_alphabetic());
    let digits = value.bytes().any(|byte| byte.is_ascii_digit());
    let symbols = value.bytes().any(|byte| byte.is_ascii_punctuation());
    value.len() >= 6 && u8::from(letters) + u8::from(digits) + u8::from(symbols) >= 2
}

fn is_account(name: &str) -> bool {
    compiled()
        .rules
        .accounts
        .iter()
        .any(|account| account == name)
}

/// A credential found in a program.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Credential {
    how: How,
    secret: String,
    /// Offset of the secret in the file.
    offset: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum How {
    /// A data symbol's value; `login` when named like a password.
    Symbol { name: String, login: bool },
    /// The password compared with for an account.
    Pair { account: String },
    /// An encoded `account:password`.
    Encoded {
        account: String,
        encoding: &'static str,
    },
}

/// Whether a data symbol's name is about a secret.
fn secret_symbol(name: &str) -> bool {
    let compiled = compiled();
    let name = words_of(name);
    compiled.symbol_names.is_match(&name)
        && !compiled.not_symbol_names.is_match(&name)
        && !compiled.published_symbols.is_match(&name)
}

/// A symbol name in lower case with its words joined by `_` (`passwordMinLength` and
/// `PASSWORD_MIN_LENGTH` both read `password_min_length`).
fn words_of(name: &str) -> String {
    let mut words = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            words.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        words.push(c.to_ascii_lowercase());
    }
    words
}

/// Credentials held by data symbols: a char array holding a string, or a pointer to one.
fn symbol_credentials(view: &ElfView<'_>) -> Vec<Credential> {
    let mut found = Vec::new();
    for symbol in view.data_symbols() {
        if !secret_symbol(&symbol.name) {
            continue;
        }
        // An encoded `user:password` is reported as such, with what it decodes to.
        let direct = view.string_at(symbol.address);
        let through_pointer = (symbol.size == view.pointer_size())
            .then(|| view.pointer_at(symbol.address))
            .flatten()
            .and_then(|target| view.string_at(target));
        let value = through_pointer
            .filter(|(_, text)| could_be_secret(text) && decoded_pair(text).is_none())
            .or(direct.filter(|(_, text)| {
                could_be_secret(text)
                    && decoded_pair(text).is_none()
                    && text.len() as u64 + 1 >= symbol.size.min(64)
            }));
        if let Some((offset, secret)) = value {
            found.push(Credential {
                how: How::Symbol {
                    login: compiled()
                        .login_symbol_names
                        .is_match(&words_of(&symbol.name)),
                    name: symbol.name.clone(),
                },
                secret,
                offset,
            });
        }
    }
    found
}

/// Account names followed by their password in the string layout.
fn pair_credentials(strings: &[Found]) -> Vec<Credential> {
    strings
        .windows(2)
        .filter(|pair| {
            // Adjacent: the second starts within the alignment padding after the first.
            let end = pair[0].offset + pair[0].text.len() as u64 + 1;
            pair[1].offset >= end && pair[1].offset - end < 8
        })
        .filter(|pair| is_account(&pair[0].text) && looks_like_password(&pair[1].text))
        .filter(|pair| !is_account(&pair[1].text))
        .map(|pair| Credential {
            how: How::Pair {
                account: pair[0].text.clone(),
            },
            secret: pair[1].text.clone(),
            offset: pair[1].offset,
        })
        .collect()
}

/// What a base64 or hex string decodes to, when it is `account:password`.
fn decoded_pair(text: &str) -> Option<(&'static str, String, String)> {
    let hex = text.len() >= 16
        && text.len().is_multiple_of(2)
        && text.bytes().all(|byte| byte.is_ascii_hexdigit());
    let (encoding, bytes) = if hex {
        let bytes: Option<Vec<u8>> = (0..text.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok())
            .collect();
        ("hex", bytes?)
    } else if text.len() >= 8 && text.len().is_multiple_of(4) {
        (
            "base64",
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .ok()?,
        )
    } else {
        return None;
    };
    let decoded = String::from_utf8(bytes).ok()?;
    let (account, password) = decoded.split_once(':')?;
    let account_shape = (1..=32).contains(&account.len())
        && account
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-'));
    (account_shape && looks_like_password(password))
        .then(|| (encoding, account.to_owned(), password.to_owned()))
}

fn encoded_credentials(strings: &[Found]) -> Vec<Credential> {
    strings
        .iter()
        .filter_map(|found| {
            let (encoding, account, secret) = decoded_pair(&found.text)?;
            Some(Credential {
                how: How::Encoded { account, encoding },
                secret,
                offset: found.offset,
            })
        })
        .collect()
}

/// Every credential compiled into an ELF file, each secret once.
fn credentials(view: &ElfView<'_>) -> Vec<Credential> {
    let strings = view.strings();
    let compares = view.imports().iter().any(|name| {
        matches!(
            *name,
            "strcmp" | "strncmp" | "strcasecmp" | "strncasecmp" | "memcmp" | "bcmp"
        )
    });
    let mut found = symbol_credentials(view);
    if compares {
        found.extend(pair_credentials(&strings));
    }
    found.extend(encoded_credentials(&strings));
    let mut seen = BTreeSet::new();
    found.retain(|credential| seen.insert(credential.secret.clone()));
    found
}

impl Check for CompiledCredential {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn inspects_files(&self) -> bool {
        true
    }

    fn inspect(&self, node: &Node, bytes: &[u8], sink: &mut FindingSink) {
        let Some(view) = ElfView::parse(bytes) else {
            return;
        };
        for credential in credentials(&view) {
            let (title, login, what) = match &credential.how {
                How::Symbol { name, login } => (
                    format!("{} has a credential compiled in ({name})", node.path),
                    *login,
                    serde_json::json!({"symbol": name}),
                ),
                How::Pair { account } => (
                    format!(
                        "{} compares logins of '{account}' with a password compiled in",
                        node.path
                    ),
                    true,
                    serde_json::json!({"account": account}),
                ),
                How::Encoded { account, encoding } => (
                    format!(
                        "{} holds the {encoding}-encoded password of '{account}'",
                        node.path
                    ),
                    true,
                    serde_json::json!({"account": account, "encoding": encoding}),
                ),
            };
            let provisions: &[&str] = if login {
                &["5.1-1", "5.4-3"]
            } else {
                &["5.4-3"]
            };
            let mut evidence = what;
            evidence["offset"] = credential.offset.into();
            evidence["masked"] = masked(credential.secret.as_bytes()).into();
            evidence["fingerprint"] = fingerprint(credential.secret.as_bytes()).into();
            if let Some(known) = known_from(&credential.secret) {
                evidence["known_default"] = known.source.clone().into();
            }
            sink.add(META.id, provisions, Outcome::Fail, Severity::High, title)
                .detail(
                    "every device running this program accepts the same secret, and anyone \
                     who reads the firmware learns it; check credentials against a per-device \
                     secret set in the factory or by the user, stored hashed outside the program",
                )
                .at(&node.path, None, &node.container)
                .evidence(evidence)
                .record();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(strings: &[String]) -> Vec<Found> {
        let mut offset = 0x1000;
        strings
            .iter()
            .map(|text| {
                let here = offset;
                offset += (text.len() as u64 + 1).next_multiple_of(4);
                Found {
                    offset: here,
                    text: text.clone(),
                }
            })
            .collect()
    }

    #[test]
    fn symbols_examples_and_negatives() {
        let rules = &compiled().rules;
        for example in &rules.symbol_example {
            assert!(
                secret_symbol(&example.name) && could_be_secret(&example.value),
                "{} = {}",
                example.name,
                example.value
            );
        }
        for negative in &rules.symbol_negative {
            assert!(
                !(secret_symbol(&negative.name) && could_be_secret(&negative.value)),
                "{} = {}",
                negative.name,
                negative.value
            );
        }
    }

    #[test]
    fn layout_examples_and_negatives() {
        let rules = &compiled().rules;
        for example in &rules.layout_example {
            let pairs = pair_credentials(&found(&example.strings));
            assert_eq!(pairs.len(), 1, "{:?}: {pairs:?}", example.strings);
            assert_eq!(
                pairs[0].how,
                How::Pair {
                    account: example.account.clone()
                }
            );
            assert_eq!(pairs[0].secret, example.password);
        }
        for negative in &rules.layout_negative {
            let pairs = pair_credentials(&found(&negative.strings));
            assert!(pairs.is_empty(), "{:?}: {pairs:?}", negative.strings);
        }
    }

    #[test]
    fn encoded_examples_and_negatives() {
        let rules = &compiled().rules;
        for example in &rules.encoded_example {
            let (_, account, password) = decoded_pair(&example.text).expect(&example.text);
            assert_eq!(
                (account, password),
                (example.account.clone(), example.password.clone())
            );
        }
        for negative in &rules.encoded_negative {
            assert_eq!(decoded_pair(&negative.text), None, "{}", negative.text);
        }
    }

    #[test]
    fn strings_far_apart_are_no_pair() {
        let strings = vec![
            Found {
                offset: 0x100,
                text: "admin".into(),
            },
            Found {
                offset: 0x200,
                text: "Adm1n2019!".into(),
            },
        ];
        assert!(pair_credentials(&strings).is_empty());
    }
}
