//! `net.input-robustness`: a bounded, seeded smoke test of malformed requests.

use std::time::Duration;

use futures_util::future::join_all;
use provisor_engine::{FindingSink, Outcome, Severity};
use tokio::io::AsyncWriteExt;

use super::{Check, CheckMeta, CheckRun, HostContext, Phase, out_of_time, within_budget};
use crate::proto::{self, http, mqtt};
use crate::udp;

/// Sends HTTP, MQTT and CoAP services a fixed set of malformed requests (an overlong
/// request line, bad methods and versions, a header without a colon, a body that never
/// comes, NUL bytes; MQTT packets of unknown type, with a wrong protocol name, an
/// overflowing length, or a subscription before connecting; CoAP with a bad version,
/// token length or option) and as many again made by flipping bytes of valid requests
/// with a fixed seed, so every run sends the same cases. After each case the service
/// must still answer a valid request (a second chance a second later); one that stops
/// answering fails 5.13-1 with the case that stopped it. Otherwise the finding says
/// there is no indication of a problem with the cases sent, which is all a smoke test
/// can say. It runs after every other check, since it may stop a service; the services
/// side by side, each within eight answers' time (inconclusive when that runs out).
/// Protocol requests are data transferred through an API or between networks: in V3.1.3
/// they bear on 5.13-1B (the evidence's `input` is `protocol`).
pub struct InputRobustness;

static META: CheckMeta = CheckMeta {
    id: "net.input-robustness",
    title: "malformed requests do not stop services",
    provisions: &["5.13-1"],
};

/// Cases made by mutation per service, and the seed they are made with.
const MUTATIONS: usize = 12;
const SEED: u64 = 0x5eed_2026;
/// How long a service is given to come back before it counts as stopped.
const RECOVERY: Duration = Duration::from_secs(1);

impl Check for InputRobustness {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn phase(&self) -> Phase {
        Phase::Last
    }

    fn run<'a>(&'a self, context: &'a HostContext, sink: &'a mut FindingSink) -> CheckRun<'a> {
        Box::pin(observe(context, sink))
    }
}

/// A small deterministic generator (xorshift64*).
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// `valid` with a few bytes flipped, cut or repeated.
    fn mutate(&mut self, valid: &[u8]) -> Vec<u8> {
        let mut case = valid.to_vec();
        let edits = 1 + self.next() % 4;
        for _ in 0..edits {
            if case.is_empty() {
                break;
            }
            let at = (self.next() % case.len() as u64) as usize;
            match self.next() % 4 {
                0 => case[at] ^= 1 << (self.next() % 8),
                1 => case[at] = [0x00, 0xff, 0x7f, 0x80][(self.next() % 4) as usize],
                2 => case.truncate(at.max(1)),
                _ => {
                    let repeated = case[at..].to_vec();
                    case.extend_from_slice(&repeated);
                }
            }
        }
        case
    }
}

/// The cases for one protocol: the fixed ones, then the mutations of `valid`.
fn cases(fixed: Vec<Vec<u8>>, valid: &[u8], seed: u64) -> Vec<Vec<u8>> {
    let mut generator = Seeded(seed);
    let mut all = fixed;
    for _ in 0..MUTATIONS {
        all.push(generator.mutate(valid));
    }
    all
}

fn http_cases() -> Vec<Vec<u8>> {
    let valid = b"GET / HTTP/1.0\r\nHost: device\r\n\r\n".to_vec();
    let fixed = vec![
        [b"GET /".as_slice(), &[b'A'; 8192], b" HTTP/1.0\r\n\r\n"].concat(),
        b"BREW / HTTP/1.0\r\n\r\n".to_vec(),
        b"GET / HTTP/9.9\r\n\r\n".to_vec(),
        b"GET / HTTP/1.0\r\nno colon here\r\n\r\n".to_vec(),
        b"POST / HTTP/1.0\r\nContent-Length: 99999999999\r\n\r\nx".to_vec(),
        b"GET /\x00\x01\x02 HTTP/1.0\r\n\r\n".to_vec(),
        b"POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(),
        b"\r\n\r\n\r\n".to_vec(),
    ];
    cases(fixed, &valid, SEED)
}

fn mqtt_cases() -> Vec<Vec<u8>> {
    let valid = mqtt::connect_packet("provisor", None);
    let fixed = vec![
        vec![0x00, 0x00],
        vec![0xf0, 0x00],
        b"\x10\x14\x00\x04QTTM\x04\x02\x00\x3c\x00\x08provisor".to_vec(),
        vec![0x10, 0xff, 0xff, 0xff, 0xff, 0x7f],
        vec![0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'#', 0x00],
        valid[..valid.len() / 2].to_vec(),
    ];
    cases(fixed, &valid, SEED ^ 1)
}

fn coap_cases() -> Vec<Vec<u8>> {
    let valid = udp::coap_well_known_core();
    let fixed = vec![
        vec![0x80, 0x01, 0x13, 0x37],
        vec![0x49, 0x01, 0x13, 0x37],
        vec![0x40, 0x01, 0x13, 0x37, 0xf0],
        vec![0x40, 0x01, 0x13, 0x37, 0xbd, 0xff],
        vec![0x40],
    ];
    cases(fixed, &valid, SEED ^ 2)
}

/// A service under test: how to send a case and how to tell it still answers.
#[derive(Clone, Copy)]
enum Subject {
    Http { port: u16, tls: bool },
    Mqtt { port: u16, tls: bool },
    Coap { port: u16 },
}

impl Subject {
    fn port(self) -> u16 {
        match self {
            Subject::Http { port, .. } | Subject::Mqtt { port, .. } | Subject::Coap { port } => {
                port
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            Subject::Http { tls: false, .. } => "http",
            Subject::Http { tls: true, .. } => "https",
            Subject::Mqtt { tls: false, .. } => "mqtt",
            Subject::Mqtt { tls: true, .. } => "mqtts",
            Subject::Coap { .. } => "coap",
        }
    }

    fn cases(self) -> Vec<Vec<u8>> {
        match self {
            Subject::Http { .. } => http_cases(),
            Subject::Mqtt { .. } => mqtt_cases(),
            Subject::Coap { .. } => coap_cases(),
        }
    }

    /// Sends a case and lets the service read it; answers are not waited for.
    async fn send(self, context: &HostContext, case: &[u8]) {
        match self {
            Subject::Http { port, tls } | Subject::Mqtt { port, tls } => {
                if let Some(mut stream) =
                    proto::connect(&context.target, port, tls, context.deadline).await
                {
                    let _ = tokio::time::timeout(context.deadline, stream.write_all(case)).await;
                    let _ =
                        crate::identify::read_answer(&mut stream, Duration::from_millis(100)).await;
                }
            }
            Subject::Coap { port } => {
                let _ = udp::ask(&context.target, port, case, Duration::from_millis(100)).await;
            }
        }
    }

    /// Whether the service answers a valid request.
    async fn alive(self, context: &HostContext) -> bool {
        match self {
            Subject::Http { port, tls } => {
                http::status(&context.target, port, tls, "/", context.deadline)
                    .await
                    .is_some()
            }
            Subject::Mqtt { port, tls } => {
                // Accepted or refused, a CONNACK is an answer.
                !matches!(
                    mqtt::connect(&context.target, port, tls, None, context.deadline).await,
                    Err(255)
                )
            }
            Subject::Coap { port } => udp::ask(
                &context.target,
                port,
                &udp::coap_well_known_core(),
                context.deadline,
            )
            .await
            .and_then(|answer| udp::read_answer("coap", &answer))
            .is_some(),
        }
    }
}

async fn observe(context: &HostContext, sink: &mut FindingSink) {
    let host = context.target.address.to_string();
    let mut subjects = Vec::new();
    for service in &context.services {
        let port = service.port;
        match service.name.as_deref() {
            Some("http") => subjects.push(Subject::Http { port, tls: false }),
            Some("https") => subjects.push(Subject::Http { port, tls: true }),
            Some("mqtt") => subjects.push(Subject::Mqtt { port, tls: false }),
            Some("mqtts") => subjects.push(Subject::Mqtt { port, tls: true }),
            _ => {}
        }
    }
    for service in &context.udp {
        if service.name == "coap" {
            subjects.push(Subject::Coap { port: service.port });
        }
    }
    // The services side by side, each within its time.
    let results = join_all(subjects.iter().map(|subject| async move {
        let mut done = 0;
        let tried = within_budget(context, try_cases(context, *subject, &mut done)).await;
        (tried, done)
    }))
    .await;
    for (subject, (tried, done)) in subjects.into_iter().zip(results) {
        let port = subject.port();
        let transport = if matches!(subject, Subject::Coap { .. }) {
            "udp"
        } else {
            "tcp"
        };
        let endpoint = format!("{}/{transport}", context.target.endpoint(port));
        let cases = subject.cases();
        match tried {
            None => out_of_time(
                sink,
                &META,
                context,
                port,
                subject.name(),
                &format!("sending {} malformed cases ({done} sent)", cases.len()),
            ),
            Some(Tried::NotAnswering) => {}
            Some(Tried::Stopped(index)) => {
                let case = &cases[index];
                let shown: String = case
                    .iter()
                    .take(48)
                    .map(|&byte| match byte {
                        b' '..=b'~' => (byte as char).to_string(),
                        _ => format!("\\x{byte:02x}"),
                    })
                    .collect();
                sink.add(
                    META.id,
                    META.provisions,
                    Outcome::Fail,
                    Severity::High,
                    format!("{} on {endpoint} stopped answering after malformed case {} of {}", subject.name(), index + 1, cases.len()),
                )
                .detail("a malformed request took the service down: it does not validate its input; the case is in the evidence")
                .on(&host, port, transport, Some(subject.name()))
                .evidence(serde_json::json!({"input": "protocol", "case": index + 1, "bytes": case.len(), "start": shown, "seed": SEED}))
                .record();
            }
            Some(Tried::Survived) => {
                sink.add(
                    META.id,
                    META.provisions,
                    Outcome::Pass,
                    Severity::Info,
                    format!(
                        "no indication that malformed input stops {} on {endpoint} ({} cases)",
                        subject.name(),
                        cases.len()
                    ),
                )
                .on(&host, port, transport, Some(subject.name()))
                .evidence(
                    serde_json::json!({"input": "protocol", "cases": cases.len(), "seed": SEED}),
                )
                .record();
            }
        }
    }
}

/// How a service took the malformed cases.
enum Tried {
    /// It did not answer a valid request before the first case.
    NotAnswering,
    /// It stopped answering after this case (0-based), and a second later too.
    Stopped(usize),
    /// It answered after every case.
    Survived,
}

/// Sends the cases to one service, checking after each that it still answers; `done`
/// counts the cases sent.
async fn try_cases(context: &HostContext, subject: Subject, done: &mut usize) -> Tried {
    if !subject.alive(context).await {
        return Tried::NotAnswering;
    }
    for (index, case) in subject.cases().iter().enumerate() {
        subject.send(context, case).await;
        *done += 1;
        if !subject.alive(context).await {
            tokio::time::sleep(RECOVERY).await;
            if !subject.alive(context).await {
                return Tried::Stopped(index);
            }
        }
    }
    Tried::Survived
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cases_are_the_same_every_run() {
        assert_eq!(http_cases(), http_cases());
        assert_eq!(mqtt_cases().len(), 6 + MUTATIONS);
        assert_ne!(http_cases()[8], http_cases()[9], "mutations differ");
        assert!(coap_cases().iter().all(|case| !case.is_empty()));
    }
}
