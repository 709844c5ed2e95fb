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
