//! `firmware.mqtt-config`: MQTT brokers open to anonymous clients or without TLS.

use provisor_engine::{Outcome, Severity};

use super::config::{directives, is_on, legacy_protocols, weak_ciphers};
use crate::checks::{Check, CheckMeta, Context};
use provisor_engine::FindingSink;

/// Reads mosquitto's configuration (`/etc/mosquitto/mosquitto.conf` and the files of
/// its `include_dir`). `allow_anonymous true` lets anyone on the network publish and
/// subscribe without authenticating (5.5-4, and 5.5-5 where topics change settings); a
/// `listener` on a port other than localhost without `certfile` carries credentials and
/// data in plaintext (5.5-1, 5.5-7), and `tls_version` below TLS 1.2 or `ciphers`
/// enabling broken suites weaken the TLS it has (5.5-1). `user root` keeps the broker
/// running as root (5.6-7). A listener bound to 127.0.0.1 or ::1 is local and not
/// flagged; commented-out lines are not read.
pub struct MqttConfig;

static META: CheckMeta = CheckMeta {
    id: "firmware.mqtt-config",
    title: "MQTT brokers allowing anonymous clients or plaintext listeners",
    provisions: &["5.5-4", "5.5-5", "5.5-1", "5.5-7", "5.6-7"],
};

/// The provisions of anonymous access and plaintext listeners.
const ACCESS: &[&str] = &["5.5-4", "5.5-5", "5.5-1", "5.5-7"];

/// A listener block: where it starts, its port and address, and whether it has TLS.
struct Listener {
    line: u64,
    port: String,
    local: bool,
    tls: bool,
}

impl Check for MqttConfig {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        let vfs = context.vfs;
        let mut files = vec!["/etc/mosquitto/mosquitto.conf".to_owned()];
        files.extend(
            vfs.under("/etc/mosquitto/conf.d")
                .filter(|node| node.path.ends_with(".conf"))
                .map(|node| node.path.clone()),
        );
        for path in files {
            let Ok(text) = vfs.read_text(&path, context.limits.max_file_read) else {
                continue;
            };
            let container = vfs.container_of(&path);
            let mut listeners: Vec<Listener> = Vec::new();
            let mut anonymous = None;
            for (key, value, line) in directives(&text) {
                match key.as_str() {
                    "listener" => {
                        let mut words = value.split_whitespace();
                        let port = words.next().unwrap_or("").to_owned();
                        let address = words.next().unwrap_or("");
                        listeners.push(Listener {
                            line,
                            port,
                            local: matches!(address, "127.0.0.1" | "::1" | "localhost"),
                            tls: false,
                        });
                    }
                    "certfile" | "psk_hint" => {
                        if let Some(listener) = listeners.last_mut() {
                            listener.tls = true;
                        }
                    }
                    "allow_anonymous" => anonymous = Some((is_on(&value), line)),
                    "tls_version" | "ciphers" | "user" => {
                        let problem = match key.as_str() {
                            "tls_version" => legacy_protocols(&value).first().map(|version| {
                                (&["5.5-1"][..], format!("the MQTT broker accepts {version}"))
                            }),
                            "ciphers" => {
                                let weak = weak_ciphers(&value);
                                (!weak.is_empty()).then(|| {
                                    (
                                        &["5.5-1"][..],
                                        format!(
                                            "the MQTT broker enables weak cipher suites ({})",
                                            weak.join(", ")
                                        ),
                                    )
                                })
                            }
                            _ => (value == "root").then(|| {
                                (
                                    &["5.6-7"][..],
                                    "the MQTT broker runs as root (user root)".to_owned(),
                                )
                            }),
                        };
                        if let Some((provisions, title)) = problem {
                            sink.add(META.id, provisions, Outcome::Fail, Severity::High, title)
                                .detail("require TLS 1.2 or later with strong suites, and run mosquitto as its own unprivileged user")
                                .at(&path, Some(line), &container)
                                .record();
                        }
                    }
                    _ => {}
                }
            }
            if let Some((true, line)) = anonymous {
                sink.add(
                    META.id,
                    ACCESS,
                    Outcome::Fail,
                    Severity::High,
                    "the MQTT broker allows anonymous clients (allow_anonymous true)",
                )
                .detail("anyone who reaches the broker can subscribe to every topic and publish commands")
                .at(&path, Some(line), &container)
                .record();
            }
            for listener in listeners.iter().filter(|l| !l.local && !l.tls) {
                sink.add(
                    META.id,
                    ACCESS,
                    Outcome::Fail,
                    Severity::High,
                    format!("MQTT listener on port {} has no TLS", listener.port),
                )
                .detail("credentials and messages cross the network in plaintext; set certfile and keyfile")
                .at(&path, Some(listener.line), &container)
                .record();
            }
        }
    }
}
