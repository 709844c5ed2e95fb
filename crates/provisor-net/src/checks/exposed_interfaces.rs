//! `net.exposed-interfaces`: every open port, what speaks on it, and debug services
//! reachable over the network.

use provisor_engine::{FindingSink, Outcome, Severity};

use super::{Check, CheckMeta, CheckRun, HostContext, describe};
use crate::ixit::Declared;

/// Lists every open TCP port with the service identified on it (by protocol, not by
/// port number), or as unidentified, and the UDP services that answered (TFTP, SNMP,
/// SSDP, mDNS, CoAP): each is an interface an attacker can reach, and
/// 5.6-1 asks that unused ones be disabled. A debugging service reachable over the
/// network (the GDB remote protocol of gdbserver, the Android Debug Bridge) fails: it
/// gives control of the device's software, and 5.6-4 asks that debug interfaces not be
/// exposed. With the manufacturer's declared interfaces (`--ixit`), an open TCP port or
/// answering UDP service that is not declared, or that speaks another service than
/// declared, fails 5.6-1. Ports that never answered are counted, not listed.
pub struct ExposedInterfaces;

static META: CheckMeta = CheckMeta {
    id: "net.exposed-interfaces",
    title: "open ports, the services on them, and debug services exposed",
    provisions: &["5.6-1", "5.6-4"],
};

/// Debug services, with the words findings use for them.
const DEBUG_SERVICES: &[(&str, &str)] = &[
    ("gdb", "GDB remote debugging (gdbserver)"),
    ("adb", "the Android Debug Bridge"),
];

impl Check for ExposedInterfaces {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, context: &'a HostContext, sink: &'a mut FindingSink) -> CheckRun<'a> {
        Box::pin(async move { observe(context, sink) })
    }
}

/// Fails an open port the IXIT does not declare, or declares as another service.
fn against_ixit(
    context: &HostContext,
    sink: &mut FindingSink,
    port: u16,
    transport: &str,
    name: Option<&str>,
    described: &str,
) {
    let host = context.target.address.to_string();
    let count = context.ixit.interfaces.len();
    let (title, detail) = match context.ixit.declares(port, transport, name) {
        Declared::Nothing | Declared::Yes(_) => return,
        Declared::Undeclared => (
            format!("{port}/{transport} ({described}) is open but not among the {count} interfaces the IXIT declares"),
            "an interface the manufacturer does not know of is not maintained; close it or declare it".to_owned(),
        ),
        Declared::Other(interface) => (
            format!(
                "{port}/{transport} speaks {described}, but the IXIT declares it as {} (\"{}\")",
                interface.service.as_deref().unwrap_or_default(),
                interface.name
            ),
            "what runs on the port is not the interface the manufacturer describes; correct the IXIT or the firmware".to_owned(),
        ),
    };
    sink.add(META.id, &["5.6-1"], Outcome::Fail, Severity::Medium, title)
        .detail(detail)
        .on(&host, port, transport, name)
        .record();
}

fn observe(context: &HostContext, sink: &mut FindingSink) {
    let host = context.target.address.to_string();
    let endpoint = |port| context.target.endpoint(port);
    let mut debug = 0;
    for service in &context.services {
        let name = service.name.as_deref();
        if let Some((_, words)) = DEBUG_SERVICES
            .iter()
            .find(|(debug, _)| Some(*debug) == name)
        {
            debug += 1;
            sink.add(
                META.id,
                &["5.6-4", "5.6-1"],
                Outcome::Fail,
                Severity::High,
                format!("{words} is reachable on {}", endpoint(service.port)),
            )
            .detail("anyone who can reach the port can read and change the device's memory and run code; disable the debug service in production firmware")
            .on(&host, service.port, "tcp", name)
            .evidence(serde_json::json!({"probe": service.probe}))
            .record();
        }
        against_ixit(context, sink, service.port, "tcp", name, &describe(service));
        let mut draft = sink
            .add(
                META.id,
                &["5.6-1"],
                Outcome::Info,
                Severity::Info,
                format!("{}/tcp open: {}", service.port, describe(service)),
            )
            .on(&host, service.port, "tcp", name)
            .evidence(serde_json::json!({
                "probe": service.probe,
                "product": service.product,
                "version": service.version,
                "banner": service.banner,
                "untried": service.untried,
            }));
        if service.untried > 0 {
            draft = draft.detail(format!(
                "identification ran out of its time before {} of its probes were asked (the port was slow to connect); a longer --answer-timeout asks them",
                service.untried
            ));
        }
        draft.record();
    }
    for service in &context.udp {
        against_ixit(
            context,
            sink,
            service.port,
            "udp",
            Some(&service.name),
            &service.name,
        );
        sink.add(
            META.id,
            &["5.6-1"],
            Outcome::Info,
            Severity::Info,
            format!("{}/udp answers: {}", service.port, service.name),
        )
        .on(&host, service.port, "udp", Some(&service.name))
        .evidence(serde_json::json!(service.details))
        .record();
    }
    let summary = format!(
        "{} of {} TCP ports open{}",
        context.services.len(),
        context.ports_scanned,
        if context.filtered.is_empty() {
            String::new()
        } else {
            format!(", {} silent (filtered)", context.filtered.len())
        }
    );
    if debug == 0 && context.ports_scanned > 0 {
        sink.add(
            META.id,
            &["5.6-4"],
            Outcome::Pass,
            Severity::Info,
            format!("no debug service reachable over the network ({summary})"),
        )
        .on_host(&host)
        .record();
    } else {
        sink.add(META.id, &["5.6-1"], Outcome::Info, Severity::Info, summary)
            .on_host(&host)
            .record();
    }
}
