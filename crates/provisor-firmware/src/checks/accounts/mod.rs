//! Account checks, and the reading of the account databases they share: `/etc/passwd`
//! and `/etc/shadow` (busybox and glibc layouts), and the password files of services:
//! htpasswd, htdigest and plain user files (lighttpd, nginx, Apache), busybox httpd's
//! `httpd.conf`, and mosquitto password files. Service files are found where the
//! daemons' configuration points and by their conventional names.

pub mod default_password;
pub(crate) mod hashes;
pub mod weak_password_hash;

use std::sync::OnceLock;

use serde::Deserialize;

use crate::checks::Context;
use crate::checks::services::config::directives;
use hashes::Scheme;

/// The largest account file read.
const MAX_ACCOUNT_FILE: u64 = 1 << 20;

/// What an account logs in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    /// The operating system (`/etc/shadow`).
    System,
    /// A web interface (htpasswd, htdigest, plain user files, httpd.conf).
    Web,
    /// The MQTT broker.
    Mqtt,
}

impl Service {
    /// How reports name an account of this service.
    pub fn noun(self) -> &'static str {
        match self {
            Service::System => "account",
            Service::Web => "web user",
            Service::Mqtt => "MQTT user",
        }
    }
}

/// An account with a password hash, and where the hash is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Account {
    pub name: String,
    pub uid: Option<u32>,
    /// The password field as stored (`$6$…`, `!`, `*`, empty, or a plain password).
    pub hash: String,
    pub scheme: Scheme,
    /// The realm of an htdigest entry.
    pub realm: String,
    pub service: Service,
    pub path: String,
    pub line: u64,
    pub container: String,
}

impl Account {
    /// Locked accounts (`!…`, `*`, `x` left in shadow) cannot log in with a password.
    pub fn is_locked(&self) -> bool {
        self.scheme != Scheme::Plain
            && (self.hash.starts_with('!') || self.hash.starts_with('*') || self.hash == "x")
    }

    /// Whether `password` is this account's.
    pub fn verify(&self, password: &str) -> bool {
        hashes::verify(self.scheme, &self.hash, password, &self.name, &self.realm)
    }
}

/// Reads the accounts of the image: the system's (shadow hashes where there is a shadow
/// file, passwd hashes otherwise) and the services'.
pub(crate) fn accounts(context: &Context<'_>) -> Vec<Account> {
    let mut accounts = system_accounts(context);
    accounts.extend(service_accounts(context));
    accounts
}

fn system_accounts(context: &Context<'_>) -> Vec<Account> {
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
                    scheme: hashes::crypt_scheme(fields[1]),
                    realm: String::new(),
                    service: Service::System,
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
                scheme: hashes::crypt_scheme(fields[1]),
                realm: String::new(),
                service: Service::System,
                path: "/etc/shadow".into(),
                line: index as u64 + 1,
                container: container("/etc/shadow"),
            });
        }
    }
    accounts
}

/// How a service's password file stores its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layout {
    /// `user:hash` in crypt(3), apr1 or `{SHA}`.
    Htpasswd,
    /// `user:realm:md5`.
    Htdigest,
    /// `user:password`.
    Plain,
    /// busybox httpd: `/path:user:password` (plain or md5crypt).
    BusyboxHttpd,
    /// `user:$6$…` or `user:$7$…`.
    Mosquitto,
}

/// The service password files: where configuration points, then conventional names.
fn service_files(context: &Context<'_>) -> Vec<(String, Layout)> {
    let vfs = context.vfs;
    let mut files = std::collections::BTreeMap::new();
    let mut add = |path: &str, layout| {
        let path = crate::sandbox::normalize_within(path, "/", 4096).unwrap_or_default();
        if vfs.resolve(&path).is_some() {
            files.entry(path).or_insert(layout);
        }
    };
    for node in vfs.files() {
        let path = node.path.as_str();
        let name = path.rsplit('/').next().unwrap_or(path);
        let configuration = path.starts_with("/etc/lighttpd/")
            || path.starts_with("/etc/nginx/")
            || path.starts_with("/etc/mosquitto/")
            || path.starts_with("/etc/apache2/");
        if configuration && node.size <= MAX_ACCOUNT_FILE {
            let Ok(text) = vfs.read_text(path, MAX_ACCOUNT_FILE) else {
                continue;
            };
            for (key, value, _) in directives(&text) {
                let value = value.trim_start_matches(['=', ' ']).trim_end_matches(';');
                let value = value.trim().trim_matches(['"', '\'']);
                match key.as_str() {
                    "auth.backend.htpasswd.userfile" => add(value, Layout::Htpasswd),
                    "auth.backend.htdigest.userfile" => add(value, Layout::Htdigest),
                    "auth.backend.plain.userfile" => add(value, Layout::Plain),
                    "auth_basic_user_file" | "AuthUserFile" => add(value, Layout::Htpasswd),
                    "AuthDigestFile" => add(value, Layout::Htdigest),
                    "password_file" => add(value, Layout::Mosquitto),
                    _ => {}
                }
            }
        }
        match name {
            ".htpasswd" | "htpasswd" | "htpasswd.users" => add(path, Layout::Htpasswd),
            ".htdigest" | "htdigest" => add(path, Layout::Htdigest),
            "httpd.conf" if path.starts_with("/etc/") => add(path, Layout::BusyboxHttpd),
            _ if name.ends_with(".htpasswd") => add(path, Layout::Htpasswd),
            _ => {}
        }
    }
    files.into_iter().collect()
}

/// The accounts of the services' password files.
fn service_accounts(context: &Context<'_>) -> Vec<Account> {
    let vfs = context.vfs;
    let mut accounts = Vec::new();
    for (path, layout) in service_files(context) {
        let Ok(text) = vfs.read_text(&path, MAX_ACCOUNT_FILE) else {
            continue;
        };
        let container = vfs.container_of(&path);
        for (index, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim_start().starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.splitn(3, ':').collect();
            let (name, realm, hash, scheme, service) = match (layout, fields.as_slice()) {
                // The hash is everything after the first colon.
                (Layout::Htpasswd, [name, _, ..]) => {
                    let hash = &line[name.len() + 1..];
                    (*name, "", hash, hashes::crypt_scheme(hash), Service::Web)
                }
                (Layout::Htdigest, [name, realm, hash]) => {
                    (*name, *realm, *hash, Scheme::Digest, Service::Web)
                }
                (Layout::Plain, [name, _, ..]) => (
                    *name,
                    "",
                    &line[name.len() + 1..],
                    Scheme::Plain,
                    Service::Web,
                ),
                (Layout::BusyboxHttpd, [location, name, password]) if location.starts_with('/') => {
                    let scheme = if password.starts_with("$1$") {
                        Scheme::Md5Crypt
                    } else {
                        Scheme::Plain
                    };
                    (*name, "", *password, scheme, Service::Web)
                }
                (Layout::Mosquitto, [name, _, ..]) => {
                    let hash = &line[name.len() + 1..];
                    (
                        *name,
                        "",
                        hash,
                        hashes::mosquitto_scheme(hash),
                        Service::Mqtt,
                    )
                }
                _ => continue,
            };
            accounts.push(Account {
                name: name.to_owned(),
                uid: None,
                hash: hash.to_owned(),
                scheme,
                realm: realm.to_owned(),
                service,
                path: path.clone(),
                line: index as u64 + 1,
                container: container.clone(),
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

/// The curated default-credential list (`data/default-credentials.toml` at the root of
/// the repository, shared with the network checks).
pub(crate) fn default_credentials() -> &'static [Credential] {
    static LIST: OnceLock<Vec<Credential>> = OnceLock::new();
    LIST.get_or_init(|| {
        toml::from_str::<CredentialFile>(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/default-credentials.toml"
        )))
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
