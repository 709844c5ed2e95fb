//! Just enough of the protocols the checks speak (HTTP/1.0, MQTT 3.1.1, telnet option
//! negotiation, the start of SSH), each over a connection from [`crate::identify::open`], with every read
//! bounded in bytes and time.

pub mod http;
pub mod mqtt;
pub mod ssh;
pub mod telnet;
