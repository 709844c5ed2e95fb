//! `firmware.openwrt-config`: OpenWrt defaults that expose the device: its web interface,
//! serial console, Wi-Fi, UPnP and firewall as UCI configures them.

use provisor_engine::{Outcome, Severity};

use super::config::{UciSection, is_on, uci_sections};
use crate::checks::{Check, CheckMeta, Context, pass_if_clean};
use provisor_engine::FindingSink;

/// Reads the UCI files OpenWrt-based routers and gateways ship in `/etc/config`:
/// `uhttpd` (a web interface served over plain HTTP only, or alongside HTTPS without
/// `redirect_https`, sends the administrator's password in the clear: 5.5-1),
/// `system` (`ttylogin '0'` starts a root shell on the serial console without a
/// password: 5.6-4), `wireless` (an enabled access point that is open, uses WEP or WPA1
/// with TKIP fails 5.5-1; one whose passphrase is written in the image has the same
/// password on every device: 5.1-1), `upnpd` (UPnP IGD enabled by default lets any
/// host on the LAN open ports: 5.6-1) and `firewall` (a WAN zone accepting all input,
/// or rules opening telnet, FTP, TFTP, SSH or the web interface to the WAN: 5.6-1).
/// Disabled radios and interfaces, and commented-out lines, are not read.
pub struct OpenWrtConfig;

static META: CheckMeta = CheckMeta {
    id: "firmware.openwrt-config",
    title: "OpenWrt settings that expose the device",
    provisions: &["5.5-1", "5.6-1", "5.6-4", "5.1-1"],
};

/// Ports that must not be opened to the WAN by default, and their services.
const EXPOSED_PORTS: &[(&str, &str)] = &[
    ("21", "FTP"),
    ("22", "SSH"),
    ("23", "telnet"),
    ("69", "TFTP"),
    ("80", "the web interface"),
    ("443", "the web interface"),
    ("8080", "the web interface"),
];

/// Records the findings of one UCI file.
struct Reader<'s> {
    sink: &'s mut FindingSink,
    path: String,
    container: String,
}

impl Reader<'_> {
    fn fail(
        &mut self,
        provisions: &[&str],
        severity: Severity,
        title: String,
        line: u64,
        detail: &str,
    ) {
        self.sink
            .add(META.id, provisions, Outcome::Fail, severity, title)
            .detail(detail)
            .at(&self.path, Some(line), &self.container)
            .record();
    }

    fn uhttpd(&mut self, sections: &[UciSection]) {
        for section in sections.iter().filter(|section| section.kind == "uhttpd") {
            let plain = section.all("listen_http").next();
            let tls = section.all("listen_https").next().is_some();
            let redirect = section.get("redirect_https").is_some_and(is_on);
            match (plain, tls, redirect) {
                (Some((_, line)), false, _) => self.fail(
                    &["5.5-1"],
                    Severity::High,
                    "the web interface (uhttpd) is served over plain HTTP only".into(),
                    line,
                    "the administrator's password crosses the network in the clear; listen on HTTPS (listen_https, cert, key)",
                ),
                (Some((_, line)), true, false) => self.fail(
                    &["5.5-1"],
                    Severity::Medium,
                    "the web interface (uhttpd) is also served over plain HTTP".into(),
                    line,
                    "set option redirect_https '1' so that every login goes over HTTPS",
                ),
                _ => {}
            }
        }
    }

    fn system(&mut self, sections: &[UciSection]) {
        for section in sections.iter().filter(|section| section.kind == "system") {
            if section.get("ttylogin") == Some("0") {
                self.fail(
                    &["5.6-4"],
                    Severity::High,
                    "the serial console gives a root shell without login (ttylogin '0')".into(),
                    section.line_of("ttylogin"),
                    "set option ttylogin '1' so that the console asks for the root password",
                );
            }
        }
    }

    fn wireless(&mut self, sections: &[UciSection]) {
        let disabled_radios: Vec<&str> = sections
            .iter()
            .filter(|section| section.kind == "wifi-device")
            .filter(|section| section.get("disabled").is_some_and(is_on))
            .map(|section| section.name.as_str())
            .collect();
        for section in sections
            .iter()
            .filter(|section| section.kind == "wifi-iface")
        {
            let radio = section.get("device").unwrap_or("");
            let mode = section.get("mode").unwrap_or("ap");
            if section.get("disabled").is_some_and(is_on)
                || disabled_radios.contains(&radio)
                || mode != "ap"
            {
                continue;
            }
            let ssid = section.get("ssid").unwrap_or("(no SSID)");
            let encryption = section.get("encryption").unwrap_or("none");
            let line = section.line_of("encryption");
            let weak = if matches!(encryption, "none" | "open" | "owe-transition") {
                Some("is open: no encryption")
            } else if encryption.starts_with("wep") {
                Some("uses WEP, broken since 2001")
            } else if encryption == "psk"
                || encryption.starts_with("psk+")
                || encryption.contains("tkip")
            {
                Some("uses WPA with TKIP")
            } else {
                None
            };
            if let Some(weak) = weak {
                self.fail(
                    &["5.5-1"],
                    Severity::High,
                    format!("the Wi-Fi network \"{ssid}\" {weak}"),
                    line,
                    "use WPA2 (psk2 with CCMP) or WPA3 (sae)",
                );
            }
            if encryption != "none" && section.get("key").is_some_and(|key| !key.is_empty()) {
                self.fail(
                    &["5.1-1"],
                    Severity::High,
                    format!("the Wi-Fi passphrase of \"{ssid}\" is written in the image"),
                    section.line_of("key"),
                    "every device built from this image shares the passphrase; generate one per device (printed on its label) or have the user set it",
                );
            }
        }
    }

    fn upnpd(&mut self, sections: &[UciSection]) {
        for section in sections.iter().filter(|section| section.kind == "upnpd") {
            let enabled = ["enabled", "enable_upnp"]
                .iter()
                .find(|option| section.get(option).is_some_and(is_on));
            if let Some(option) = enabled {
                self.fail(
                    &["5.6-1"],
                    Severity::Medium,
                    "UPnP IGD is enabled by default".into(),
                    section.line_of(option),
                    "any program on the LAN can open ports in the firewall without authentication; leave UPnP off until the user enables it",
                );
            }
        }
    }

    fn firewall(&mut self, sections: &[UciSection]) {
        let wan_zones: Vec<&UciSection> = sections
            .iter()
            .filter(|section| section.kind == "zone" && section.get("name") == Some("wan"))
            .collect();
        for zone in &wan_zones {
            if zone.get("input") == Some("ACCEPT") {
                self.fail(
                    &["5.6-1"],
                    Severity::High,
                    "the firewall accepts every connection from the WAN".into(),
                    zone.line_of("input"),
                    "set the wan zone's input to REJECT or DROP and open only what must be reachable",
                );
            }
        }
        for rule in sections.iter().filter(|section| section.kind == "rule") {
            let from_wan = rule.get("src") == Some("wan");
            let to_device = rule.get("dest").is_none();
            let accept = rule.get("target") == Some("ACCEPT");
            if !(from_wan && to_device && accept) || rule.get("enabled") == Some("0") {
                continue;
            }
            for (ports, line) in rule.all("dest_port") {
                for port in ports.split_whitespace() {
                    if let Some((_, service)) =
                        EXPOSED_PORTS.iter().find(|(known, _)| *known == port)
                    {
                        self.fail(
                            &["5.6-1"],
                            Severity::High,
                            format!("the firewall opens port {port} ({service}) to the WAN"),
                            line,
                            "reach the device from the internet only through its cloud service, or let the user open ports",
                        );
                    }
                }
            }
        }
    }
}

impl Check for OpenWrtConfig {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        let mut read = Vec::new();
        for name in ["uhttpd", "system", "wireless", "upnpd", "firewall"] {
            let path = format!("/etc/config/{name}");
            let Ok(text) = context.vfs.read_text(&path, context.limits.max_file_read) else {
                continue;
            };
            let sections = uci_sections(&text);
            let mut reader = Reader {
                container: context.vfs.container_of(&path),
                path: path.clone(),
                sink: &mut *sink,
            };
            match name {
                "uhttpd" => reader.uhttpd(&sections),
                "system" => reader.system(&sections),
                "wireless" => reader.wireless(&sections),
                "upnpd" => reader.upnpd(&sections),
                _ => reader.firewall(&sections),
            }
            read.push(path);
        }
        let title = format!(
            "the OpenWrt configuration exposes nothing ({})",
            read.join(", ")
        );
        if let Some(pass) = pass_if_clean(sink, &META, !read.is_empty(), title) {
            pass.record();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::with_context;

    fn titles(entries: &[(&str, &str)]) -> Vec<String> {
        with_context(entries, |context| {
            let mut sink = FindingSink::new();
            OpenWrtConfig.run(context, &mut sink);
            sink.findings()
                .iter()
                .map(|finding| format!("{:?} {}", finding.outcome, finding.title))
                .collect()
        })
    }

    #[test]
    fn exposing_defaults_fail_and_safe_ones_pass() {
        let exposed = titles(&[
            (
                "/etc/config/uhttpd",
                "config uhttpd 'main'\n\tlist listen_http '0.0.0.0:80'\n",
            ),
            (
                "/etc/config/system",
                "config system\n\toption hostname 'cam'\n\toption ttylogin '0'\n",
            ),
            (
                "/etc/config/wireless",
                "config wifi-device 'radio0'\n\toption type 'mac80211'\nconfig wifi-iface 'guest'\n\toption device 'radio0'\n\toption ssid 'Guest'\n\toption encryption 'none'\nconfig wifi-iface 'main'\n\toption device 'radio0'\n\toption ssid 'Cam'\n\toption encryption 'psk2'\n\toption key 'acme1234'\n",
            ),
            (
                "/etc/config/upnpd",
                "config upnpd 'config'\n\toption enabled '1'\n",
            ),
            (
                "/etc/config/firewall",
                "config zone\n\toption name 'wan'\n\toption input 'ACCEPT'\nconfig rule\n\toption src 'wan'\n\toption dest_port '23'\n\toption target 'ACCEPT'\n",
            ),
        ]);
        assert_eq!(exposed.len(), 7, "{exposed:#?}");
        let safe = titles(&[
            (
                "/etc/config/uhttpd",
                "config uhttpd 'main'\n\tlist listen_http '0.0.0.0:80'\n\tlist listen_https '0.0.0.0:443'\n\toption redirect_https '1'\n",
            ),
            (
                "/etc/config/system",
                "config system\n\toption ttylogin '1'\n",
            ),
            (
                "/etc/config/wireless",
                "config wifi-device 'radio0'\n\toption disabled '1'\nconfig wifi-iface\n\toption device 'radio0'\n\toption encryption 'none'\nconfig wifi-iface\n\toption mode 'sta'\n\toption encryption 'psk'\n",
            ),
            (
                "/etc/config/upnpd",
                "config upnpd 'config'\n\toption enabled '0'\n",
            ),
            (
                "/etc/config/firewall",
                "config zone\n\toption name 'wan'\n\toption input 'REJECT'\nconfig rule\n\toption src 'wan'\n\toption proto 'icmp'\n\toption target 'ACCEPT'\n#config rule\n#\toption dest_port '22'\n",
            ),
        ]);
        assert_eq!(safe.len(), 1, "{safe:#?}");
        assert!(safe[0].starts_with("Pass"), "{safe:?}");
    }
}
