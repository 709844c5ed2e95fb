//! TCP discovery by connect scan: a fixed pool of workers takes the ports in turn and
//! connects to each with a deadline. A refusal is a closed port, an accepted connection
//! an open one, silence a filtered one. Filtered ports are tried again, at an eighth of
//! the concurrency and with twice the deadline each round, so a device that drops
//! connections under load is not read as having nothing open. Running out of sockets or
//! ephemeral ports slows the workers down instead of losing ports.
//!
//! The connections to open ports are kept (up to [`KEPT`]) and handed to identification:
//! some debug services (gdbserver) serve one connection and stop when it closes, so the
//! first connection must also be the one that asks what they are.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Mutex;

use crate::target::Target;

/// How discovery proceeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Discovery {
    /// Connections in flight at once.
    pub concurrency: usize,
    /// How long a connection may take before the port counts as filtered.
    pub connect_timeout: Duration,
    /// How many more rounds filtered ports get.
    pub retries: u32,
}

impl Default for Discovery {
    fn default() -> Self {
        Discovery {
            concurrency: 1024,
            connect_timeout: Duration::from_millis(1000),
            retries: 1,
        }
    }
}

/// What a connection attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortState {
    /// A connection was accepted.
    Open,
    /// The connection was refused.
    Closed,
    /// No answer within the deadline.
    Filtered,
}

/// The result of a scan: open ports ascending, and how many stayed silent.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Ports that accepted a connection.
    pub open: Vec<u16>,
    /// Ports that never answered, after every round.
    pub filtered: Vec<u16>,
    /// Connection attempts made.
    pub attempts: usize,
    /// The connections to open ports, still open, for the first ones found.
    pub connections: Vec<(u16, TcpStream)>,
}

/// Connections to open ports kept for identification; beyond these (a host that
/// accepts everything), identification opens its own.
pub const KEPT: usize = 256;

/// Attempts on a port that failed for lack of local resources before it is given up.
const RESOURCE_RETRIES: u32 = 200;

/// Connects to every port of `ports` on the target.
pub async fn tcp_scan(target: &Target, ports: &[u16], options: Discovery) -> Discovered {
    let mut discovered = Discovered::default();
    let mut pending: Vec<u16> = ports.to_vec();
    let mut concurrency = options.concurrency.max(1);
    let mut timeout = options.connect_timeout;
    for round in 0..=options.retries {
        if pending.is_empty() {
            break;
        }
        let (states, attempts) = round_of(target, &pending, concurrency, timeout).await;
        discovered.attempts += attempts;
        pending.clear();
        for (port, state, stream) in states {
            if let Some(stream) = stream
                && discovered.connections.len() < KEPT
            {
                discovered.connections.push((port, stream));
            }
            match state {
                PortState::Open => discovered.open.push(port),
                PortState::Filtered if round < options.retries => pending.push(port),
                PortState::Filtered => discovered.filtered.push(port),
                PortState::Closed => {}
            }
        }
        concurrency = (concurrency / 8).max(1);
        timeout *= 2;
    }
    discovered.open.sort_unstable();
    discovered.filtered.sort_unstable();
    discovered
}

/// One pass over `ports` with `concurrency` workers.
async fn round_of(
    target: &Target,
    ports: &[u16],
    concurrency: usize,
    timeout: Duration,
) -> (Vec<(u16, PortState, Option<TcpStream>)>, usize) {
    let ports: Arc<[u16]> = Arc::from(ports);
    let next = Arc::new(AtomicUsize::new(0));
    let attempts = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new(Vec::with_capacity(ports.len())));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(ports.len()) {
        let (ports, next, attempts, results) = (
            ports.clone(),
            next.clone(),
            attempts.clone(),
            results.clone(),
        );
        let (address, source) = (target.address, target.source);
        workers.spawn(async move {
            let mut found = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(&port) = ports.get(index) else {
                    break;
                };
                let (state, stream, tries) = probe_port(address, source, port, timeout).await;
                attempts.fetch_add(tries, Ordering::Relaxed);
                found.push((port, state, stream));
            }
            results.lock().await.extend(found);
        });
    }
    while workers.join_next().await.is_some() {}
    let states = std::mem::take(&mut *results.lock().await);
    (states, attempts.load(Ordering::Relaxed))
}

/// One port: its state, the connection when it is open, and the attempts it took.
async fn probe_port(
    address: IpAddr,
    source: Option<IpAddr>,
    port: u16,
    timeout: Duration,
) -> (PortState, Option<TcpStream>, usize) {
    let peer = SocketAddr::new(address, port);
    let mut tries = 0;
    loop {
        tries += 1;
        match connect(peer, source, timeout).await {
            Ok((state, stream)) => return (state, stream, tries as usize),
            // Out of descriptors, buffers or ephemeral ports: wait for others to close.
            Err(_) if tries < RESOURCE_RETRIES => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(_) => return (PortState::Filtered, None, tries as usize),
        }
    }
}

/// Connects once. An error is a local shortage worth retrying; every answer of the peer
/// is a state, with the connection when it was accepted.
pub(crate) async fn connect(
    peer: SocketAddr,
    source: Option<IpAddr>,
    timeout: Duration,
) -> Result<(PortState, Option<TcpStream>), std::io::Error> {
    let socket = if peer.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(source) = source {
        socket.bind(SocketAddr::new(source, 0))?;
    }
    match tokio::time::timeout(timeout, socket.connect(peer)).await {
        Err(_) => Ok((PortState::Filtered, None)),
        Ok(Ok(stream)) => {
            // A connection that met itself is no service.
            if stream.local_addr().ok() == Some(peer) {
                Ok((PortState::Closed, None))
            } else {
                Ok((PortState::Open, Some(stream)))
            }
        }
        Ok(Err(error)) => match error.kind() {
            ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset => {
                Ok((PortState::Closed, None))
            }
            ErrorKind::TimedOut | ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
                Ok((PortState::Filtered, None))
            }
            _ => Err(error),
        },
    }
}
