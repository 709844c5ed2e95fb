//! A small TCP proxy for fault tests: it listens on 127.0.0.1, forwards each connection
//! to a server on loopback, and does to the traffic what the test asks: pass it, refuse
//! every connection (and cut the open ones, as a network outage would), or cut a
//! connection once a number of bytes went through it in one direction (a connection
//! dropped mid-upload or mid-download), for the next N connections or until told
//! otherwise.
//!
//! It only ever connects to a loopback address, and it is bounded: every socket has a
//! read timeout, so its threads notice within a fraction of a second that the proxy
//! was dropped, and each connection lives at most [`MAX_CONNECTION_LIFE`].

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a proxied connection may live.
pub const MAX_CONNECTION_LIFE: Duration = Duration::from_secs(600);
/// How often a waiting thread looks whether it should stop.
const TICK: Duration = Duration::from_millis(50);

/// What the proxy does to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    Pass,
    /// Accept and close at once; set, it also cuts every open connection.
    Refuse,
    /// Cut the connection once this many bytes went from the client to the server.
    CutUpload(u64),
    /// Cut the connection once this many bytes went from the server to the client.
    CutDownload(u64),
    /// Forward what the client sends, but hold back the server's answer until the
    /// client gives up (a receiver that never answers in time).
    Stall,
}

/// The proxy; dropped, it stops and closes every connection.
pub struct FaultProxy {
    address: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

struct Shared {
    upstream: SocketAddr,
    stop: AtomicBool,
    /// The fault for new connections and how many more get it (None: all).
    plan: Mutex<(Fault, Option<u32>)>,
    /// Raised to cut the open connections.
    generation: AtomicU64,
    accepted: AtomicU64,
    cut: AtomicU64,
}

impl FaultProxy {
    /// Starts a proxy to `upstream`, which must be on loopback.
    pub fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        if !upstream.ip().is_loopback() {
            return Err(std::io::Error::new(
                ErrorKind::InvalidInput,
                format!("{upstream}: the fault proxy forwards to loopback addresses only"),
            ));
        }
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            stop: AtomicBool::new(false),
            plan: Mutex::new((Fault::Pass, None)),
            generation: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            cut: AtomicU64::new(0),
        });
        let acceptor = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("fault-proxy".into())
                .spawn(move || accept(&listener, &shared))?
        };
        Ok(FaultProxy {
            address,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// Where clients connect.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Applies `fault` to every new connection from now on; [`Fault::Refuse`] also cuts
    /// the open ones.
    pub fn set(&self, fault: Fault) {
        self.plan(fault, None);
    }

    /// Applies `fault` to the next `connections` new connections, then passes again.
    pub fn set_for(&self, fault: Fault, connections: u32) {
        self.plan(fault, Some(connections));
    }

    fn plan(&self, fault: Fault, connections: Option<u32>) {
        *self
            .shared
            .plan
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = (fault, connections);
        if fault == Fault::Refuse {
            self.shared.generation.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// How many connections were accepted.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// How many connections the proxy cut or refused.
    pub fn cut(&self) -> u64 {
        self.shared.cut.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

impl Shared {
    /// The fault the next connection gets, counting it down.
    fn next_fault(&self) -> Fault {
        let mut plan = self.plan.lock().unwrap_or_else(PoisonError::into_inner);
        let fault = plan.0;
        match &mut plan.1 {
            Some(0) => Fault::Pass,
            Some(left) => {
                *left -= 1;
                fault
            }
            None => fault,
        }
    }

    fn stopping(&self, generation: u64, since: Instant) -> bool {
        self.stop.load(Ordering::SeqCst)
            || self.generation.load(Ordering::SeqCst) != generation
            || since.elapsed() > MAX_CONNECTION_LIFE
    }
}

fn accept(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut pumps = Vec::new();
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                let fault = shared.next_fault();
                if fault == Fault::Refuse {
                    shared.cut.fetch_add(1, Ordering::SeqCst);
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let shared = shared.clone();
                if let Ok(pump) = std::thread::Builder::new()
                    .name("fault-proxy-connection".into())
                    .spawn(move || connection(client, fault, &shared))
                {
                    pumps.push(pump);
                }
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock => std::thread::sleep(TICK / 5),
            Err(_) => std::thread::sleep(TICK),
        }
        pumps.retain(|pump: &JoinHandle<()>| !pump.is_finished());
    }
    for pump in pumps {
        let _ = pump.join();
    }
}

/// Forwards one connection both ways until either side closes or the fault cuts it.
fn connection(client: TcpStream, fault: Fault, shared: &Arc<Shared>) {
    let generation = shared.generation.load(Ordering::SeqCst);
    let Ok(server) = TcpStream::connect_timeout(&shared.upstream, Duration::from_secs(5)) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let limits = match fault {
        Fault::CutUpload(bytes) => (Some(bytes), None),
        Fault::CutDownload(bytes) => (None, Some(bytes)),
        Fault::Pass | Fault::Refuse | Fault::Stall => (None, None),
    };
    let (Ok(client_reader), Ok(server_reader), Ok(client_writer), Ok(server_writer)) = (
        client.try_clone(),
        server.try_clone(),
        client.try_clone(),
        server.try_clone(),
    ) else {
        return;
    };
    let counted = Arc::new(AtomicBool::new(false));
    let upload = {
        let (shared, counted) = (shared.clone(), counted.clone());
        std::thread::spawn(move || {
            pump(
                client_reader,
                server_writer,
                limits.0,
                &shared,
                generation,
                &counted,
            );
        })
    };
    if fault == Fault::Stall {
        // The answer waits in the socket until the client closes its side.
        let since = Instant::now();
        while !upload.is_finished() && !shared.stopping(generation, since) {
            std::thread::sleep(TICK);
        }
        drop((server_reader, client_writer));
    } else {
        pump(
            server_reader,
            client_writer,
            limits.1,
            shared,
            generation,
            &counted,
        );
    }
    let _ = upload.join();
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
}

/// Copies `from` into `to` until the end, a stop, or `limit` bytes. When the proxy
/// cuts the connection (a limit, an outage) it is counted, once (`counted`), before
/// both directions are shut, so a client that sees the cut sees it counted.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    limit: Option<u64>,
    shared: &Shared,
    generation: u64,
    counted: &AtomicBool,
) {
    let cut = |from: &TcpStream, to: &TcpStream| {
        if !counted.swap(true, Ordering::SeqCst) {
            shared.cut.fetch_add(1, Ordering::SeqCst);
        }
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    };
    let since = Instant::now();
    let _ = from.set_read_timeout(Some(TICK));
    let _ = to.set_write_timeout(Some(Duration::from_secs(10)));
    let mut buffer = [0u8; 16 << 10];
    let mut passed = 0u64;
    loop {
        if shared.stopping(generation, since) {
            return cut(&from, &to);
        }
        let read = match from.read(&mut buffer) {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(read) => read,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                continue;
            }
            Err(_) => {
                let _ = to.shutdown(Shutdown::Both);
                return;
            }
        };
        let allowed = match limit {
            Some(limit) => usize::try_from(limit.saturating_sub(passed))
                .unwrap_or(usize::MAX)
                .min(read),
            None => read,
        };
        if to.write_all(&buffer[..allowed]).is_err() {
            let _ = from.shutdown(Shutdown::Both);
            return;
        }
        passed += allowed as u64;
        if allowed < read || limit.is_some_and(|limit| passed >= limit) {
            return cut(&from, &to);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server on loopback that answers each connection until it closes.
    fn echo() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(16) {
                let Ok(mut stream) = stream else { continue };
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut buffer = [0u8; 4096];
                    while let Ok(read @ 1..) = stream.read(&mut buffer) {
                        if stream.write_all(&buffer[..read]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        address
    }

    fn round_trip(address: SocketAddr, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect(address)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.write_all(bytes)?;
        stream.shutdown(Shutdown::Write)?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer)?;
        Ok(answer)
    }

    #[test]
    fn passes_refuses_and_cuts_as_told() {
        let proxy = FaultProxy::start(echo()).unwrap();
        assert_eq!(round_trip(proxy.address(), b"hello").unwrap(), b"hello");

        proxy.set(Fault::Refuse);
        assert!(round_trip(proxy.address(), b"hello").map_or(true, |answer| answer.is_empty()));

        proxy.set_for(Fault::CutUpload(3), 1);
        let answer = round_trip(proxy.address(), b"hello").unwrap_or_default();
        assert!(answer.len() <= 3, "{answer:?}");
        // The next connection passes again.
        assert_eq!(round_trip(proxy.address(), b"hello").unwrap(), b"hello");

        proxy.set_for(Fault::CutDownload(2), 1);
        let answer = round_trip(proxy.address(), b"hello").unwrap_or_default();
        assert_eq!(answer, b"he");
        assert!(proxy.cut() >= 3);
    }

    #[test]
    fn refusing_cuts_the_open_connections() {
        let proxy = FaultProxy::start(echo()).unwrap();
        let mut open = TcpStream::connect(proxy.address()).unwrap();
        open.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        open.write_all(b"ping").unwrap();
        let mut buffer = [0u8; 4];
        open.read_exact(&mut buffer).unwrap();
        proxy.set(Fault::Refuse);
        let started = Instant::now();
        let mut rest = Vec::new();
        let _ = open.read_to_end(&mut rest);
        assert!(rest.is_empty());
        assert!(started.elapsed() < Duration::from_secs(2), "cut at once");
    }

    #[test]
    fn forwards_to_loopback_only() {
        let error = FaultProxy::start("192.0.2.1:80".parse().unwrap())
            .err()
            .unwrap();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
    }
}
