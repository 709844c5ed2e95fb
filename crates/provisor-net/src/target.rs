//! The host under assessment: resolved once to one address, with the source address
//! connections are made from. Connections to 127.0.0.1 come from 127.0.0.2, so that a
//! TCP self-connect, where a connection to a closed port meets itself, cannot happen
//! (to any other 127.x address the kernel already picks 127.0.0.1 as the source, and
//! binding each socket would only slow discovery down); on ::1, which has no second
//! address, discovery reads a connection whose two ends are the same as closed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::NetError;

/// A host to assess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host as the user named it.
    pub name: String,
    /// The address connections go to.
    pub address: IpAddr,
    /// The address connections come from, when one is chosen.
    pub source: Option<IpAddr>,
}

/// How long a name may take to resolve.
const RESOLVE_DEADLINE: Duration = Duration::from_secs(5);

impl Target {
    /// Resolves `host` (an IPv4 or IPv6 address, or a name; IPv4 first).
    pub async fn resolve(host: &str) -> Result<Target, NetError> {
        let host = host.trim();
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        let address = match literal.parse::<IpAddr>() {
            Ok(address) => address,
            Err(_) => {
                let lookup = tokio::net::lookup_host((host, 0));
                let found: Vec<SocketAddr> = tokio::time::timeout(RESOLVE_DEADLINE, lookup)
                    .await
                    .map_err(|_| NetError::Resolve {
                        host: host.to_owned(),
                        reason: format!("no answer within {} s", RESOLVE_DEADLINE.as_secs()),
                    })?
                    .map_err(|error| NetError::Resolve {
                        host: host.to_owned(),
                        reason: error.to_string(),
                    })?
                    .collect();
                found
                    .iter()
                    .find(|address| address.is_ipv4())
                    .or(found.first())
                    .map(SocketAddr::ip)
                    .ok_or_else(|| NetError::Resolve {
                        host: host.to_owned(),
                        reason: "the name has no address".into(),
                    })?
            }
        };
        if address.is_unspecified() || address.is_multicast() {
            return Err(NetError::Resolve {
                host: host.to_owned(),
                reason: format!("{address} is not the address of one host"),
            });
        }
        Ok(Target {
            name: host.to_owned(),
            address,
            source: source_for(address),
        })
    }

    /// Whether the host is this machine's loopback (127.0.0.0/8 or ::1).
    pub fn is_loopback(&self) -> bool {
        self.address.is_loopback()
    }

    /// `host:port` as findings write it (`[::1]:22` for IPv6).
    pub fn endpoint(&self, port: u16) -> String {
        SocketAddr::new(self.address, port).to_string()
    }
}

/// The source address for connections to `target`, when it must not be the kernel's
/// choice.
fn source_for(target: IpAddr) -> Option<IpAddr> {
    (target == IpAddr::V4(Ipv4Addr::LOCALHOST)).then_some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(host: &str) -> Result<Target, NetError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(Target::resolve(host))
    }

    #[test]
    fn loopback_targets_get_another_source_address() {
        let one = resolve("127.0.0.1").unwrap();
        assert_eq!(one.source, Some("127.0.0.2".parse().unwrap()));
        let five = resolve("127.0.0.5").unwrap();
        assert_eq!(five.source, None);
        assert!(five.is_loopback());
        assert_eq!(five.endpoint(22), "127.0.0.5:22");
        let six = resolve("[::1]").unwrap();
        assert_eq!(six.endpoint(22), "[::1]:22");
        assert_eq!(resolve("localhost").unwrap().address, Ipv4Addr::LOCALHOST);
    }

    #[test]
    fn addresses_of_no_single_host_are_refused() {
        for host in ["0.0.0.0", "224.0.0.251", "::"] {
            let error = resolve(host).unwrap_err().to_string();
            assert!(error.contains("not the address of one host"), "{error}");
        }
    }
}
