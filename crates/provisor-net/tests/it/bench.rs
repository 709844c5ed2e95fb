//! The test bench: real Debian daemons started on a loopback address as a device, with
//! configurations that make it weak or hardened, stopped when the device is dropped.
//! `scripts/install-bench` installs them (scripts/test runs it).

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How an OpenSSH server of the bench lets users in.
#[derive(Clone, Copy)]
pub enum SshLogins {
    /// Public keys only, the algorithms of its defaults (hardened).
    KeysOnly,
    /// Passwords, and the broken algorithms it can still be told to offer (DH group 1,
    /// 3DES, HMAC-MD5).
    Passwords,
    /// Keyboard-interactive through PAM (which waits two seconds after a wrong
    /// password), the algorithms of its defaults.
    Pam,
}

/// A device: daemons listening on one loopback address, or on an address of a network
/// namespace of its own.
pub struct Device {
    pub address: &'static str,
    children: Vec<Child>,
    directory: tempfile::TempDir,
    namespace: Option<Namespace>,
}

/// A network namespace the bench creates for a device that needs an interface of its
/// own (multicast and link-scope services bind every address, which on this machine's
/// loopback would show on every address the tests scan): a veth pair, this machine's
/// end and the device's end numbered in 198.18.0.0/15 (set aside for benchmarking, never
/// routed), so the traffic to the device goes into the namespace and nowhere else.
struct Namespace {
    name: String,
    /// The device's end, inside the namespace.
    interface: &'static str,
}

/// Runs `ip` with `arguments`, which must succeed.
fn ip(arguments: &[&str]) {
    let output = Command::new(program("/usr/sbin/ip"))
        .args(arguments)
        .output()
        .expect("ip runs");
    assert!(
        output.status.success(),
        "ip {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Namespace {
    /// A namespace holding `device` (x.x.x.2 of a /30), this machine at x.x.x.1. The
    /// namespaces a killed run left behind go first: their veth pairs hold the same
    /// addresses.
    fn new(device: &str) -> Namespace {
        Namespace::remove_stale();
        let name = format!("provisor-bench-{}", std::process::id());
        let outside = format!("pvb{}", std::process::id() % 1_000_000);
        let octets: Vec<&str> = device.split('.').collect();
        let here = format!("{}.{}.{}.1", octets[0], octets[1], octets[2]);
        let namespace = Namespace {
            name,
            interface: "dev0",
        };
        ip(&["netns", "add", &namespace.name]);
        ip(&[
            "link",
            "add",
            &outside,
            "type",
            "veth",
            "peer",
            "name",
            namespace.interface,
            "netns",
            &namespace.name,
        ]);
        ip(&["addr", "add", &format!("{here}/30"), "dev", &outside]);
        ip(&["link", "set", &outside, "up"]);
        let inside = ["-n", &namespace.name];
        ip(&[
            &inside[..],
            &[
                "addr",
                "add",
                &format!("{device}/30"),
                "dev",
                namespace.interface,
            ],
        ]
        .concat());
        ip(&[&inside[..], &["link", "set", namespace.interface, "up"]].concat());
        ip(&[&inside[..], &["link", "set", "lo", "up"]].concat());
        namespace
    }

    /// Deletes the bench namespaces of test processes that are gone.
    fn remove_stale() {
        let Ok(listed) = Command::new(program("/usr/sbin/ip"))
            .args(["netns", "list"])
            .output()
        else {
            return;
        };
        for line in String::from_utf8_lossy(&listed.stdout).lines() {
            let name = line.split_whitespace().next().unwrap_or_default();
            let Some(pid) = name.strip_prefix("provisor-bench-") else {
                continue;
            };
            if !Path::new("/proc").join(pid).exists() {
                let _ = Command::new(program("/usr/sbin/ip"))
                    .args(["netns", "del", name])
                    .status();
            }
        }
    }

    /// `command`, run inside the namespace.
    fn wrap(&self, command: &Command) -> Command {
        let mut wrapped = Command::new(program("/usr/sbin/ip"));
        wrapped
            .args(["netns", "exec", &self.name])
            .arg(command.get_program())
            .args(command.get_args());
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        wrapped
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        // Deleting the namespace deletes the veth pair with it.
        let _ = Command::new("/usr/sbin/ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A program the bench needs, with what to do when it is missing.
fn program(path: &str) -> PathBuf {
    let path = PathBuf::from(path);
    assert!(
        path.exists(),
        "{} is missing: run scripts/install-bench (scripts/test does)",
        path.display()
    );
    path
}

impl Device {
    pub fn new(address: &'static str) -> Device {
        Device {
            address,
            children: Vec::new(),
            directory: tempfile::tempdir().expect("a temporary directory"),
            namespace: None,
        }
    }

    /// A device in a network namespace of its own at `address` (in 198.18.0.0/15).
    pub fn in_namespace(address: &'static str) -> Device {
        assert!(address.starts_with("198.18.") || address.starts_with("198.19."));
        let mut device = Device::new(address);
        device.namespace = Some(Namespace::new(address));
        device
    }

    fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("bench file written");
        path
    }

    /// Starts a daemon and waits until `port` accepts connections (or, when `ready` is
    /// given, until that text shows in its output: a service that serves one
    /// connection must not be spent on a readiness check).
    fn start(&mut self, port: u16, command: &mut Command, ready: Option<&str>) {
        let peer: SocketAddr = format!("{}:{port}", self.address).parse().unwrap();
        assert!(
            TcpStream::connect_timeout(&peer, Duration::from_millis(200)).is_err(),
            "{peer} is already in use: is a bench from an interrupted run still up? (pkill the daemons under /tmp/.tmp*)"
        );
        let log = self.path(&format!("{port}.log"));
        let output = std::fs::File::create(&log).expect("log created");
        let mut wrapped = self
            .namespace
            .as_ref()
            .map(|namespace| namespace.wrap(command));
        let command = wrapped.as_mut().unwrap_or(command);
        let child = command
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("log shared"))
            .stderr(output)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"));
        self.children.push(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = match ready {
                Some(text) => std::fs::read_to_string(&log).is_ok_and(|log| log.contains(text)),
                None => TcpStream::connect_timeout(&peer, Duration::from_millis(200)).is_ok(),
            };
            if up {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{command:?} did not listen on {peer} within 30 s: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A command that runs `program` with the device's own user accounts: copies of this
    /// machine's /etc/passwd and /etc/shadow in which root's password is "xc3511" and an
    /// "admin" account has the password "admin" (two defaults of the Mirai list), mounted
    /// over the real files in a mount namespace of the daemon's own (`unshare -m`), so
    /// the machine's accounts are neither read nor changed by the logins tried.
    fn with_accounts(&self, daemon: &Path) -> Command {
        let hash = |password: &str| {
            let output = Command::new(program("/usr/bin/openssl"))
                .args(["passwd", "-6", "-salt", "provisorbench", password])
                .output()
                .expect("openssl passwd runs");
            assert!(output.status.success(), "{output:?}");
            String::from_utf8(output.stdout).unwrap().trim().to_owned()
        };
        let passwd = std::fs::read_to_string("/etc/passwd").expect("/etc/passwd is readable");
        let shadow = std::fs::read_to_string("/etc/shadow").expect("/etc/shadow is readable");
        let root = hash("xc3511");
        let mut shadow: String = shadow
            .lines()
            .map(|line| match line.strip_prefix("root:") {
                Some(rest) => format!(
                    "root:{root}:{}\n",
                    rest.split_once(':').map_or("", |(_, tail)| tail)
                ),
                None => format!("{line}\n"),
            })
            .collect();
        shadow.push_str(&format!("admin:{}:19000:0:99999:7:::\n", hash("admin")));
        let passwd = self.write(
            "passwd",
            &format!("{passwd}admin:x:4242:4242:device administrator:/tmp:/bin/sh\n"),
        );
        let shadow = self.write("shadow", &shadow);
        let mut command = Command::new(program("/usr/bin/unshare"));
        command
            .args(["-m", "--propagation", "private", "sh", "-c"])
            .arg("mount --bind \"$1\" /etc/passwd && mount --bind \"$2\" /etc/shadow && shift 2 && exec \"$@\"")
            .arg("sh")
            .arg(passwd)
            .arg(shadow)
            .arg(daemon);
        command
    }

    /// dropbear on `port`. With `passwords`, password logins (its default) against the
    /// device's accounts ([`Device::with_accounts`]); without, keys only.
    pub fn dropbear(&mut self, port: u16, passwords: bool) -> &mut Device {
        let key = self.path("dropbear_ed25519_host_key");
        let generated = Command::new(program("/usr/bin/dropbearkey"))
            .args(["-t", "ed25519", "-f"])
            .arg(&key)
            .output()
            .expect("dropbearkey runs");
        assert!(generated.status.success(), "{generated:?}");
        let dropbear = program("/usr/sbin/dropbear");
        let mut command = if passwords {
            self.with_accounts(&dropbear)
        } else {
            Command::new(dropbear)
        };
        command
            .args(["-F", "-E", "-p", &format!("{}:{port}", self.address), "-r"])
            .arg(&key);
        if !passwords {
            command.args(["-s", "-g"]);
        }
        self.start(port, &mut command, None);
        self
    }

    /// OpenSSH's sshd on `port`, letting users in as `logins` says: with passwords or
    /// through PAM, against the device's accounts ([`Device::with_accounts`]; root may
    /// not log in with a password, OpenSSH's default).
    pub fn sshd(&mut self, port: u16, logins: SshLogins) -> &mut Device {
        let key = self.path(&format!("ssh_host_ed25519_key_{port}"));
        let generated = Command::new(program("/usr/bin/ssh-keygen"))
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key)
            .output()
            .expect("ssh-keygen runs");
        assert!(generated.status.success(), "{generated:?}");
        std::fs::create_dir_all("/run/sshd").expect("sshd's privilege separation directory");
        let sshd = program("/usr/sbin/sshd");
        let mut command = match logins {
            SshLogins::KeysOnly => Command::new(sshd),
            SshLogins::Passwords | SshLogins::Pam => self.with_accounts(&sshd),
        };
        command
            .args(["-D", "-e", "-f", "/dev/null", "-h"])
            .arg(&key)
            .args(["-o", &format!("ListenAddress={}:{port}", self.address)])
            .args(["-o", "PidFile=none"]);
        let options: &[&str] = match logins {
            SshLogins::KeysOnly => &[
                "UsePAM=no",
                "PasswordAuthentication=no",
                "KbdInteractiveAuthentication=no",
            ],
            SshLogins::Passwords => &[
                "UsePAM=no",
                "PasswordAuthentication=yes",
                "KexAlgorithms=+diffie-hellman-group1-sha1",
                "Ciphers=+3des-cbc",
                "MACs=+hmac-md5",
            ],
            SshLogins::Pam => &[
                "UsePAM=yes",
                "PasswordAuthentication=no",
                "KbdInteractiveAuthentication=yes",
            ],
        };
        for option in options {
            command.args(["-o", option]);
        }
        self.start(port, &mut command, None);
        self
    }

    /// busybox's telnetd on `port`: with `login`, busybox's login program against the
    /// device's accounts ([`Device::with_accounts`]); without, a shell without login.
    pub fn telnetd(&mut self, port: u16, login: bool) -> &mut Device {
        let busybox = program(
            &root()
                .join("target/bench-tools/bin/busybox")
                .to_string_lossy(),
        );
        let (mut command, shell) = if login {
            // busybox runs the applet its name says.
            let login = self.path("login");
            if !login.exists() {
                std::os::unix::fs::symlink(&busybox, &login).expect("login linked to busybox");
            }
            (self.with_accounts(&busybox), login)
        } else {
            (Command::new(&busybox), PathBuf::from("/bin/sh"))
        };
        command
            .args([
                "telnetd",
                "-F",
                "-p",
                &port.to_string(),
                "-b",
                self.address,
                "-l",
            ])
            .arg(shell);
        self.start(port, &mut command, None);
        self
    }

    /// lighttpd serving a small site on `port`. Weak: its version in the Server header;
    /// over plain HTTP, an administration page behind basic authentication (admin:admin),
    /// a camera page behind digest authentication (root:888888) and a login form (a CGI
    /// that lets root:xmhdipc in, the XiongMai cameras' default); a CGI that prints the
    /// configuration, Wi-Fi passphrase included, to anyone; a status page nothing links
    /// to, at a usual path, that shows the firmware version, serial number and MAC
    /// address; and two levels below the index a help page showing only the model and a
    /// service area behind its own basic authentication realm (root:888888).
    /// Hardened: a neutral server tag and nothing but the index.
    pub fn lighttpd(&mut self, port: u16, weak: bool) -> &mut Device {
        let site = self.path("www");
        std::fs::create_dir_all(site.join("admin")).unwrap();
        std::fs::create_dir_all(site.join("camera")).unwrap();
        std::fs::create_dir_all(site.join("cgi-bin")).unwrap();
        std::fs::create_dir_all(site.join("help")).unwrap();
        std::fs::create_dir_all(site.join("service")).unwrap();
        let mut config = format!(
            "server.document-root = \"{}\"\nserver.bind = \"{}\"\nserver.port = {port}\nserver.errorlog = \"{}\"\nindex-file.names = (\"index.html\")\n",
            site.display(),
            self.address,
            self.path("lighttpd-error.log").display()
        );
        if weak {
            std::fs::write(
                site.join("index.html"),
                "<a href=\"/admin/\">administration</a> <a href=\"/cgi-bin/config.cgi\">configuration</a> \
                 <a href=\"/camera/\">live view</a> <a href=\"/cgi-bin/login.cgi\">log in</a> \
                 <a href=\"/help/index.html\">help</a>\n",
            )
            .unwrap();
            std::fs::write(
                site.join("status.html"),
                "<table><tr><td>Firmware Version</td><td>V5.5.0 build 170829</td></tr>\
                 <tr><td>Serial Number</td><td>C2X9F1A00231</td></tr>\
                 <tr><td>MAC</td><td>00:1A:2B:3C:4D:5E</td></tr></table>\n",
            )
            .unwrap();
            std::fs::write(
                site.join("help/index.html"),
                "<a href=\"/help/about.html\">about</a> <a href=\"/service/\">service</a>\n",
            )
            .unwrap();
            std::fs::write(
                site.join("help/about.html"),
                "<table><tr><td>Model</td><td>C200</td></tr></table>\n",
            )
            .unwrap();
            std::fs::write(site.join("service/index.html"), "diagnostics\n").unwrap();
            std::fs::write(site.join("admin/index.html"), "settings\n").unwrap();
            std::fs::write(site.join("camera/index.html"), "live view\n").unwrap();
            std::fs::write(
                site.join("cgi-bin/login.cgi"),
                r#"message=''
if [ "$REQUEST_METHOD" = POST ]; then
  body=$(head -c "${CONTENT_LENGTH:-0}")
  case "$body" in
    "username=root&password=xmhdipc&"*)
      printf 'Status: 302 Found\r\nLocation: /cgi-bin/login.cgi?welcome\r\nSet-Cookie: session=4f2a; HttpOnly\r\n\r\n'
      exit;;
  esac
  message='<p>Wrong user name or password</p>'
fi
printf 'Content-Type: text/html\r\n\r\n<html><body>%s<form method="post" action="login.cgi"><input type="text" name="username"><input type="password" name="password"><input type="hidden" name="lang" value="en"><input type="submit" value="Log in"></form></body></html>\n' "$message"
"#,
            )
            .unwrap();
            std::fs::write(
                site.join("cgi-bin/config.cgi"),
                "printf 'Content-Type: text/plain\\r\\n\\r\\nssid=AcmeCam-42\\nwifi_password=Acme-Guest-2020\\n'\n",
            )
            .unwrap();
            let users = self.write("lighttpd.users", "admin:admin\nroot:888888\n");
            config.push_str(&format!(
                "server.modules += (\"mod_cgi\", \"mod_auth\", \"mod_authn_file\")\n\
                 cgi.assign = (\".cgi\" => \"/bin/sh\")\n\
                 auth.backend = \"plain\"\nauth.backend.plain.userfile = \"{}\"\n\
                 auth.require = (\"/admin/\" => (\"method\" => \"basic\", \"realm\" => \"camera\", \"require\" => \"user=admin\"), \
                 \"/camera/\" => (\"method\" => \"digest\", \"realm\" => \"live\", \"require\" => \"user=root\"), \
                 \"/service/\" => (\"method\" => \"basic\", \"realm\" => \"service\", \"require\" => \"user=root\"))\n",
                users.display()
            ));
        } else {
            std::fs::write(site.join("index.html"), "<p>camera</p>\n").unwrap();
            config.push_str("server.tag = \"web\"\n");
        }
        let config = self.write("lighttpd.conf", &config);
        let mut command = Command::new(program("/usr/sbin/lighttpd"));
        command.arg("-D").arg("-f").arg(config);
        self.start(port, &mut command, None);
        self
    }

    /// A self-signed certificate and key (EC P-256) readable by daemons that drop root.
    fn certificate(&self, name: &str) -> (PathBuf, PathBuf) {
        self.certificate_with(
            name,
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        )
    }

    /// A self-signed certificate made with `key` (the key and digest options of `openssl
    /// req`), readable by daemons that drop root.
    fn certificate_with(&self, name: &str, key_options: &[&str]) -> (PathBuf, PathBuf) {
        let (certificate, key) = (
            self.path(&format!("{name}.crt")),
            self.path(&format!("{name}.key")),
        );
        let made = Command::new(program("/usr/bin/openssl"))
            .args(["req", "-x509"])
            .args(key_options)
            .args([
                "-nodes",
                "-days",
                "30",
                "-subj",
                "/CN=camera.local",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&certificate)
            .output()
            .expect("openssl runs");
        assert!(made.status.success(), "{made:?}");
        self.readable(&key);
        (certificate, key)
    }

    /// Lets daemons that drop root for their own account read the bench's files.
    fn readable(&self, file: &Path) {
        use std::os::unix::fs::PermissionsExt;
        let directory = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(self.directory.path(), directory).unwrap();
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }

    /// mosquitto on `port`. Weak: anonymous clients on plain TCP. Hardened: TLS only,
    /// clients authenticated by certificate (no password to guess).
    pub fn mosquitto(&mut self, port: u16, weak: bool) -> &mut Device {
        let mut text = format!("listener {port} {}\n", self.address);
        if weak {
            text.push_str("allow_anonymous true\n");
        } else {
            let (certificate, key) = self.certificate("mqtt");
            text.push_str(&format!(
                "allow_anonymous false\ncertfile {}\nkeyfile {}\ncafile {}\nrequire_certificate true\nuse_identity_as_username true\n",
                certificate.display(),
                key.display(),
                certificate.display()
            ));
        }
        let config = self.write("mosquitto.conf", &text);
        let mut command = Command::new(program("/usr/sbin/mosquitto"));
        command.arg("-c").arg(config);
        self.start(port, &mut command, None);
        self
    }

    /// mosquitto on `port` over TLS with passwords, and nothing against guessing them.
    pub fn mosquitto_tls_passwords(&mut self, port: u16) -> &mut Device {
        let (certificate, key) = self.certificate("mqtt-passwords");
        let passwords = self.write("mosquitto.passwd", "");
        self.readable(&passwords);
        let config = self.write(
            "mosquitto-passwords.conf",
            &format!(
                "listener {port} {}\nallow_anonymous false\npassword_file {}\ncertfile {}\nkeyfile {}\n",
                self.address,
                passwords.display(),
                certificate.display(),
                key.display()
            ),
        );
        let mut command = Command::new(program("/usr/sbin/mosquitto"));
        command.arg("-c").arg(config);
        self.start(port, &mut command, None);
        self
    }

    /// nginx on `port` with TLS 1.2 and 1.3 only, no version in its headers, and an
    /// administration page behind HTTP basic authentication whose failed logins are
    /// rate-limited (2 a second, a burst of 2, then 503). One process, so that stopping
    /// the bench stops all of it.
    pub fn nginx(&mut self, port: u16) -> &mut Device {
        let (certificate, key) = self.certificate("web");
        let site = self.path("nginx-www");
        std::fs::create_dir_all(site.join("admin")).unwrap();
        std::fs::create_dir_all(site.join("camera")).unwrap();
        std::fs::write(
            site.join("index.html"),
            "<a href=\"/admin/\">administration</a>\n",
        )
        .unwrap();
        std::fs::write(site.join("admin/index.html"), "settings\n").unwrap();
        let hashed = Command::new(program("/usr/bin/openssl"))
            .args(["passwd", "-apr1", "Xq7-long-factory-unique-9Lm"])
            .output()
            .expect("openssl runs");
        let users = self.write(
            "nginx.users",
            &format!("admin:{}", String::from_utf8_lossy(&hashed.stdout)),
        );
        self.readable(&users);
        for file in [site.join("index.html"), site.join("admin/index.html")] {
            self.readable(&file);
        }
        let prefix = self.directory.path().to_path_buf();
        let config = self.write(
            "nginx.conf",
            &format!(
                "master_process off;\nworker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/nginx-error.log;\nevents {{ worker_connections 64; }}\nhttp {{\n  access_log off;\n  server_tokens off;\n  client_body_temp_path {prefix}/body;\n  proxy_temp_path {prefix}/proxy;\n  fastcgi_temp_path {prefix}/fastcgi;\n  uwsgi_temp_path {prefix}/uwsgi;\n  scgi_temp_path {prefix}/scgi;\n  limit_req_zone $binary_remote_addr zone=login:1m rate=2r/s;\n  server {{\n    listen {address}:{port} ssl;\n    ssl_certificate {certificate};\n    ssl_certificate_key {key};\n    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20;\n    root {site};\n    location /admin/ {{\n      limit_req zone=login burst=2 nodelay;\n      auth_basic \"camera\";\n      auth_basic_user_file {users};\n    }}\n  }}\n}}\n",
                prefix = prefix.display(),
                address = self.address,
                certificate = certificate.display(),
                key = key.display(),
                site = site.display(),
                users = users.display(),
            ),
        );
        let mut command = Command::new(program("/usr/sbin/nginx"));
        command
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(config)
            .args(["-g", "daemon off;"]);
        self.start(port, &mut command, None);
        self
    }

    /// `openssl s_server` on `port` accepting TLS 1.0 and every suite OpenSSL still has
    /// (security level 0), with a 1024-bit RSA certificate signed with SHA-1.
    pub fn legacy_tls(&mut self, port: u16) -> &mut Device {
        let (certificate, key) = self.certificate_with("legacy", &["-newkey", "rsa:1024", "-sha1"]);
        let mut command = Command::new(program("/usr/bin/openssl"));
        command
            .args([
                "s_server",
                "-quiet",
                "-accept",
                &format!("{}:{port}", self.address),
            ])
            .arg("-cert")
            .arg(&certificate)
            .arg("-key")
            .arg(&key)
            .args(["-cipher", "ALL:@SECLEVEL=0"]);
        self.start(port, &mut command, None);
        self
    }

    /// libcoap's example server on `port` (UDP), with no security: its resources are
    /// listed and served to anyone.
    pub fn coap_server(&mut self, port: u16) -> &mut Device {
        let log = self.path(&format!("{port}-udp.log"));
        let output = std::fs::File::create(&log).expect("log created");
        let child = Command::new(program("/usr/bin/coap-server-notls"))
            .args(["-A", self.address, "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("log shared"))
            .stderr(output)
            .spawn()
            .expect("coap-server starts");
        self.children.push(child);
        // Ready when it answers a GET of /.well-known/core.
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let request = provisor_net::udp::coap_well_known_core();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut buffer = [0u8; 2048];
        loop {
            let _ = socket.send_to(&request, (self.address, port));
            if socket.recv_from(&mut buffer).is_ok() {
                return self;
            }
            assert!(
                Instant::now() < deadline,
                "coap-server did not answer on {}:{port}",
                self.address
            );
        }
    }

    /// vsftpd on `port` letting `anonymous` in (read only) and the device's accounts
    /// ([`Device::with_accounts`], through PAM, whose /etc/ftpusers keeps root out), with
    /// its default banner.
    pub fn vsftpd(&mut self, port: u16) -> &mut Device {
        let root = self.path("ftp");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("firmware.bin"), "not really\n").unwrap();
        std::fs::create_dir_all("/var/run/vsftpd/empty").expect("vsftpd's chroot directory");
        let config = self.write(
            "vsftpd.conf",
            &format!(
                "listen=YES\nlisten_address={}\nlisten_port={port}\nbackground=NO\nanonymous_enable=YES\nanon_root={}\nno_anon_password=YES\nlocal_enable=YES\nwrite_enable=NO\nseccomp_sandbox=NO\nsecure_chroot_dir=/var/run/vsftpd/empty\n",
                self.address,
                root.display()
            ),
        );
        let mut command = self.with_accounts(&program("/usr/sbin/vsftpd"));
        command.arg(config);
        self.start(port, &mut command, None);
        self
    }

    /// One of the bench's Python servers (`tests/it/SCRIPT`) for this device's address and
    /// `port`, run by Debian's Python (where the Debian packages it uses are).
    fn python(&self, script: &str, port: u16) -> Command {
        let mut command = Command::new(program("/usr/bin/python3"));
        command
            .arg(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/it")
                    .join(script),
            )
            .args([self.address, &port.to_string()]);
        command
    }

    /// GStreamer's RTSP server on `port` (`rtsp-server.py`): an audio stream at /live,
    /// behind digest authentication with `login`, open to anyone without.
    pub fn rtsp(&mut self, port: u16, login: Option<(&str, &str)>) -> &mut Device {
        let mut command = self.python("rtsp-server.py", port);
        if let Some((user, password)) = login {
            command.args([user, password]);
        }
        self.start(port, &mut command, Some("listening"));
        self
    }

    /// Net-SNMP's agent on `port`/udp, answering the community "public" with its
    /// defaults (a sysDescr that names the kernel and its version).
    pub fn snmpd(&mut self, port: u16) -> &mut Device {
        let config = self.write("snmpd.conf", "rocommunity public 127.0.0.0/8\n");
        let mut command = Command::new(program("/usr/sbin/snmpd"));
        command
            .args(["-f", "-Lo", "-C", "-c"])
            .arg(config)
            .arg(format!("udp:{}:{port}", self.address))
            .env("SNMP_PERSISTENT_DIR", self.path("snmp"))
            .env("MIBS", "");
        self.start(port, &mut command, Some("NET-SNMP version"));
        self
    }

    /// miniupnpd, a UPnP Internet gateway, in the device's namespace: SSDP on 1900/udp
    /// and its description and control URLs over HTTP on `port`, with a serial number
    /// in the description and port mapping open to anyone on the network (its default).
    pub fn miniupnpd(&mut self, port: u16) -> &mut Device {
        let interface = self
            .namespace
            .as_ref()
            .expect("miniupnpd needs a device in a namespace")
            .interface;
        let config = self.write(
            "miniupnpd.conf",
            &format!(
                "ext_ifname={interface}\nlistening_ip={interface}\nport={port}\nenable_natpmp=no\nenable_upnp=yes\nsecure_mode=no\nfriendly_name=Acme router\nmanufacturer_name=Acme\nmodel_name=AcmeGate\nmodel_number=4.1.7\nserial=AG5509\nuuid=3e1f2a64-4c1b-4d2f-9a51-0c6b1e8e0001\nallow 1024-65535 198.18.0.0/15 1024-65535\ndeny 0-65535 0.0.0.0/0 0-65535\n"
            ),
        );
        let mut command = Command::new(program("/usr/sbin/miniupnpd"));
        command
            .args(["-d", "-f"])
            .arg(config)
            .arg("-P")
            .arg(self.path("miniupnpd.pid"));
        self.start(port, &mut command, None);
        self
    }

    /// avahi-daemon in the device's namespace, announcing a web interface by mDNS with
    /// `txt` as its TXT records (with a mount namespace of its own, for the services
    /// directory and run directory avahi insists on).
    pub fn avahi(&mut self, txt: &[&str]) -> &mut Device {
        let interface = self
            .namespace
            .as_ref()
            .expect("avahi needs a device in a namespace")
            .interface;
        let services = self.path("avahi-services");
        let run = self.path("avahi-run");
        std::fs::create_dir_all(&services).unwrap();
        std::fs::create_dir_all(&run).unwrap();
        let records: String = txt
            .iter()
            .map(|record| format!("<txt-record>{record}</txt-record>"))
            .collect();
        std::fs::write(
            services.join("camera.service"),
            format!(
                "<?xml version=\"1.0\" standalone='no'?>\n<service-group><name>AcmeCam</name><service><type>_http._tcp</type><port>80</port>{records}</service></service-group>\n"
            ),
        )
        .unwrap();
        let config = self.write(
            "avahi.conf",
            &format!(
                "[server]\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces={interface}\nenable-dbus=no\n[publish]\npublish-hinfo=no\npublish-workstation=no\n"
            ),
        );
        let mut command = Command::new(program("/usr/bin/unshare"));
        command
            .args(["-m", "--propagation", "private", "sh", "-c"])
            .arg("mount --bind \"$1\" /etc/avahi/services && mount --bind \"$2\" /run && exec \"$4\" --no-chroot --no-drop-root --no-rlimits --no-proc-title -f \"$3\"")
            .arg("sh")
            .arg(&services)
            .arg(&run)
            .arg(config)
            .arg(program("/usr/sbin/avahi-daemon"));
        self.start(5353, &mut command, Some("Server startup complete"));
        self
    }

    /// pymodbus's Modbus TCP server on `port` (`modbus-server.py`): holding registers
    /// anyone can read and write.
    pub fn modbus(&mut self, port: u16) -> &mut Device {
        let mut command = self.python("modbus-server.py", port);
        self.start(port, &mut command, None);
        self
    }

    /// gdbserver in multi-process mode on `port` (it serves one connection).
    pub fn gdbserver(&mut self, port: u16) -> &mut Device {
        let mut command = Command::new(program("/usr/bin/gdbserver"));
        command.args(["--multi", &format!("{}:{port}", self.address)]);
        self.start(port, &mut command, Some("Listening on port"));
        self
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        // The namespace goes after its daemons (the field order would drop it after
        // this anyway; said here for the reader).
        self.namespace.take();
    }
}
