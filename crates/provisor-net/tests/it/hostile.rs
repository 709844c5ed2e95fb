//! Hostile peers: a server that drips bytes, one that sends an endless banner, one that
//! answers everything with garbage, one that accepts and never answers. Every probe ends
//! within its deadline and reads at most its byte limit. The servers stop by themselves
//! when the test ends or after a minute, whichever comes first.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::{scan, service_on};

const HOST: &str = "127.0.0.22";
/// How long any hostile server lives at most.
const LIFETIME: Duration = Duration::from_secs(60);

/// Serves every connection to `port` with `behaviour` on a thread of its own, until
/// `stop` is set or [`LIFETIME`] is over.
fn serve(port: u16, stop: Arc<AtomicBool>, behaviour: Behaviour) {
    serve_on(HOST, port, stop, behaviour);
}

/// [`serve`] on another loopback address.
fn serve_on(
    host: &'static str,
    port: u16,
    stop: Arc<AtomicBool>,
    behaviour: fn(TcpStream, &AtomicBool, Instant),
) {
    let listener = TcpListener::bind((host, port)).expect("hostile port free");
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let until = Instant::now() + LIFETIME;
        while !stop.load(Ordering::Relaxed) && Instant::now() < until {
            match listener.accept() {
                Ok((stream, _)) => {
                    let stop = stop.clone();
                    std::thread::spawn(move || {
                        let _ = stream.set_nonblocking(false);
                        behaviour(stream, &stop, until);
                    });
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
}

fn alive(stop: &AtomicBool, until: Instant) -> bool {
    !stop.load(Ordering::Relaxed) && Instant::now() < until
}

fn drip(mut stream: TcpStream, stop: &AtomicBool, until: Instant) {
    while alive(stop, until) && stream.write_all(b"S").is_ok() {
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn endless(mut stream: TcpStream, stop: &AtomicBool, until: Instant) {
    let chunk = [b'A'; 16384];
    while alive(stop, until) && stream.write_all(&chunk).is_ok() {}
}

fn garbage(mut stream: TcpStream, stop: &AtomicBool, until: Instant) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buffer = [0u8; 1024];
    let mut state = 0x2545_f491_u32;
    while alive(stop, until) {
        if matches!(stream.read(&mut buffer), Ok(0)) {
            break;
        }
        let noise: Vec<u8> = (0..512)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        if stream.write_all(&noise).is_err() {
            break;
        }
    }
}

fn silent(stream: TcpStream, stop: &AtomicBool, until: Instant) {
    while alive(stop, until) {
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stream);
}

/// An SSH server that says who it is, then nothing.
fn ssh_then_silent(mut stream: TcpStream, stop: &AtomicBool, until: Instant) {
    let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.2\r\n");
    silent(stream, stop, until);
}

/// An SSH server that says who it is, then sends noise.
fn ssh_then_garbage(mut stream: TcpStream, stop: &AtomicBool, until: Instant) {
    let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.2\r\n");
    garbage(stream, stop, until);
}

/// A telnet login prompt, then a byte at a time forever.
fn telnet_login_then_drip(mut stream: TcpStream, stop: &AtomicBool, until: Instant) {
    let _ = stream.write_all(b"\xff\xfd\x01\xff\xfb\x01\xff\xfb\x03\r\ncamera login: ");
    drip(stream, stop, until);
}

/// An FTP greeting, then a byte at a time forever.
fn ftp_then_drip(mut stream: TcpStream, stop: &AtomicBool, until: Instant) {
    let _ = stream.write_all(b"220 FTP server ready\r\n");
    drip(stream, stop, until);
}

/// Sets the flag when dropped, so the servers stop even when an assertion fails.
struct Stop(Arc<AtomicBool>);

impl Drop for Stop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// What a behaviour serves on a port.
type Behaviour = fn(TcpStream, &AtomicBool, Instant);

/// Serves each (port, behaviour) until the scan of those ports is over, and checks the
/// scan ended in far less than a minute: deadlines of 500 ms, a handful of probes and
/// attempts per port, ports in parallel, unless something ignored its deadline.
fn scan_hostile(peers: &[(u16, Behaviour)]) -> provisor_engine::FindingsFile {
    let stop = Stop(Arc::new(AtomicBool::new(false)));
    for (port, behaviour) in peers {
        serve(*port, stop.0.clone(), *behaviour);
    }
    let ports: Vec<u16> = peers.iter().map(|(port, _)| *port).collect();
    let started = Instant::now();
    let findings = scan(HOST, Some(&ports));
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "{:?}",
        started.elapsed()
    );
    findings
}

#[test]
fn hostile_peers_cost_no_more_than_their_deadlines() {
    let ports = [31001, 31002, 31003, 31004];
    let findings = scan_hostile(&[
        (ports[0], drip),
        (ports[1], endless),
        (ports[2], garbage),
        (ports[3], silent),
    ]);
    for port in ports {
        let found = service_on(&findings, port);
        assert!(
            found.is_some(),
            "{port} not listed: {:#?}",
            findings.findings
        );
    }
    for finding in &findings.findings {
        if let Some(banner) = finding.evidence.get("banner").and_then(|b| b.as_str()) {
            assert!(banner.len() <= 160, "{banner}");
        }
    }
    // Nothing hostile is mistaken for a known service.
    for port in ports {
        let title = service_on(&findings, port).unwrap();
        assert!(title.ends_with("unidentified"), "{title}");
    }
}

/// Hostile peers that look like login services (SSH, telnet, FTP) and then stall or
/// talk nonsense: the logins tried on them (SSH through russh, the telnet prompts, FTP
/// replies) end within their deadlines too.
#[test]
fn hostile_login_services_cost_no_more_than_their_deadlines() {
    let ports = [31011, 31012, 31013, 31014];
    let findings = scan_hostile(&[
        (ports[0], ssh_then_silent),
        (ports[1], ssh_then_garbage),
        (ports[2], telnet_login_then_drip),
        (ports[3], ftp_then_drip),
    ]);
    for (port, service) in ports.iter().zip(["ssh", "ssh", "telnet", "ftp"]) {
        let title = service_on(&findings, *port).unwrap_or_default();
        assert!(
            title.starts_with(&format!("{port}/tcp open: {service}")),
            "{title}"
        );
    }
    // No credential is said to work on a peer that never answers one.
    assert!(
        findings
            .findings
            .iter()
            .all(|finding| finding.check != "net.default-credentials"
                || finding.outcome != provisor_engine::Outcome::Fail),
        "{:#?}",
        findings.findings
    );
}

/// An HTTP server that stops for good when a GET request holds a NUL byte: the
/// detector's failing path (no Debian daemon falls over on cue).
fn fragile(mut stream: TcpStream, stop: &AtomicBool, until: Instant) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while alive(stop, until) && !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => request.extend_from_slice(&buffer[..read]),
        }
        if request.starts_with(b"GET ") && request.contains(&0) {
            // Falls over: the whole server stops.
            stop.store(true, Ordering::Relaxed);
            return;
        }
    }
    let _ = stream.write_all(b"HTTP/1.0 200 OK\r\nServer: fragile\r\nContent-Length: 2\r\n\r\nok");
}

#[test]
fn a_service_that_malformed_input_stops_fails() {
    let stop = Stop(Arc::new(AtomicBool::new(false)));
    serve_on("127.0.0.26", 31080, stop.0.clone(), fragile);
    let findings = crate::scan("127.0.0.26", Some(&[31080]));
    let failed = crate::failures(&findings);
    assert!(
        failed.iter().any(
            |(check, provision, port, title)| check == "net.input-robustness"
                && provision == "5.13-1"
                && *port == Some(31080)
                && title.starts_with(
                    "http on 127.0.0.26:31080/tcp stopped answering after malformed case"
                )
        ),
        "{failed:#?}"
    );
}
