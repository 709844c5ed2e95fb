//! Readers shared by the service-configuration checks: OpenWrt's UCI files
//! (`/etc/config/*`) and the `key value` / `key = value` lines of daemon configuration,
//! each value with its line number. Commented-out lines are never read.

use crate::checks::active_lines;

/// One option of a UCI section: section type, option name, value, line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UciOption {
    pub section: String,
    pub name: String,
    pub value: String,
    pub line: u64,
}

/// One UCI section (`config TYPE 'NAME'`) with its options and lists in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UciSection {
    pub kind: String,
    /// The name, empty for an anonymous section.
    pub name: String,
    pub line: u64,
    /// (option, value, line); a `list` contributes one entry per value.
    pub options: Vec<(String, String, u64)>,
}

impl UciSection {
    /// The last value of an option.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(option, ..)| option == name)
            .map(|(_, value, _)| value.as_str())
    }

    /// The line of an option's last value, or of the section.
    pub fn line_of(&self, name: &str) -> u64 {
        self.options
            .iter()
            .rev()
            .find(|(option, ..)| option == name)
            .map_or(self.line, |(.., line)| *line)
    }

    /// Every value of an option or list.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (&'a str, u64)> + 'a {
        self.options
            .iter()
            .filter(move |(option, ..)| option == name)
            .map(|(_, value, line)| (value.as_str(), *line))
    }
}

/// The sections of a UCI file, options and lists included.
pub(crate) fn uci_sections(text: &str) -> Vec<UciSection> {
    let mut sections: Vec<UciSection> = Vec::new();
    for (line, content) in active_lines(text) {
        let mut words = content.splitn(3, char::is_whitespace);
        match (words.next(), words.next(), words.next()) {
            (Some("config"), Some(kind), name) => sections.push(UciSection {
                kind: unquote(kind),
                name: name.map(unquote).unwrap_or_default(),
                line,
                options: Vec::new(),
            }),
            (Some("option" | "list"), Some(name), Some(value)) => {
                if let Some(section) = sections.last_mut() {
                    section.options.push((unquote(name), unquote(value), line));
                }
            }
            _ => {}
        }
    }
    sections
}

/// Strips one level of UCI quoting.
fn unquote(value: &str) -> String {
    let value = value.trim();
    for quote in ['\'', '"'] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner.to_owned();
        }
    }
    value.to_owned()
}

/// The options of a UCI file (`config TYPE ['NAME']` then `option NAME 'VALUE'`).
pub(crate) fn uci_options(text: &str) -> Vec<UciOption> {
    let mut section = String::new();
    let mut options = Vec::new();
    for (line, content) in active_lines(text) {
        let mut words = content.splitn(3, char::is_whitespace);
        match (words.next(), words.next(), words.next()) {
            (Some("config"), Some(kind), _) => section = unquote(kind),
            (Some("option"), Some(name), Some(value)) => options.push(UciOption {
                section: section.clone(),
                name: unquote(name),
                value: unquote(value),
                line,
            }),
            _ => {}
        }
    }
    options
}

/// The directives of a `key value` configuration (mosquitto, sshd): key, value, line.
pub(crate) fn directives(text: &str) -> Vec<(String, String, u64)> {
    active_lines(text)
        .map(|(line, content)| {
            let content = content.split(" #").next().unwrap_or(content);
            let (key, value) = content
                .split_once(char::is_whitespace)
                .unwrap_or((content, ""));
            (key.to_owned(), value.trim().to_owned(), line)
        })
        .collect()
}

/// The protocol versions below TLS 1.2 a list of versions enables (`TLSv1 TLSv1.1
/// TLSv1.2`, `tlsv1`, `SSLv3`), as written.
pub(crate) fn legacy_protocols(value: &str) -> Vec<String> {
    value
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ':' | ';' | '"' | '\''))
        .filter(|word| {
            matches!(
                word.to_ascii_lowercase().as_str(),
                "sslv2" | "sslv3" | "tlsv1" | "tlsv1.0" | "tlsv1.1"
            )
        })
        .map(str::to_owned)
        .collect()
}

/// Names and name parts of broken cipher suites, in OpenSSL's spelling.
const WEAK_CIPHER_PARTS: &[&str] = &[
    "RC4", "NULL", "ENULL", "ANULL", "EXP", "EXPORT", "DES", "3DES", "MD5", "ADH", "AECDH",
];

/// The weak suites an OpenSSL cipher string enables (RC4, DES and 3DES, NULL, export,
/// anonymous, MD5), or a security level of 0; excluded entries (`!RC4`, `-DES`) are fine.
pub(crate) fn weak_ciphers(value: &str) -> Vec<String> {
    value
        .split(|c: char| c.is_whitespace() || matches!(c, ':' | ',' | ';' | '"' | '\''))
        .filter(|token| !token.is_empty() && !token.starts_with(['!', '-']))
        .filter(|token| {
            let upper = token.trim_start_matches('+').to_ascii_uppercase();
            upper.contains("SECLEVEL=0")
                || upper
                    .split(['-', '_', '@'])
                    .any(|part| WEAK_CIPHER_PARTS.contains(&part))
        })
        .map(str::to_owned)
        .collect()
}

/// Whether a UCI or configuration value switches something on.
pub(crate) fn is_on(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "on" | "yes" | "true" | "enable" | "enabled"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_protocols_and_weak_ciphers_are_named() {
        assert_eq!(
            legacy_protocols("TLSv1 TLSv1.1 TLSv1.2;"),
            ["TLSv1", "TLSv1.1"]
        );
        assert!(legacy_protocols("TLSv1.2 TLSv1.3").is_empty());
        assert_eq!(legacy_protocols("tlsv1"), ["tlsv1"]);
        assert_eq!(weak_ciphers("'HIGH:RC4-SHA:!aNULL:!MD5'"), ["RC4-SHA"]);
        assert_eq!(weak_ciphers("DEFAULT@SECLEVEL=0"), ["DEFAULT@SECLEVEL=0"]);
        assert_eq!(
            weak_ciphers("DES-CBC3-SHA:ECDHE-RSA-AES128-GCM-SHA256"),
            ["DES-CBC3-SHA"]
        );
        assert!(
            weak_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:!3DES:!RC4")
                .is_empty()
        );
        assert!(weak_ciphers("HIGH:!aNULL:!MD5").is_empty());
    }

    #[test]
    fn uci_sections_and_options_are_read() {
        let text = "config dropbear\n\toption PasswordAuth 'on'\n#\toption RootLogin 'on'\n\toption Port '22'\n";
        let options = uci_options(text);
        assert_eq!(options.len(), 2);
        assert_eq!(options[0].section, "dropbear");
        assert_eq!(options[0].value, "on");
        assert_eq!(options[1].line, 4);
        assert!(is_on("'on'".trim_matches('\'')));
    }
}
