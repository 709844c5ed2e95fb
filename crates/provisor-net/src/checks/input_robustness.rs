//! `net.input-robustness`: a bounded, seeded smoke test of malformed requests.

use std::time::Duration;

use futures_util::future::join_all;
use provisor_engine::{FindingSink, Outcome, Severity};
use tokio::io::AsyncWriteExt;

use super::logins::Login;
use super::{Check, CheckMeta, CheckRun, HostContext, Phase, out_of_time, within_budget};
use crate::proto::{self, http, mqtt};
use crate::udp;

/// Sends HTTP, MQTT and CoAP services a fixed set of malformed requests (an overlong
/// request line, bad methods and versions, a header without a colon, a body that never
/// comes, NUL bytes; MQTT packets of unknown type, with a wrong protocol name, an
/// overflowing length, or a subscription before connecting; CoAP with a bad version,
/// token length or option) and as many again made by flipping bytes of valid requests
/// with a fixed seed, so every run sends the same cases. Each web login form found (when
/// credentials may be sent) is submitted with malformed field values: overlong, NUL
/// bytes, format directives, quotes and brackets, invalid UTF-8, direction overrides,
/// out-of-range numbers, a thousand extra fields; never anything a shell or a database
/// would run. After each case the service
/// must still answer a valid request (a second chance a second later); one that stops
/// answering fails 5.13-1 with the case that stopped it. Otherwise the finding says
/// there is no indication of a problem with the cases sent, which is all a smoke test
/// can say. It runs after every other check, since it may stop a service; the services
/// side by side, each within eight answers' time (inconclusive when that runs out).
/// Protocol requests are data transferred through an API or between networks: in V3.1.3
/// they bear on 5.13-1B (the evidence's `input` is `protocol`); a form is a user
/// interface, 5.13-1A (`input` is `form`).
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

/// The field values a form is submitted with, each in every visible field.
fn form_values() -> Vec<Vec<u8>> {
    vec![
        vec![b'A'; 65536],
        b"\x00\x00admin\x00".to_vec(),
        b"%s%s%s%s%n%n%x%x%p".to_vec(),
        b"'\"<>{}[]\\`".to_vec(),
        vec![0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf8, 0x88],
        "\u{202e}\u{feff}\u{200b}".as_bytes().to_vec(),
        b"-1".to_vec(),
        b"99999999999999999999999999999999".to_vec(),
        vec![b'['; 10000],
        Vec::new(),
    ]
}

/// The bodies (or queries) a form is submitted with: every malformed value in its
/// visible fields, then the form with a thousand extra fields.
fn form_cases(form: &crate::proto::http_auth::Form) -> Vec<Vec<u8>> {
    let mut all: Vec<Vec<u8>> = form_values()
        .iter()
        .map(|value| form.fill_bytes(value).into_bytes())
        .collect();
    let mut crowded = form.fill("provisor", "provisor");
    for index in 0..1000 {
        crowded.push_str(&format!("&f{index}=1"));
    }
    all.push(crowded.into_bytes());
    all
}

/// A service under test: how to send a case and how to tell it still answers.
#[derive(Clone, Copy)]
enum Subject {
    Http {
        port: u16,
        tls: bool,
    },
    Mqtt {
        port: u16,
        tls: bool,
    },
    Coap {
        port: u16,
    },
    /// The login form at this position of the context's logins.
    Form {
        login: usize,
    },
}

impl Subject {
    /// The login form of a `Form` subject: its port, TLS, page and form.
    fn form(
        self,
        context: &HostContext,
    ) -> Option<(u16, bool, &str, &crate::proto::http_auth::Form)> {
        match self {
            Subject::Form { login } => match context.logins.get(login) {
                Some(Login::HttpForm {
                    port,
                    tls,
                    page,
                    form,
                    ..
                }) => Some((*port, *tls, page.as_str(), form)),
                _ => None,
            },
            _ => None,
        }
    }

    fn port(self, context: &HostContext) -> u16 {
        match self {
            Subject::Http { port, .. } | Subject::Mqtt { port, .. } | Subject::Coap { port } => {
                port
            }
            Subject::Form { .. } => self.form(context).map_or(0, |(port, ..)| port),
        }
    }

    fn name(self, context: &HostContext) -> &'static str {
        match self {
            Subject::Http { tls: false, .. } => "http",
            Subject::Http { tls: true, .. } => "https",
            Subject::Mqtt { tls: false, .. } => "mqtt",
            Subject::Mqtt { tls: true, .. } => "mqtts",
            Subject::Coap { .. } => "coap",
            Subject::Form { .. } => match self.form(context) {
                Some((_, true, ..)) => "https",
                _ => "http",
            },
        }
    }

    /// What findings call it: `http on 127.0.0.1:80/tcp`, `the login form on
    /// 127.0.0.1:80/login.html`.
    fn describe(self, context: &HostContext) -> String {
        match self.form(context) {
            Some((port, _, page, _)) => {
                format!("the login form on {}{page}", context.target.endpoint(port))
            }
            None => format!(
                "{} on {}/{}",
                self.name(context),
                context.target.endpoint(self.port(context)),
                self.transport()
            ),
        }
    }

    /// `udp` for CoAP, `tcp` for the rest.
    fn transport(self) -> &'static str {
        match self {
            Subject::Coap { .. } => "udp",
            _ => "tcp",
        }
    }

    /// `form` for a form, `protocol` for the rest: what the evidence says was sent.
    fn input(self) -> &'static str {
        match self {
            Subject::Form { .. } => "form",
            _ => "protocol",
        }
    }

    fn cases(self, context: &HostContext) -> Vec<Vec<u8>> {
        match self {
            Subject::Http { .. } => http_cases(),
            Subject::Mqtt { .. } => mqtt_cases(),
            Subject::Coap { .. } => coap_cases(),
            Subject::Form { .. } => self
                .form(context)
                .map_or_else(Vec::new, |(.., form)| form_cases(form)),
        }
    }

    /// Sends a case and lets the service read it; answers are not waited for.
    async fn send(self, context: &HostContext, case: &[u8]) {
        match self {
            Subject::Form { .. } => {
                let Some((port, tls, _, form)) = self.form(context) else {
                    return;
                };
                // The cases are urlencoded: ASCII.
                let body = String::from_utf8_lossy(case);
                if form.post {
                    let _ = http::post_form(
                        &context.target,
                        port,
                        tls,
                        &form.action,
                        &body,
                        context.deadline,
                    )
                    .await;
                } else {
                    let path = format!("{}?{body}", form.action);
                    let _ =
                        http::get(&context.target, port, tls, &path, "", context.deadline).await;
                }
            }
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
            Subject::Form { .. } => match self.form(context) {
                Some((port, tls, ..)) => {
                    http::status(&context.target, port, tls, "/", context.deadline)
                        .await
                        .is_some()
                }
                None => false,
            },
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
    // Login forms come after the services, since a form's server may also be one.
    for (login, found) in context.logins.iter().enumerate() {
        if matches!(found, Login::HttpForm { .. }) {
            subjects.push(Subject::Form { login });
        }
    }
    // The services side by side, each within its time; then the forms, so that a form
    // that brings its server down is not blamed on the protocol cases sent to it.
    let try_all = |batch: Vec<Subject>| {
        join_all(batch.into_iter().map(|subject| async move {
            let mut done = 0;
            let tried = within_budget(context, try_cases(context, subject, &mut done)).await;
            (tried, done)
        }))
    };
    let (forms, services): (Vec<Subject>, Vec<Subject>) = subjects
        .iter()
        .partition(|subject| matches!(subject, Subject::Form { .. }));
    let mut results = try_all(services.clone()).await;
    results.extend(try_all(forms.clone()).await);
    let subjects: Vec<Subject> = services.into_iter().chain(forms).collect();
    for (subject, (tried, done)) in subjects.into_iter().zip(results) {
        let port = subject.port(context);
        let transport = subject.transport();
        let name = subject.name(context);
        let described = subject.describe(context);
        let cases = subject.cases(context);
        match tried {
            None => out_of_time(
                sink,
                &META,
                context,
                port,
                name,
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
                    format!("{described} stopped answering after malformed case {} of {}", index + 1, cases.len()),
                )
                .detail("malformed input took the service down: it does not validate its input; the case is in the evidence")
                .on(&host, port, transport, Some(name))
                .evidence(serde_json::json!({"input": subject.input(), "case": index + 1, "bytes": case.len(), "start": shown, "seed": SEED}))
                .record();
            }
            Some(Tried::Survived) => {
                sink.add(
                    META.id,
                    META.provisions,
                    Outcome::Pass,
                    Severity::Info,
                    format!(
                        "no indication that malformed input stops {described} ({} cases)",
                        cases.len()
                    ),
                )
                .on(&host, port, transport, Some(name))
                .evidence(
                    serde_json::json!({"input": subject.input(), "cases": cases.len(), "seed": SEED}),
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
    for (index, case) in subject.cases(context).iter().enumerate() {
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
