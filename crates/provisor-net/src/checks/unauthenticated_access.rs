//! `net.unauthenticated-access`: what the device gives away or lets anyone do without a
//! login.

use std::sync::OnceLock;
use std::time::Duration;

use futures_util::future::join_all;
use provisor_engine::{Draft, FindingSink, Outcome, Severity};
use regex::bytes::Regex;
use serde::Deserialize;

use super::{Check, CheckMeta, CheckRun, HostContext, out_of_time, pass_if_clean, within_budget};
use crate::identify::Service;
use crate::proto::telnet::{self, Telnet};
use crate::proto::{ftp, mqtt, rtsp, upnp};

/// Tries each interface without credentials: a telnet port that opens a shell without a
/// login (confirmed by running `echo` with a random word), an FTP server that lets
/// `anonymous` in, an RTSP stream (at the usual paths of `data/rtsp-paths.toml`) that
/// plays without a login, a UPnP port-mapping control URL (WANIPConnection,
/// WANPPPConnection) that answers a read-only action without authentication, a Modbus
/// server (which identification saw answer a register read), an MQTT broker that
/// accepts
/// anonymous clients (and, subscribed to `#` for at most a second and 200 messages, what
/// they can read), and web pages served without authentication that hold credentials,
/// account files or device configuration: the pages linked from the index and a list of
/// common IoT configuration and status endpoints, both kept as data in
/// `data/http-endpoints.toml` with the content that makes a page count; and a CoAP
/// server that lists its resources (`/.well-known/core`) to anyone. 5.5-4 asks that
/// security parameters be changed only through authenticated interfaces, 5.5-5 that
/// functionality be reachable only after authentication.
pub struct UnauthenticatedAccess;

static META: CheckMeta = CheckMeta {
    id: "net.unauthenticated-access",
    title: "interfaces that give access without authentication",
    provisions: &["5.5-5", "5.5-4"],
};

/// How long to listen on `#`, and how many messages at most.
const LISTEN: Duration = Duration::from_secs(1);
const MESSAGES: usize = 200;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Endpoints {
    content: Vec<Content>,
    path: Vec<Endpoint>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Content {
    name: String,
    pattern: String,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    examples: Vec<String>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    negative_examples: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Endpoint {
    path: String,
    what: String,
}

struct Compiled {
    contents: Vec<(Content, Regex)>,
    paths: Vec<Endpoint>,
}

fn endpoints() -> &'static Compiled {
    static ENDPOINTS: OnceLock<Compiled> = OnceLock::new();
    ENDPOINTS.get_or_init(|| {
        let data: Endpoints = toml::from_str(include_str!("../../data/http-endpoints.toml"))
            .expect("the endpoint list is valid (tested)");
        let contents = data
            .content
            .into_iter()
            .map(|content| {
                let regex = Regex::new(&format!("(?-u){}", content.pattern))
                    .expect("the content patterns compile (tested)");
                (content, regex)
            })
            .collect();
        Compiled {
            contents,
            paths: data.path,
        }
    })
}

/// The configuration and status endpoints of the data, as (path, what it is), for the
/// crawl of each web port.
pub(crate) fn endpoint_paths() -> Vec<(String, String)> {
    endpoints()
        .paths
        .iter()
        .map(|endpoint| (endpoint.path.clone(), endpoint.what.clone()))
        .collect()
}

/// What sensitive content a page holds, if any.
fn sensitive(body: &[u8]) -> Option<&'static str> {
    endpoints()
        .contents
        .iter()
        .find(|(_, regex)| regex.is_match(body))
        .map(|(content, _)| content.name.as_str())
}

impl Check for UnauthenticatedAccess {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, context: &'a HostContext, sink: &'a mut FindingSink) -> CheckRun<'a> {
        Box::pin(observe(context, sink))
    }
}

/// Tries one port without credentials; whether there was anything to try.
async fn examine(context: &HostContext, service: &Service, sink: &mut FindingSink) -> bool {
    let port = service.port;
    let mut examined = false;
    match service.name.as_deref() {
        Some("telnet") => {
            examined = true;
            telnet_shell(context, port, sink).await;
        }
        Some(name @ ("mqtt" | "mqtts")) => {
            examined = true;
            anonymous_mqtt(context, port, name == "mqtts", sink).await;
        }
        Some("http" | "https") => {
            examined = true;
            open_pages(context, port, sink);
        }
        Some("ftp") => {
            examined = true;
            let anonymous = ftp::login(
                &context.target,
                port,
                "anonymous",
                "provisor@example.invalid",
                context.deadline,
            )
            .await
                == Some(230);
            if anonymous {
                open_to_anyone(
                    sink,
                    context,
                    (port, "ftp"),
                    format!(
                        "FTP on {} accepts anonymous logins",
                        context.target.endpoint(port)
                    ),
                    "anyone can list and fetch the files it serves; turn anonymous FTP off",
                )
                .record();
            }
        }
        Some("modbus") => {
            // Identification read a holding register: that answer is the evidence.
            examined = true;
            open_to_anyone(
                sink,
                context,
                (port, "modbus"),
                format!(
                    "Modbus on {} answers register reads without authentication",
                    context.target.endpoint(port)
                ),
                "Modbus has no authentication: anyone who reaches the port reads and writes the device's registers; keep it off networks others reach, or put it behind an authenticated tunnel",
            )
            .evidence(serde_json::json!({"probe": "read holding register 0 of unit 1", "banner": service.banner}))
            .record();
        }
        Some("rtsp") => {
            examined = true;
            if let Some((path, 200)) =
                rtsp::find_stream(&context.target, port, context.deadline).await
            {
                open_to_anyone(
                    sink,
                    context,
                    (port, "rtsp"),
                    format!(
                        "the RTSP stream {}{path} plays without a login",
                        context.target.endpoint(port)
                    ),
                    "anyone who reaches the port watches or listens; require a login for the stream",
                )
                .evidence(serde_json::json!({"path": path, "describe": 200}))
                .record();
            }
        }
        _ => {}
    }
    examined
}

async fn observe(context: &HostContext, sink: &mut FindingSink) {
    let host = context.target.address.to_string();
    // The ports side by side, each within its time, each with a sink of its own.
    let ports = join_all(context.services.iter().map(|service| async move {
        let mut own = FindingSink::new();
        let examined = within_budget(context, examine(context, service, &mut own)).await;
        if examined.is_none() {
            let name = service.name.as_deref().unwrap_or("unidentified");
            let what = "trying it without credentials";
            out_of_time(&mut own, &META, context, service.port, name, what);
        }
        (own, examined.unwrap_or(false))
    }))
    .await;
    let mut examined = 0;
    for (own, looked) in ports {
        sink.merge(own);
        examined += usize::from(looked);
    }
    for description in &context.upnp {
        examined += 1;
        upnp_control(context, description, sink).await;
    }
    for service in &context.udp {
        let Some(resources) = service
            .detail("resources")
            .filter(|_| service.name == "coap")
        else {
            continue;
        };
        examined += 1;
        let listed: Vec<&str> = resources
            .split(',')
            .filter_map(|link| link.split(';').next())
            .map(|path| path.trim().trim_start_matches('<').trim_end_matches('>'))
            .filter(|path| !path.is_empty())
            .collect();
        sink.add(
            META.id,
            META.provisions,
            Outcome::Fail,
            Severity::Medium,
            format!(
                "CoAP on {}/udp lists {} resources to anyone: {}",
                context.target.endpoint(service.port),
                listed.len(),
                listed.iter().take(8).copied().collect::<Vec<_>>().join(", ")
            ),
        )
        .detail("anyone on the network can read and call them; require DTLS with credentials (or OSCORE) for every resource")
        .on(&host, service.port, "udp", Some("coap"))
        .evidence(serde_json::json!({"resources": listed}))
        .record();
    }
    pass_if_clean(
        sink,
        &META,
        context,
        examined > 0,
        format!("no access without authentication on the {examined} interfaces tried"),
    );
}

/// A telnet port that gives a shell without asking who is there.
async fn telnet_shell(context: &HostContext, port: u16, sink: &mut FindingSink) {
    let Some(mut session) = Telnet::connect(&context.target, port, context.deadline).await else {
        return;
    };
    let greeting = session
        .read_until(context.deadline, |text| {
            telnet::asks_for_login(text) || telnet::shows_prompt(text)
        })
        .await;
    if telnet::asks_for_login(&greeting) {
        return;
    }
    let word = crate::proto::unique_word();
    if !session
        .send_line(&format!("echo {word}-$((6*7))"), context.deadline)
        .await
    {
        return;
    }
    let sum = format!("{word}-42");
    let answer = session
        .read_until(context.deadline, |text| text.contains(&sum))
        .await;
    if answer.contains(&sum) {
        sink.add(
            META.id,
            META.provisions,
            Outcome::Fail,
            Severity::Critical,
            format!(
                "telnet on {} gives a shell without login",
                context.target.endpoint(port)
            ),
        )
        .detail("anyone who reaches the port runs commands on the device; remove the telnet daemon, or at least require a login")
        .on(&context.target.address.to_string(), port, "tcp", Some("telnet"))
        .evidence(serde_json::json!({"command": "echo WORD-$((6*7))", "answered": "WORD-42"}))
        .record();
    }
}

/// The UPnP services that let anyone on the network open ports through the device, and
/// the read-only action each is asked.
const PORT_MAPPING: &[(&str, &str)] = &[
    (
        "urn:schemas-upnp-org:service:WANIPConnection:",
        "GetExternalIPAddress",
    ),
    (
        "urn:schemas-upnp-org:service:WANPPPConnection:",
        "GetExternalIPAddress",
    ),
];

/// A UPnP port-mapping control URL that answers without authentication (asked a
/// read-only action: nothing is changed).
async fn upnp_control(
    context: &HostContext,
    description: &crate::proto::upnp::Description,
    sink: &mut FindingSink,
) {
    for (service, control) in &description.services {
        let Some((_, action)) = PORT_MAPPING
            .iter()
            .find(|(kind, _)| service.starts_with(kind))
        else {
            continue;
        };
        let answered = upnp::soap(
            &context.target,
            description.port,
            (service, control),
            action,
            context.deadline,
        )
        .await;
        if answered == Some(200) {
            open_to_anyone(
                sink,
                context,
                (description.port, "http"),
                format!(
                    "UPnP port mapping control on {}{control} answers without authentication",
                    context.target.endpoint(description.port)
                ),
                format!("{action} was answered to anyone; the same control URL takes AddPortMapping, so any program on the network can open the device's ports to the Internet; turn UPnP IGD off or limit it"),
            )
            .evidence(serde_json::json!({"service": service, "control": control, "action": action, "status": 200}))
            .record();
            // One finding per control URL is enough.
            break;
        }
    }
}

/// A failure of high severity on the TCP service on `port`: something anyone can reach
/// without authentication. The caller adds evidence and records it.
fn open_to_anyone<'a>(
    sink: &'a mut FindingSink,
    context: &HostContext,
    (port, service): (u16, &str),
    title: String,
    detail: impl Into<String>,
) -> Draft<'a> {
    sink.add(
        META.id,
        META.provisions,
        Outcome::Fail,
        Severity::High,
        title,
    )
    .detail(detail)
    .on(
        &context.target.address.to_string(),
        port,
        "tcp",
        Some(service),
    )
}

/// An MQTT broker that lets anyone in.
async fn anonymous_mqtt(context: &HostContext, port: u16, tls: bool, sink: &mut FindingSink) {
    let Ok(session) = mqtt::connect(&context.target, port, tls, None, context.deadline).await
    else {
        return;
    };
    let heard = session.listen_to_everything(LISTEN, MESSAGES).await;
    let reach = if heard.granted {
        format!(
            "; subscribed to every topic (#), it delivered {} messages in {} s",
            heard.messages,
            LISTEN.as_secs()
        )
    } else {
        String::new()
    };
    sink.add(
        META.id,
        META.provisions,
        Outcome::Fail,
        Severity::High,
        format!(
            "the MQTT broker on {} accepts anonymous clients",
            context.target.endpoint(port)
        ),
    )
    .detail(format!(
        "anyone who reaches the port can publish and subscribe{reach}; require a password or a client certificate"
    ))
    .on(
        &context.target.address.to_string(),
        port,
        "tcp",
        Some(if tls { "mqtts" } else { "mqtt" }),
    )
    .evidence(serde_json::json!({
        "subscribed_to_all": heard.granted,
        "messages": heard.messages,
        "topics": heard.topics,
    }))
    .record();
}

/// Web pages with sensitive content served without authentication, among the pages of
/// the site crawled before the checks ran.
fn open_pages(context: &HostContext, port: u16, sink: &mut FindingSink) {
    let target = &context.target;
    let Some(site) = context.sites.iter().find(|site| site.port == port) else {
        return;
    };
    for page in site.open_pages() {
        if let Some(content) = sensitive(&page.response.body) {
            sink.add(
                META.id,
                META.provisions,
                Outcome::Fail,
                Severity::High,
                format!(
                    "{} serves {content} without authentication ({})",
                    format_args!("{}{}", target.endpoint(port), page.path),
                    page.found
                ),
            )
            .detail("anyone who reaches the web interface reads it; require authentication for every page that shows configuration or credentials")
            .on(&target.address.to_string(), port, "tcp", Some(site.service()))
            .evidence(serde_json::json!({"path": page.path, "status": page.response.status, "content": content}))
            .record();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_content_pattern_matches_its_examples_and_not_its_negatives() {
        for (content, regex) in &endpoints().contents {
            assert!(!content.examples.is_empty(), "{}", content.name);
            for example in &content.examples {
                assert!(
                    regex.is_match(example.as_bytes()),
                    "{}: {example}",
                    content.name
                );
            }
            for negative in &content.negative_examples {
                assert!(
                    !regex.is_match(negative.as_bytes()),
                    "{}: {negative}",
                    content.name
                );
            }
        }
        assert!(
            endpoints()
                .paths
                .iter()
                .all(|endpoint| endpoint.path.starts_with('/'))
        );
    }
}
