//! UPnP past discovery: the device description an SSDP answer points to (its LOCATION,
//! fetched only when it is on the target itself), read leniently for what it tells of
//! the device (name, maker, model, serial number) and its services' control URLs; and a
//! read-only SOAP action, to see whether a control URL answers without authentication.

use std::net::IpAddr;
use std::time::Duration;

use super::http::{self, Verb};
use crate::target::Target;

/// Services listed, at most.
const SERVICES: usize = 32;

/// A UPnP device as its description tells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Description {
    /// Where the description was read (`http://host:port/path`).
    pub location: String,
    /// The port it was read from.
    pub port: u16,
    /// `friendlyName`, `manufacturer`, `modelName`, `modelNumber`, `serialNumber`,
    /// `UDN`: those present, in that order.
    pub fields: Vec<(String, String)>,
    /// The services: (serviceType, controlURL as a path).
    pub services: Vec<(String, String)>,
}

impl Description {
    /// A field of the description.
    pub fn field(&self, name: &str) -> Option<&str> {
        super::value_of(&self.fields, name)
    }
}

/// The port and path of a LOCATION URL, when it points at `address` over plain HTTP.
pub fn on_target(location: &str, address: IpAddr) -> Option<(u16, String)> {
    let rest = location.trim().strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], rest[at..].to_owned()),
        None => (rest, "/".to_owned()),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') => (host, port.parse().ok()?),
        _ => (authority, 80),
    };
    let host: IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    (host == address).then_some((port, path))
}

/// The text of the first `<name>…</name>` element in `xml` (any namespace prefix),
/// entities decoded.
fn element(xml: &str, name: &str) -> Option<String> {
    let open = xml.match_indices('<').map(|(at, _)| at).find(|&at| {
        let tag = &xml[at + 1..];
        let local = tag.split_once(':').map_or(tag, |(prefix, rest)| {
            if prefix.contains(['>', ' ', '/']) {
                tag
            } else {
                rest
            }
        });
        local.starts_with(name) && local[name.len()..].starts_with(['>', ' '])
    })?;
    let start = open + xml[open..].find('>')? + 1;
    let end = start + xml[start..].find("</")?;
    let text = xml[start..end].trim();
    Some(
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// Reads a device description.
pub fn parse(xml: &str, location: &str, port: u16) -> Description {
    let fields = [
        "friendlyName",
        "manufacturer",
        "modelName",
        "modelNumber",
        "serialNumber",
        "UDN",
    ]
    .iter()
    .filter_map(|name| {
        let value = element(xml, name)?;
        (!value.is_empty()).then(|| ((*name).to_owned(), value))
    })
    .collect();
    let mut services = Vec::new();
    for block in xml.split("<service>").skip(1).take(SERVICES) {
        let block = block.split("</service>").next().unwrap_or(block);
        if let (Some(kind), Some(control)) =
            (element(block, "serviceType"), element(block, "controlURL"))
        {
            let control = match on_target_path(&control) {
                Some(path) => path,
                None => continue,
            };
            services.push((kind, control));
        }
    }
    Description {
        location: location.to_owned(),
        port,
        fields,
        services,
    }
}

/// A control URL as a path on the same server (absolute URLs elsewhere are left out).
fn on_target_path(url: &str) -> Option<String> {
    if url.starts_with('/') {
        Some(url.to_owned())
    } else if url.contains("://") {
        None
    } else {
        Some(format!("/{url}"))
    }
}

/// Fetches and reads the description at `location`, when it is on the target.
pub async fn describe(target: &Target, location: &str, deadline: Duration) -> Option<Description> {
    let (port, path) = on_target(location, target.address)?;
    let page = http::get(target, port, false, &path, "", deadline).await?;
    if page.status != 200 {
        return None;
    }
    Some(parse(&String::from_utf8_lossy(&page.body), location, port))
}

/// Sends the read-only SOAP `action` of `service` to its control URL; the HTTP status.
pub async fn soap(
    target: &Target,
    port: u16,
    (service, control): (&str, &str),
    action: &str,
    deadline: Duration,
) -> Option<u16> {
    let body = format!(
        "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:{action} xmlns:u=\"{service}\"></u:{action}></s:Body></s:Envelope>\r\n"
    );
    let header = format!("SOAPAction: \"{service}#{action}\"\r\n");
    let verb = Verb::Post {
        content_type: "text/xml; charset=\"utf-8\"",
        body: &body,
    };
    Some(
        http::send(target, port, false, verb, control, &header, deadline)
            .await?
            .status,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_locations_on_the_target_are_followed() {
        let target: IpAddr = "198.18.231.2".parse().unwrap();
        assert_eq!(
            on_target("http://198.18.231.2:5000/rootDesc.xml", target),
            Some((5000, "/rootDesc.xml".to_owned()))
        );
        assert_eq!(
            on_target("http://198.18.231.2/desc", target),
            Some((80, "/desc".to_owned()))
        );
        assert_eq!(
            on_target("http://192.0.2.9:5000/rootDesc.xml", target),
            None
        );
        assert_eq!(on_target("https://198.18.231.2/desc", target), None);
        assert_eq!(on_target("http://router.example:80/", target), None);
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            on_target("http://[2001:db8::1]:49152/d.xml", v6),
            Some((49152, "/d.xml".to_owned()))
        );
    }

    #[test]
    fn a_description_is_read_leniently() {
        let xml = r#"<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device>
            <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType>
            <friendlyName>Acme &amp; Co router</friendlyName><manufacturer>Acme</manufacturer>
            <modelName>AcmeGate</modelName><modelNumber>4.1.7</modelNumber>
            <serialNumber>AG-55-0091</serialNumber><UDN>uuid:3e1f</UDN>
            <serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:2</serviceType>
            <controlURL>/ctl/IPConn</controlURL></service>
            <service><serviceType>urn:x</serviceType><controlURL>http://elsewhere.example/c</controlURL></service>
            <service><serviceType>urn:y</serviceType><controlURL>ctl/Y</controlURL></service></serviceList>
            </device></root>"#;
        let description = parse(xml, "http://198.18.231.2:5000/rootDesc.xml", 5000);
        assert_eq!(description.field("friendlyName"), Some("Acme & Co router"));
        assert_eq!(description.field("serialNumber"), Some("AG-55-0091"));
        assert_eq!(description.field("modelNumber"), Some("4.1.7"));
        assert_eq!(
            description.services,
            [
                (
                    "urn:schemas-upnp-org:service:WANIPConnection:2".to_owned(),
                    "/ctl/IPConn".to_owned()
                ),
                ("urn:y".to_owned(), "/ctl/Y".to_owned())
            ]
        );
        // Prefixed elements, and broken markup that neither panics nor invents fields.
        assert_eq!(
            element("<d:serialNumber>7</d:serialNumber>", "serialNumber").as_deref(),
            Some("7")
        );
        assert_eq!(
            element("<serialNumberX>7</serialNumberX>", "serialNumber"),
            None
        );
        assert_eq!(element("<serialNumber>7", "serialNumber"), None);
        assert_eq!(parse("<service><serviceType>", "", 0).services, []);
    }
}
