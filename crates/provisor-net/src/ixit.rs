//! The manufacturer's implementation extra information for testing (IXIT), as far as a
//! network assessment uses it: the interfaces the device is declared to offer, and for
//! each, optionally, one credential known to be good. Read from a TOML file:
//!
//! ```toml
//! [[interface]]
//! name = "web administration"
//! port = 443
//! service = "https"          # optional: what the port speaks
//! user = "admin"             # optional: a known-good credential for this interface
//! password = "…"
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::NetError;

/// The declared interfaces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ixit {
    /// Every interface the manufacturer declares.
    #[serde(default, rename = "interface")]
    pub interfaces: Vec<Interface>,
}

/// One declared network interface.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    /// What the manufacturer calls it.
    pub name: String,
    /// Its TCP port.
    pub port: u16,
    /// The service it speaks, if said.
    #[serde(default)]
    pub service: Option<String>,
    /// A known-good user for it.
    #[serde(default)]
    pub user: Option<String>,
    /// That user's password.
    #[serde(default)]
    pub password: Option<String>,
}

impl Ixit {
    /// Reads an IXIT file; errors name the file and, for TOML errors, the line.
    pub fn load(path: &Path) -> Result<Ixit, NetError> {
        let text = std::fs::read_to_string(path).map_err(|error| NetError::Ixit {
            path: path.display().to_string(),
            reason: error.to_string(),
        })?;
        Ixit::parse(&text).map_err(|reason| NetError::Ixit {
            path: path.display().to_string(),
            reason,
        })
    }

    /// Parses IXIT text.
    pub fn parse(text: &str) -> Result<Ixit, String> {
        let ixit: Ixit = toml::from_str(text).map_err(|error| {
            let line = error
                .span()
                .map(|span| text[..span.start].matches('\n').count() + 1);
            match line {
                Some(line) => format!("line {line}: {}", error.message()),
                None => error.message().to_owned(),
            }
        })?;
        for interface in &ixit.interfaces {
            if interface.user.is_some() != interface.password.is_some() {
                return Err(format!(
                    "interface \"{}\": give both user and password, or neither",
                    interface.name
                ));
            }
        }
        Ok(ixit)
    }

    /// The declared interface on `port`.
    pub fn interface(&self, port: u16) -> Option<&Interface> {
        self.interfaces
            .iter()
            .find(|interface| interface.port == port)
    }

    /// The known-good credential of the interface on `port`.
    pub fn credential(&self, port: u16) -> Option<(&str, &str)> {
        let interface = self.interface(port)?;
        Some((interface.user.as_deref()?, interface.password.as_deref()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_and_credentials_are_read() {
        let ixit = Ixit::parse(
            "[[interface]]\nname = \"web\"\nport = 443\nservice = \"https\"\nuser = \"admin\"\npassword = \"s3cret!\"\n\n[[interface]]\nname = \"mqtt\"\nport = 8883\n",
        )
        .unwrap();
        assert_eq!(ixit.interfaces.len(), 2);
        assert_eq!(ixit.credential(443), Some(("admin", "s3cret!")));
        assert_eq!(ixit.credential(8883), None);
        assert!(ixit.interface(22).is_none());
    }

    #[test]
    fn mistakes_are_named_with_their_line() {
        let error = Ixit::parse("[[interface]]\nname = \"web\"\nport = \"https\"\n").unwrap_err();
        assert!(error.starts_with("line 3:"), "{error}");
        let error = Ixit::parse("[[interface]]\nname = \"web\"\nport = 80\nuser = \"admin\"\n")
            .unwrap_err();
        assert!(error.contains("both user and password"), "{error}");
    }
}
