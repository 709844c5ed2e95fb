//! `firmware.web-server-config`: web servers running as root (lighttpd and nginx by
//! their configuration, busybox httpd, GoAhead and uhttpd by how they are started) or
//! offering legacy TLS.

use provisor_engine::{Outcome, Severity};

use super::config::{directives, legacy_protocols, weak_ciphers};
use crate::checks::{Check, CheckMeta, Context, active_lines};
use provisor_engine::FindingSink;

/// Reads lighttpd's configuration (`/etc/lighttpd/lighttpd.conf` and the `conf-enabled`
/// files) and nginx's (`/etc/nginx/nginx.conf`, `conf.d`, `sites-enabled`). Without
/// `server.username` lighttpd keeps running as root, and nginx's `user root;` runs its
/// workers as root, so any flaw in the server or its CGI scripts is a root compromise
/// (5.6-7). Servers that have no such setting serve as the account that starts them:
/// busybox `httpd` started at boot (inittab, init scripts, procd, systemd, inetd) as
/// root without `-u user`, and GoAhead and uhttpd, are flagged the same way, unless the
/// boot configuration runs them as another account (a unit's `User=`, procd's `user`,
/// inetd's user field, `start-stop-daemon -c`, `su`, `setpriv`, `chpst -u` and the like). With TLS enabled, a minimum protocol below TLS 1.2 (lighttpd's `MinProtocol`
/// or `ssl.use-sslv3`, nginx's `ssl_protocols`) or a cipher list enabling broken suites
/// (RC4, DES and 3DES, NULL, export, anonymous, MD5; lighttpd's `ssl.cipher-list`,
/// nginx's `ssl_ciphers`) offers connections with known attacks (5.5-1). Commented-out
/// lines are not read.
pub struct WebServerConfig;

static META: CheckMeta = CheckMeta {
    id: "firmware.web-server-config",
    title: "web servers running as root or offering legacy TLS",
    provisions: &["5.6-7", "5.5-1"],
};

const LEGACY: &[&str] = &["SSLv3", "TLSv1", "TLSv1.0", "TLSv1.1"];

impl Check for WebServerConfig {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        nginx(context, sink);
        lighttpd(context, sink);
        started_as_root(context, sink);
    }
}

/// Commands that run what follows as another account.
const PRIVILEGE_DROPS: &[&str] = &[
    "su",
    "runuser",
    "setpriv",
    "chpst",
    "setuidgid",
    "s6-setuidgid",
];

/// Web servers that have no user setting of their own, started at boot as root.
fn started_as_root(context: &Context<'_>, sink: &mut FindingSink) {
    let vfs = context.vfs;
    // A bare or absolute `httpd` is busybox's when it resolves to busybox.
    let is_busybox = |word: &str| {
        let candidates: Vec<String> = if word.starts_with('/') {
            vec![word.to_owned()]
        } else {
            ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
                .iter()
                .map(|directory| format!("{directory}/{word}"))
                .collect()
        };
        candidates.iter().any(|path| {
            vfs.resolve(path)
                .is_some_and(|node| node.path.rsplit('/').next() == Some("busybox"))
        })
    };
    for started in super::boot::Boot::read(context).commands {
        if started
            .user
            .as_deref()
            .is_some_and(|user| user != "root" && user != "0")
        {
            continue;
        }
        let words: Vec<&str> = started
            .command
            .split(|c: char| {
                c.is_whitespace() || matches!(c, ':' | ';' | '&' | '|' | '"' | '\'' | '=')
            })
            .filter(|word| !word.is_empty())
            .collect();
        let basename = |word: &str| word.rsplit('/').next().unwrap_or("").to_owned();
        // systemd's prefixes (-, @, +, !) may precede the program.
        let program = |word: &str| word.trim_start_matches(['-', '@', '+', '!']).to_owned();
        let server = words.iter().enumerate().find_map(|(index, word)| {
            let name = basename(&program(word));
            match name.as_str() {
                "goahead" | "uhttpd" => Some((index, name)),
                "httpd"
                    if (index > 0 && basename(words[index - 1]) == "busybox")
                        || is_busybox(&program(word)) =>
                {
                    Some((index, "busybox httpd".to_owned()))
                }
                _ => None,
            }
        });
        let Some((at, server)) = server else {
            continue;
        };
        let names: Vec<String> = words.iter().map(|word| basename(word)).collect();
        let wrapped = names[..at]
            .iter()
            .any(|name| PRIVILEGE_DROPS.contains(&name.as_str()));
        let chuid = names.iter().any(|name| name == "start-stop-daemon")
            && words[..at]
                .iter()
                .any(|word| *word == "-c" || *word == "--chuid");
        let own_option = server == "busybox httpd" && words[at..].contains(&"-u");
        let dropped = wrapped || chuid || own_option;
        if dropped {
            continue;
        }
        let advice = if server == "busybox httpd" {
            "start it with `-u` and an unprivileged account (httpd -u www-data …), or run it from a unit with User="
        } else {
            "run it as an unprivileged account (a unit's User=, procd's `procd_set_param user`, start-stop-daemon -c)"
        };
        sink.add(
            META.id,
            &["5.6-7"],
            Outcome::Fail,
            Severity::Medium,
            format!("{server} is started as root at boot"),
        )
        .detail(format!(
            "`{}` runs the web server, and every CGI script it serves, as root; {advice}",
            started.command
        ))
        .at(&started.path, Some(started.line), &started.container)
        .record();
    }
}

/// nginx's configuration files: the main file and what it usually includes.
fn nginx(context: &Context<'_>, sink: &mut FindingSink) {
    let vfs = context.vfs;
    let mut paths = vec!["/etc/nginx/nginx.conf".to_owned()];
    for directory in ["/etc/nginx/conf.d", "/etc/nginx/sites-enabled"] {
        paths.extend(vfs.under(directory).map(|node| node.path.clone()));
    }
    for path in paths {
        let Ok(text) = vfs.read_text(&path, context.limits.max_file_read) else {
            continue;
        };
        let container = vfs.container_of(&path);
        for (key, value, line) in directives(&text) {
            let value = value.trim_end_matches(';').trim();
            let problem = match key.as_str() {
                "user" if value.split_whitespace().next() == Some("root") => Some((
                    &["5.6-7"][..],
                    Severity::Medium,
                    "nginx runs its workers as root (user root)".to_owned(),
                    "set `user` to an unprivileged account (www-data)",
                )),
                "ssl_protocols" => {
                    let legacy = legacy_protocols(value);
                    (!legacy.is_empty()).then(|| {
                        (
                            &["5.5-1"][..],
                            Severity::High,
                            format!("nginx accepts {}", legacy.join(" and ")),
                            "ssl_protocols TLSv1.2 TLSv1.3;",
                        )
                    })
                }
                "ssl_ciphers" => {
                    let weak = weak_ciphers(value);
                    (!weak.is_empty()).then(|| {
                        (
                            &["5.5-1"][..],
                            Severity::High,
                            format!("nginx enables weak cipher suites ({})", weak.join(", ")),
                            "list only AEAD suites with forward secrecy, or leave ssl_ciphers at nginx's default",
                        )
                    })
                }
                _ => None,
            };
            if let Some((provisions, severity, title, detail)) = problem {
                sink.add(META.id, provisions, Outcome::Fail, severity, title)
                    .detail(detail)
                    .at(&path, Some(line), &container)
                    .record();
            }
        }
    }
}

/// lighttpd's main file and the enabled configuration snippets.
fn lighttpd(context: &Context<'_>, sink: &mut FindingSink) {
    let vfs = context.vfs;
    let main = "/etc/lighttpd/lighttpd.conf";
    let Ok(text) = vfs.read_text(main, context.limits.max_file_read) else {
        return;
    };
    let mut files = vec![(main.to_owned(), text)];
    for node in vfs.under("/etc/lighttpd/conf-enabled") {
        if let Ok(text) = vfs.read_text(&node.path, context.limits.max_file_read) {
            files.push((node.path.clone(), text));
        }
    }
    let mut username = false;
    for (path, text) in &files {
        let container = vfs.container_of(path);
        for (line, content) in active_lines(text) {
            username |= content.starts_with("server.username");
            let legacy = LEGACY.iter().find(|version| {
                content.contains("MinProtocol") && content.contains(&format!("\"{version}\""))
            });
            let sslv3 = content.starts_with("ssl.use-sslv3") && content.contains("enable");
            if content.starts_with("ssl.cipher-list") {
                let weak = weak_ciphers(content.split_once('=').map_or("", |(_, v)| v));
                if !weak.is_empty() {
                    sink.add(
                        META.id,
                        &["5.5-1"],
                        Outcome::Fail,
                        Severity::High,
                        format!("lighttpd enables weak cipher suites ({})", weak.join(", ")),
                    )
                    .detail("list only AEAD suites with forward secrecy")
                    .at(path, Some(line), &container)
                    .record();
                }
            }
            if legacy.is_some() || sslv3 {
                let version = legacy.copied().unwrap_or("SSLv3");
                sink.add(
                        META.id,
                        META.provisions,
                        Outcome::Fail,
                        Severity::High,
                        format!("lighttpd accepts {version}"),
                    )
                    .detail("require TLS 1.2 or later: ssl.openssl.ssl-conf-cmd = (\"MinProtocol\" => \"TLSv1.2\")")
                    .at(path, Some(line), &container)
                    .record();
            }
        }
    }
    if !username {
        let container = vfs.container_of(main);
        sink.add(
            META.id,
            META.provisions,
            Outcome::Fail,
            Severity::Medium,
            "lighttpd runs as root (no server.username)",
        )
        .detail("set server.username and server.groupname to an unprivileged account")
        .at(main, None, &container)
        .record();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::with_context;

    fn titles(entries: &[(&str, &str)]) -> Vec<(String, Option<u64>)> {
        with_context(entries, |context| {
            let mut sink = FindingSink::new();
            started_as_root(context, &mut sink);
            sink.findings()
                .iter()
                .map(|finding| (finding.title.clone(), finding.location.line))
                .collect()
        })
    }

    #[test]
    fn web_servers_without_a_user_setting_are_flagged_when_started_as_root() {
        let found = titles(&[
            ("/bin/busybox", "\x7fELF"),
            ("/usr/sbin/httpd", "->/bin/busybox"),
            (
                "/etc/inittab",
                "::sysinit:/etc/init.d/rcS\n::respawn:/usr/sbin/httpd -f -p 80 -c /etc/httpd.conf\n",
            ),
            (
                "/etc/init.d/S80goahead",
                "#!/bin/sh\n# goahead -v &\n/usr/bin/goahead --home /etc/goahead &\n",
            ),
        ]);
        assert_eq!(
            found,
            vec![
                (
                    "busybox httpd is started as root at boot".to_owned(),
                    Some(2)
                ),
                ("goahead is started as root at boot".to_owned(), Some(3)),
            ]
        );
    }

    #[test]
    fn servers_run_as_another_account_are_not_flagged() {
        let found = titles(&[
            ("/bin/busybox", "\x7fELF"),
            ("/usr/sbin/httpd", "->/bin/busybox"),
            (
                "/etc/init.d/S50httpd",
                "#!/bin/sh\nhttpd -u www-data -p 80\nstart-stop-daemon -S -c www-data -x /bin/busybox -- httpd -p 81\nsu -s /bin/sh www -c 'busybox httpd -p 82'\n",
            ),
            (
                "/lib/systemd/system/web.service",
                "[Service]\nExecStart=/bin/busybox httpd -f -p 8080\nUser=www-data\n",
            ),
            (
                "/etc/systemd/system/multi-user.target.wants/web.service",
                "->/lib/systemd/system/web.service",
            ),
            // Apache's httpd reads its own User directive: not busybox's.
            ("/usr/local/apache/bin/httpd", "\x7fELF"),
            (
                "/etc/init.d/S90apache",
                "/usr/local/apache/bin/httpd -k start\n",
            ),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }
}
