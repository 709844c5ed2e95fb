//! The manufacturer's implementation extra information for testing (IXIT), as far as a
//! network assessment uses it: the interfaces the device is declared to offer, and for
//! each, optionally, one credential known to be good. Read from a TOML file:
//!
//! ```toml
//! [[interface]]
//! name = "web administration"
//! port = 443
//! transport = "tcp"          # optional: tcp (the default) or udp
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
    /// Its port.
    pub port: u16,
    /// `tcp` or `udp`.
    #[serde(default = "tcp")]
    pub transport: String,
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

fn tcp() -> String {
    "tcp".into()
}

/// What the IXIT has to say of an open port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declared<'a> {
    /// No interfaces are declared: nothing to compare with.
    Nothing,
    /// The port is declared, and speaks what it is declared to (or nothing was said).
    Yes(&'a Interface),
    /// The port is not among the declared interfaces.
    Undeclared,
    /// The port is declared as one service and speaks another.
    Other(&'a Interface),
}

/// Whether an identified service is the declared one: the same name, or TLS where the
/// declaration names a service inside TLS (or the other way round), since what runs
/// inside TLS cannot always be told (MQTT with client certificates shows as TLS).
fn same_service(declared: &str, identified: &str) -> bool {
    let declared = declared.to_ascii_lowercase();
    declared == identified
        || (identified == "tls" && declared.ends_with('s'))
        || (declared == "tls" && identified.ends_with('s'))
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
            if !matches!(interface.transport.as_str(), "tcp" | "udp") {
                return Err(format!(
                    "interface \"{}\": transport is \"{}\"; write tcp or udp",
                    interface.name, interface.transport
                ));
            }
            if interface.user.is_some() != interface.password.is_some() {
                return Err(format!(
                    "interface \"{}\": give both user and password, or neither",
                    interface.name
                ));
            }
        }
        Ok(ixit)
    }

    /// The declared interface on `port` over `transport` (`tcp`, `udp`).
    pub fn interface(&self, port: u16, transport: &str) -> Option<&Interface> {
        self.interfaces
            .iter()
            .find(|interface| interface.port == port && interface.transport == transport)
    }

    /// What the IXIT says of `port` over `transport`, where `identified` speaks (when it
    /// could be told).
    pub fn declares(&self, port: u16, transport: &str, identified: Option<&str>) -> Declared<'_> {
        if self.interfaces.is_empty() {
            return Declared::Nothing;
        }
        let Some(interface) = self.interface(port, transport) else {
            return Declared::Undeclared;
        };
        match (interface.service.as_deref(), identified) {
            (Some(declared), Some(identified)) if !same_service(declared, identified) => {
                Declared::Other(interface)
            }
            _ => Declared::Yes(interface),
        }
    }

    /// These interfaces, with `over`'s replacing any on the same port and transport:
    /// a separate IXIT file wins over the assessment's entries.
    pub fn merged_with(mut self, over: Ixit) -> Ixit {
        for interface in over.interfaces {
            self.interfaces.retain(|existing| {
                existing.port != interface.port || existing.transport != interface.transport
            });
            self.interfaces.push(interface);
        }
        self
    }

    /// The known-good credential of the TCP interface on `port`.
    pub fn credential(&self, port: u16) -> Option<(&str, &str)> {
        let interface = self.interface(port, "tcp")?;
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
        assert!(ixit.interface(22, "tcp").is_none());
    }

    #[test]
    fn open_ports_are_held_against_the_declarations() {
        let ixit = Ixit::parse(
            "[[interface]]\nname = \"web\"\nport = 443\nservice = \"https\"\n\n[[interface]]\nname = \"app\"\nport = 8883\nservice = \"mqtts\"\n\n[[interface]]\nname = \"discovery\"\nport = 5683\ntransport = \"udp\"\nservice = \"coap\"\n",
        )
        .unwrap();
        assert!(matches!(
            ixit.declares(443, "tcp", Some("https")),
            Declared::Yes(_)
        ));
        assert!(matches!(
            ixit.declares(443, "tcp", Some("http")),
            Declared::Other(_)
        ));
        // MQTT with client certificates shows only TLS.
        assert!(matches!(
            ixit.declares(8883, "tcp", Some("tls")),
            Declared::Yes(_)
        ));
        assert!(matches!(ixit.declares(8883, "tcp", None), Declared::Yes(_)));
        assert!(matches!(
            ixit.declares(5683, "udp", Some("coap")),
            Declared::Yes(_)
        ));
        assert_eq!(
            ixit.declares(5683, "tcp", Some("http")),
            Declared::Undeclared
        );
        assert_eq!(
            ixit.declares(161, "udp", Some("snmp")),
            Declared::Undeclared
        );
        assert_eq!(Ixit::default().declares(22, "tcp", None), Declared::Nothing);
        let error = Ixit::parse("[[interface]]\nname = \"x\"\nport = 1\ntransport = \"sctp\"\n")
            .unwrap_err();
        assert!(error.contains("write tcp or udp"), "{error}");
    }

    #[test]
    fn a_separate_file_wins_over_the_assessment() {
        let assessment = Ixit::parse(
            "[[interface]]\nname = \"web\"\nport = 80\n\n[[interface]]\nname = \"ssh\"\nport = 22\n",
        )
        .unwrap();
        let file =
            Ixit::parse("[[interface]]\nname = \"web (TLS)\"\nport = 80\nservice = \"https\"\n")
                .unwrap();
        let merged = assessment.merged_with(file);
        assert_eq!(merged.interfaces.len(), 2);
        assert_eq!(merged.interface(80, "tcp").unwrap().name, "web (TLS)");
        assert!(merged.interface(22, "tcp").is_some());
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
