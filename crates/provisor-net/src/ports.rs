//! Which TCP ports to scan: `--ports 22,80,8000-8100`, `-` or `all` for every port
//! (the default), `none` for UDP services only.

use crate::NetError;

/// A set of TCP ports, in ascending order without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    ports: Vec<u16>,
}

impl Default for PortSpec {
    fn default() -> Self {
        PortSpec::all()
    }
}

impl PortSpec {
    /// Every TCP port, 1 to 65535.
    pub fn all() -> PortSpec {
        PortSpec {
            ports: (1..=u16::MAX).collect(),
        }
    }

    /// The ports given.
    pub fn of(ports: &[u16]) -> PortSpec {
        let mut ports: Vec<u16> = ports.iter().copied().filter(|&port| port != 0).collect();
        ports.sort_unstable();
        ports.dedup();
        PortSpec { ports }
    }

    /// Parses a list of ports and ranges (`22,80,8000-8100`), `-` or `all`, or `none`.
    pub fn parse(spec: &str) -> Result<PortSpec, NetError> {
        let spec = spec.trim();
        match spec {
            "-" | "all" => return Ok(PortSpec::all()),
            "none" => return Ok(PortSpec { ports: Vec::new() }),
            _ => {}
        }
        let mut ports = Vec::new();
        let mut column = 1;
        for item in spec.split(',') {
            let wrong = |reason: &str| NetError::Ports {
                spec: spec.to_owned(),
                column,
                reason: format!("`{}` {reason}", item.trim()),
            };
            let number = |text: &str| -> Result<u16, NetError> {
                match text.trim().parse::<u16>() {
                    Ok(0) | Err(_) => Err(wrong("is not a port (1 to 65535)")),
                    Ok(port) => Ok(port),
                }
            };
            match item.split_once('-') {
                Some((first, last)) => {
                    let (first, last) = (number(first)?, number(last)?);
                    if first > last {
                        return Err(wrong("is a range that runs backwards"));
                    }
                    ports.extend(first..=last);
                }
                None => ports.push(number(item)?),
            }
            column += item.len() + 1;
        }
        Ok(PortSpec::of(&ports))
    }

    /// The ports, ascending.
    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    /// How many ports.
    pub fn len(&self) -> usize {
        self.ports.len()
    }

    /// No port at all.
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges_are_read_and_merged() {
        let spec = PortSpec::parse("8080, 22,8000-8002,22").unwrap();
        assert_eq!(spec.ports(), [22, 8000, 8001, 8002, 8080]);
        assert_eq!(PortSpec::parse("all").unwrap().len(), 65535);
        assert_eq!(PortSpec::parse("-").unwrap().len(), 65535);
        assert!(PortSpec::parse("none").unwrap().is_empty());
    }

    #[test]
    fn a_wrong_item_is_named_with_its_column() {
        let error = PortSpec::parse("22,80-70").unwrap_err().to_string();
        assert!(error.contains("column 4"), "{error}");
        assert!(
            error.contains("`80-70` is a range that runs backwards"),
            "{error}"
        );
        let error = PortSpec::parse("22,http").unwrap_err().to_string();
        assert!(error.contains("`http` is not a port"), "{error}");
        assert!(PortSpec::parse("0").is_err());
        assert!(PortSpec::parse("65536").is_err());
    }
}
