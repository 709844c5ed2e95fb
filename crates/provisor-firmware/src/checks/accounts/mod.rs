//! Account checks, and the reading of the account databases they share: `/etc/passwd`
//! and `/etc/shadow` (busybox and glibc layouts).

pub mod default_password;
pub mod weak_password_hash;

use std::sync::OnceLock;

use serde::Deserialize;

use crate::checks::Context;

/// The largest account file read.
const MAX_ACCOUNT_FILE: u64 = 1 << 20;

/// An account with a password hash, and where the hash is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Account {
    pub name: String,
    pub uid: Option<u32>,
    /// The password field as stored (`$6$…`, `!`, `*`, empty).
    pub hash: String,
    pub path: String,
    pub line: u64,
    pub container: String,
}

impl Account {
    /// Locked accounts (`!…`, `*`, `x` left in shadow) cannot log in with a password.
    pub fn is_locked(&self) -> bool {
        self.hash.starts_with('!') || self.hash.starts_with('*') || self.hash == "x"
    }
}

/// Reads the accounts of the image: shadow hashes where there is a shadow file, passwd
/// hashes otherwise.
pub(crate) fn accounts(context: &Context<'_>) -> Vec<Account> {
    let vfs = context.vfs;
    let container = |path: &str| vfs.container_of(path);
    let mut uids = std::collections::BTreeMap::new();
    let mut accounts = Vec::new();
    if let Ok(passwd) = vfs.read_text("/etc/passwd", MAX_ACCOUNT_FILE) {
        for (index, line) in passwd.lines().enumerate() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() < 7 || line.trim_start().starts_with('#') {
                continue;
            }
            let uid = fields[2].parse::<u32>().ok();
            uids.insert(fields[0].to_owned(), uid);
            // "x" defers to shadow; anything else is a hash kept in passwd itself.
            if fields[1] != "x" {
                accounts.push(Account {
                    name: fields[0].to_owned(),
                    uid,
                    hash: fields[1].to_owned(),
                    path: "/etc/passwd".into(),
                    line: index as u64 + 1,
                    container: container("/etc/passwd"),
                });
            }
        }
    }
    if let Ok(shadow) = vfs.read_text("/etc/shadow", MAX_ACCOUNT_FILE) {
        for (index, line) in shadow.lines().enumerate() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() < 2 || line.trim_start().starts_with('#') {
                continue;
            }
            accounts.retain(|account: &Account| account.name != fields[0]);
            accounts.push(Account {
                name: fields[0].to_owned(),
                uid: uids.get(fields[0]).copied().flatten(),
                hash: fields[1].to_owned(),
                path: "/etc/shadow".into(),
                line: index as u64 + 1,
                container: container("/etc/shadow"),
            });
        }
    }
    accounts
}

/// A well-known credential.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Credential {
    pub user: String,
    pub password: String,
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialFile {
    credential: Vec<Credential>,
}

/// The curated default-credential list (`data/default-credentials.toml`).
pub(crate) fn default_credentials() -> &'static [Credential] {
    static LIST: OnceLock<Vec<Credential>> = OnceLock::new();
    LIST.get_or_init(|| {
        toml::from_str::<CredentialFile>(include_str!("../../../data/default-credentials.toml"))
            .expect("the embedded credential list is valid (tested)")
            .credential
    })
}

/// Where a password is known from: the first listed credential with it.
pub(crate) fn known_from(password: &str) -> Option<&'static Credential> {
    default_credentials()
        .iter()
        .find(|credential| credential.password == password)
}

/// The distinct passwords of the list, most common first (list order).
pub(crate) fn default_passwords() -> Vec<&'static str> {
    let mut passwords: Vec<&'static str> = Vec::new();
    for credential in default_credentials() {
        if !passwords.contains(&credential.password.as_str()) {
            passwords.push(&credential.password);
        }
    }
    passwords
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_list_holds_the_62_mirai_pairs() {
        let list = default_credentials();
        assert_eq!(list.iter().filter(|c| c.source == "mirai").count(), 62);
        assert!(
            list.iter()
                .any(|c| c.user == "root" && c.password == "xc3511")
        );
        assert!(default_passwords().contains(&""));
    }
}
