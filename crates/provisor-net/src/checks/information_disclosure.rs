//! `net.information-disclosure`: software versions a device tells anyone who asks.

use provisor_engine::{FindingSink, Outcome, Severity};

use super::{Check, CheckMeta, CheckRun, HostContext, pass_if_clean};
use crate::proto::http;

/// Notes the software and versions services reveal before authentication: web servers'
/// `Server` and `X-Powered-By` headers, FTP and other banners, the SERVER header of
/// UPnP's SSDP answers, the serial number in a UPnP device description (fetched from the
/// LOCATION an SSDP answer gives, only when it is on the target), mDNS TXT records that
/// carry a firmware version or a serial number or MAC address, and an SNMP agent's
/// sysDescr (asked with the community "public",
/// only when credentials may be sent). A version tells an attacker which known
/// vulnerabilities to try; where the service lets it be hidden
/// (a server token, a banner setting), revealing it fails 5.6-2 at low severity. SSH must
/// name its software in the protocol's identification string, so its version is only
/// noted. Web pages anyone can fetch (the site crawled before the checks: the index,
/// pages it links to a few levels deep, and the usual admin, login and status paths of
/// `data/http-paths.toml`) that show the firmware version, a serial number or a MAC
/// address fail 5.6-2, naming the page and what it shows (a serial number only in the
/// evidence); a page showing only the model or hardware revision is noted. What counts
/// is data in `data/device-identifiers.toml`, with examples and negative examples.
pub struct InformationDisclosure;

static META: CheckMeta = CheckMeta {
    id: "net.information-disclosure",
    title: "software versions revealed before authentication",
    provisions: &["5.6-2"],
};

impl Check for InformationDisclosure {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, context: &'a HostContext, sink: &'a mut FindingSink) -> CheckRun<'a> {
        Box::pin(observe(context, sink))
    }
}

/// Whether a product string carries a version (a digit after a slash or space).
fn versioned(value: &str) -> bool {
    value
        .split(['/', ' ', '_', '-'])
        .skip(1)
        .any(|part| part.chars().next().is_some_and(|c| c.is_ascii_digit()))
}

/// UDP services that say their software: the service, the detail that says it, how a
/// title names it, and the advice.
const UDP_VERSIONS: &[(&str, &str, &str, &str)] = &[
    (
        "ssdp",
        "server",
        "SSDP",
        "UPnP announces the operating system and firmware versions to the whole network; leave versions out of the SERVER header",
    ),
    (
        "snmp",
        "sysDescr",
        "SNMP's sysDescr",
        "the agent tells anyone with the community the system and its versions; set sysDescr to a neutral text (sysdescr in snmpd.conf), or turn SNMP off",
    ),
];

/// TXT keys that identify one device (a serial number, a MAC address).
const IDENTIFIERS: &[&str] = &[
    "serial",
    "sn",
    "serialnumber",
    "mac",
    "macaddress",
    "deviceid",
];
/// TXT keys that carry software versions.
const VERSIONS: &[&str] = &[
    "fw",
    "firmware",
    "fwversion",
    "fwver",
    "version",
    "ver",
    "vers",
    "sw",
    "swversion",
    "os",
    "osversion",
    "build",
];

/// Whether a TXT `key=value` string tells an identifier, or a version with digits.
fn revealing(pair: &str) -> bool {
    let Some((key, value)) = pair.split_once('=') else {
        return false;
    };
    let key = key.to_ascii_lowercase().replace(['_', '-'], "");
    !value.is_empty()
        && (IDENTIFIERS.contains(&key.as_str())
            || (VERSIONS.contains(&key.as_str()) && value.chars().any(|c| c.is_ascii_digit())))
}

async fn observe(context: &HostContext, sink: &mut FindingSink) {
    let host = context.target.address.to_string();
    let mut examined = 0;
    for service in &context.services {
        let port = service.port;
        let endpoint = context.target.endpoint(port);
        let name = service.name.as_deref();
        match name {
            Some("http" | "https") => {
                examined += 1;
                let site = context.sites.iter().find(|site| site.port == port);
                if let Some(site) = site {
                    pages_before_login(context, site, sink);
                }
                // The index as the crawl fetched it, or fetched now when it could not.
                let index = site
                    .and_then(|site| site.pages.iter().find(|page| page.path == "/"))
                    .map(|page| page.response.clone());
                let page = match index {
                    Some(page) => page,
                    None => {
                        let tls = name == Some("https");
                        let fetched =
                            http::get(&context.target, port, tls, "/", "", context.deadline);
                        let Some(page) = fetched.await else {
                            continue;
                        };
                        page
                    }
                };
                for header in ["server", "x-powered-by"] {
                    let Some(value) = page.header(header) else {
                        continue;
                    };
                    if versioned(value) {
                        sink.add(
                            META.id,
                            META.provisions,
                            Outcome::Fail,
                            Severity::Low,
                            format!("{endpoint} reveals \"{value}\" in its {header} header"),
                        )
                        .detail("hide the version (lighttpd: server.tag; nginx: server_tokens off; remove X-Powered-By)")
                        .on(&host, port, "tcp", name)
                        .evidence(serde_json::json!({"header": header, "value": value}))
                        .record();
                    }
                }
            }
            Some("ssh") => {
                examined += 1;
                if let (Some(product), Some(version)) = (&service.product, &service.version) {
                    sink.add(
                        META.id,
                        META.provisions,
                        Outcome::Info,
                        Severity::Info,
                        format!(
                            "{endpoint} identifies itself as {product} {version} (SSH requires it)"
                        ),
                    )
                    .on(&host, port, "tcp", name)
                    .record();
                }
            }
            Some("tls" | "mqtts") | None => {}
            Some(_) => {
                let Some(banner) = &service.banner else {
                    continue;
                };
                examined += 1;
                if service.version.is_some() || (versioned(banner) && name == Some("ftp")) {
                    let what = match (&service.product, &service.version) {
                        (Some(product), Some(version)) => format!("{product} {version}"),
                        _ => banner.clone(),
                    };
                    sink.add(
                        META.id,
                        META.provisions,
                        Outcome::Fail,
                        Severity::Low,
                        format!("{endpoint} reveals {what} in its banner"),
                    )
                    .detail("set a banner without the software version")
                    .on(&host, port, "tcp", name)
                    .evidence(serde_json::json!({"banner": banner}))
                    .record();
                }
            }
        }
    }
    for service in &context.udp {
        let Some((_, key, words, advice)) =
            UDP_VERSIONS.iter().find(|(name, ..)| *name == service.name)
        else {
            continue;
        };
        let Some(value) = service.detail(key) else {
            continue;
        };
        examined += 1;
        if versioned(value) {
            sink.add(
                META.id,
                META.provisions,
                Outcome::Fail,
                Severity::Low,
                format!(
                    "{words} on {}/udp reveals \"{value}\"",
                    context.target.endpoint(service.port)
                ),
            )
            .detail(*advice)
            .on(&host, service.port, "udp", Some(&service.name))
            .evidence(serde_json::json!(service.details))
            .record();
        }
    }
    for service in context.udp.iter().filter(|service| service.name == "mdns") {
        examined += 1;
        let revealed: Vec<(&str, String)> = service
            .details
            .iter()
            .filter(|(key, _)| key == "txt")
            .filter_map(|(_, value)| {
                let (instance, strings) = value.split_once(": ")?;
                let told: Vec<&str> = strings.split(' ').filter(|pair| revealing(pair)).collect();
                (!told.is_empty()).then(|| (instance, told.join(", ")))
            })
            .collect();
        for (instance, told) in revealed {
            sink.add(
                META.id,
                META.provisions,
                Outcome::Fail,
                Severity::Low,
                format!(
                    "mDNS on {}/udp reveals {told} ({instance})",
                    context.target.endpoint(service.port)
                ),
            )
            .detail("the device announces its firmware version or identifiers to the whole local network; leave them out of the service's TXT records")
            .on(&host, service.port, "udp", Some("mdns"))
            .evidence(serde_json::json!({"instance": instance, "txt": told}))
            .record();
        }
    }
    for description in &context.upnp {
        examined += 1;
        let told: Vec<String> = [
            ("serialNumber", "serial number"),
            ("modelNumber", "model number"),
        ]
        .iter()
        .filter_map(|(field, words)| Some(format!("{words} {}", description.field(field)?)))
        .collect();
        if description.field("serialNumber").is_some() {
            sink.add(
                META.id,
                META.provisions,
                Outcome::Fail,
                Severity::Low,
                format!(
                    "the UPnP description at {} reveals the {}",
                    description.location,
                    told.join(" and the ")
                ),
            )
            .detail("anyone on the network reads the device's serial number (from which some vendors derive default passwords and keys) and model; leave the serial number out of the description")
            .on(&host, description.port, "tcp", Some("http"))
            .evidence(serde_json::json!(description.fields))
            .record();
        }
    }
    pass_if_clean(
        sink,
        &META,
        context,
        examined > 0,
        format!("no service reveals a version it could hide ({examined} examined)"),
    );
}

/// `data/device-identifiers.toml`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Identifiers {
    identifier: Vec<Identifier>,
}

/// Something a page can tell about the device.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Identifier {
    name: String,
    fails: bool,
    secret: bool,
    pattern: String,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    examples: Vec<String>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    negative_examples: Vec<String>,
}

fn identifiers() -> &'static [(Identifier, regex::bytes::Regex)] {
    static IDENTIFIERS: std::sync::OnceLock<Vec<(Identifier, regex::bytes::Regex)>> =
        std::sync::OnceLock::new();
    IDENTIFIERS.get_or_init(|| {
        let data: Identifiers = toml::from_str(include_str!("../../data/device-identifiers.toml"))
            .expect("data/device-identifiers.toml is valid (tested)");
        data.identifier
            .into_iter()
            .map(|identifier| {
                let regex = regex::bytes::Regex::new(&format!("(?-u){}", identifier.pattern))
                    .expect("the identifier patterns compile (tested)");
                (identifier, regex)
            })
            .collect()
    })
}

/// What a page shows: (identifier, value), first of each kind.
fn shown(body: &[u8]) -> Vec<(&'static Identifier, String)> {
    identifiers()
        .iter()
        .filter_map(|(identifier, regex)| {
            let value = regex.captures(body)?.get(1)?;
            let value = String::from_utf8_lossy(value.as_bytes()).trim().to_owned();
            // A MAC address of zeros or ones names no device.
            let blank = value
                .chars()
                .filter(char::is_ascii_hexdigit)
                .all(|c| c == '0' || c.eq_ignore_ascii_case(&'f'));
            (!(identifier.name == "MAC address" && blank)).then_some((identifier, value))
        })
        .collect()
}

/// Pages anyone can fetch that show the firmware version, a serial number or a MAC
/// address fail; the model or hardware revision alone is noted.
fn pages_before_login(context: &HostContext, site: &crate::site::Site, sink: &mut FindingSink) {
    let host = context.target.address.to_string();
    for page in site.open_pages() {
        let found = shown(&page.response.body);
        if found.is_empty() {
            continue;
        }
        let url = format!("{}{}", context.target.endpoint(site.port), page.path);
        let fails = found.iter().any(|(identifier, _)| identifier.fails);
        let named: Vec<String> = found
            .iter()
            .filter(|(identifier, _)| identifier.fails == fails)
            .map(|(identifier, value)| {
                if identifier.secret {
                    identifier.name.clone()
                } else {
                    format!("{} {value}", identifier.name)
                }
            })
            .collect();
        let evidence: serde_json::Map<String, serde_json::Value> = found
            .iter()
            .map(|(identifier, value)| (identifier.name.clone(), value.clone().into()))
            .chain([
                ("path".to_owned(), page.path.clone().into()),
                ("found".to_owned(), page.found.clone().into()),
            ])
            .collect();
        let (outcome, severity, title, detail) = if fails {
            (
                Outcome::Fail,
                Severity::Low,
                format!("{url} shows the {} before login", named.join(", the ")),
                "anyone who reaches the web interface learns which firmware it runs (and which known vulnerabilities to try) or which device it is; show these only after login",
            )
        } else {
            (
                Outcome::Info,
                Severity::Info,
                format!("{url} shows the {} before login", named.join(" and the ")),
                "the model or hardware revision alone is commonly shown on the login page",
            )
        };
        sink.add(META.id, META.provisions, outcome, severity, title)
            .detail(detail)
            .on(&host, site.port, "tcp", Some(site.service()))
            .evidence(serde_json::Value::Object(evidence))
            .record();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_match_their_examples_and_not_their_negatives() {
        for (identifier, regex) in identifiers() {
            assert!(!identifier.examples.is_empty(), "{}", identifier.name);
            for example in &identifier.examples {
                assert!(
                    regex.is_match(example.as_bytes()),
                    "{}: {example}",
                    identifier.name
                );
            }
            for negative in &identifier.negative_examples {
                assert!(
                    !regex.is_match(negative.as_bytes()),
                    "{}: {negative}",
                    identifier.name
                );
            }
        }
        let shown = shown(b"<td>Model</td><td>C200</td><p>MAC 00:00:00:00:00:00</p>");
        assert_eq!(shown.len(), 1, "{shown:?}");
    }

    #[test]
    fn versions_are_told_from_names() {
        assert!(versioned("lighttpd/1.4.69"));
        assert!(versioned("PHP/8.2.7"));
        assert!(versioned("Boa 0.94.14rc21"));
        assert!(!versioned("nginx"));
        assert!(!versioned("web"));
        assert!(!versioned("Apache"));
    }

    #[test]
    fn txt_records_that_identify_or_version_are_told() {
        assert!(revealing("fw=3.2.1"));
        assert!(revealing("serial_number=A42"));
        assert!(revealing("MAC=00:11:22:33:44:55"));
        assert!(!revealing("path=/"));
        // DNS-SD's own version of the TXT layout says nothing of the device.
        assert!(!revealing("txtvers=1"));
        assert!(!revealing("version=beta"));
        assert!(!revealing("serial="));
        assert!(!revealing("noequals"));
    }
}
