//! Fuzz target: the parsers of what a hostile network peer sends: a TLS server's first
//! flight, an SSH key exchange offer, an HTTP response, the links and login form of its
//! page and a digest challenge, a UPnP device description and LOCATION, telnet option
//! negotiation and login prompts, FTP reply codes, DNS messages (mDNS), the UDP
//! services' answers (TFTP, SNMP, SSDP, mDNS, CoAP) and every match of the service
//! table. Any panic is a bug.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = provisor_net::tls::parse_flight(data);
    let _ = provisor_net::proto::ssh::parse_kexinit(data);
    if let Some(response) = provisor_net::proto::http::parse(data) {
        let _ = provisor_net::proto::http::links(&response.body, 40);
        let _ = provisor_net::proto::http_auth::login_form(&response.body, "/a/b.html");
        for challenge in response.headers_named("www-authenticate") {
            if let Some(challenge) = provisor_net::proto::http_auth::Challenge::parse(challenge) {
                let _ = challenge.answer("GET", "/", ("u", "p"), "n");
            }
        }
    }
    let text = String::from_utf8_lossy(data);
    let _ = provisor_net::proto::telnet::asks_for_login(&text);
    let _ = provisor_net::proto::upnp::parse(&text, "http://127.0.0.1/d.xml", 80);
    let _ = provisor_net::proto::upnp::on_target(&text, std::net::Ipv4Addr::LOCALHOST.into());
    let (mut text, mut replies) = (Vec::new(), Vec::new());
    provisor_net::proto::telnet::take_commands(data, &mut text, &mut replies);
    let _ = provisor_net::proto::ftp::reply_code(data);
    let _ = provisor_net::proto::dns::parse(data);
    for name in ["tftp", "snmp", "ssdp", "mdns", "coap"] {
        let _ = provisor_net::udp::read_answer(name, data);
    }
    let _ = provisor_net::identify::identify_answer_for_fuzzing(data);
});
