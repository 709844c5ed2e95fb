//! Answers to conditions and features that a network scan shows, each with its evidence:
//! a login interface that takes a password means passwords are used (V2.1.1's 1, V3.1.3's
//! a) and that authentication works over a network interface (V3.1.3's e); a login for
//! people (SSH, telnet, FTP, a web page, an RTSP stream) means users authenticate
//! against the device (8, d); an SSH server that offers public keys is a cryptographic
//! authentication mechanism (c); a debug service reachable over the network is a debug
//! interface (q); with the manufacturer's declared interfaces, an open port none of them
//! declares is an interface the product does not use (p). A scan cannot tell what the
//! device does with personal data, so it says nothing of that. `provisor check` uses an
//! inference where the manufacturer gave no answer, and shows where a declared answer
//! contradicts one.

use provisor_engine::FindingSink;

use crate::checks::HostContext;
use crate::checks::logins::Login;
use crate::ixit::Declared;

use provisor_catalog::EN303645_V3_1_3 as V3;

/// Services that are debug interfaces (as `net.exposed-interfaces` names them).
const DEBUG_SERVICES: &[&str] = &["gdb", "adb"];

/// Records what the host shows about the conditions.
pub(crate) fn infer(context: &HostContext, sink: &mut FindingSink) {
    if let Some(login) = context.logins.first() {
        let because = login.describe(context);
        sink.infer(1, true, because.clone());
        sink.infer_in(V3, "a", true, because.clone());
        sink.infer_in(V3, "e", true, because);
    }
    if let Some(login) = context
        .logins
        .iter()
        .find(|login| !matches!(login, Login::Mqtt { .. }))
    {
        let because = login.describe(context);
        sink.infer(8, true, because.clone());
        sink.infer_in(V3, "d", true, because);
    }
    for (port, methods) in &context.ssh_methods {
        let Some(methods) = methods else {
            continue;
        };
        let endpoint = context.target.endpoint(*port);
        if !methods.is_empty() {
            let because = format!("the SSH server on {endpoint} authenticates users");
            sink.infer_in(V3, "e", true, because.clone());
            sink.infer_in(V3, "d", true, because.clone());
            sink.infer(8, true, because);
        }
        if methods.iter().any(|method| method == "publickey") {
            sink.infer_in(
                V3,
                "c",
                true,
                format!("the SSH server on {endpoint} offers public-key authentication"),
            );
        }
    }
    if !context.ixit.interfaces.is_empty()
        && let Some(service) = context.services.iter().find(|service| {
            matches!(
                context
                    .ixit
                    .declares(service.port, "tcp", service.name.as_deref()),
                Declared::Undeclared
            )
        })
    {
        sink.infer_in(
            V3,
            "p",
            true,
            format!(
                "port {} is open, and none of the declared interfaces is on it",
                context.target.endpoint(service.port)
            ),
        );
    }
    if let Some(service) = context.services.iter().find(|service| {
        service
            .name
            .as_deref()
            .is_some_and(|name| DEBUG_SERVICES.contains(&name))
    }) {
        sink.infer_in(
            V3,
            "q",
            true,
            format!(
                "a debug service ({}) answers on {}",
                service.name.as_deref().unwrap_or("debug"),
                context.target.endpoint(service.port)
            ),
        );
    }
}
