//! `firmware.boot-backdoor`: programs started at boot that hand a network connection to
//! a shell.

use std::sync::OnceLock;

use provisor_engine::{Outcome, Severity};
use serde::Deserialize;

use super::boot::{Boot, BootCommand};
use crate::checks::binaries::elf::ElfView;
use crate::checks::{Check, CheckMeta, Context};
use provisor_engine::FindingSink;

/// Reads what every init system starts at boot (see `firmware.plaintext-login-service`
/// for those read; cron's `@reboot` entries too) for a shell offered on the network
/// without authentication: netcat listening with `-e`/`-c` a shell, or piped into one
/// through a named pipe; socat joining a listening address to `EXEC:` or `SYSTEM:` a
/// shell; a telnet daemon whose login program (`-l`) is a shell; a super-server
/// (tcpsvd, inetd) whose program is a shell; and programs that import socket, listen
/// and accept, duplicate a descriptor onto their standard streams (dup2) and execute a
/// shell, without any authentication (no crypt, shadow or PAM imports, no
/// `/bin/login`). Each is an interface nobody needs (5.6-1) that gives root without
/// authentication over the network (5.5-5). The finding names the program, what starts
/// it (file and line) and how it was recognised; a bind-shell program that nothing
/// starts is noted. Programs are judged as the shared pass reads them, so each is read
/// once. The tools, flags and imports are data
/// in `data/backdoors.toml`, with examples and negative examples.
pub struct BootBackdoor;

static META: CheckMeta = CheckMeta {
    id: "firmware.boot-backdoor",
    title: "shells offered on the network at boot",
    provisions: &["5.6-1", "5.5-5"],
};

/// `data/backdoors.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rules {
    shells: Vec<String>,
    netcats: Vec<String>,
    listen_flags: Vec<String>,
    exec_flags: Vec<String>,
    socats: Vec<String>,
    socat_listen: Vec<String>,
    socat_exec: Vec<String>,
    telnetds: Vec<String>,
    super_servers: Vec<String>,
    super_server_valued: Vec<String>,
    auth_imports: Vec<String>,
    shell_paths: Vec<String>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    examples: Vec<String>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    negative_examples: Vec<String>,
}

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        toml::from_str(include_str!("../../../data/backdoors.toml"))
            .expect("data/backdoors.toml is valid (tested)")
    })
}

fn base(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

fn contains(list: &[String], word: &str) -> bool {
    list.iter().any(|known| known == word)
}

/// Whether a command word (or the first word of a quoted command) is a shell.
fn is_shell(command: &str) -> bool {
    let first = command
        .trim_matches(|c| c == '\'' || c == '"')
        .split_whitespace()
        .next()
        .unwrap_or("");
    contains(&rules().shells, base(first))
}

/// Splits a command into words, keeping quoted parts together (without their quotes).
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    for c in command.chars() {
        match (quote, c) {
            (Some(open), c) if c == open => quote = None,
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => quote = Some(c),
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            (None, c) => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// The command a boot line runs: an inittab entry's process, a unit's `Exec…=` value,
/// procd's `command` parameter, or the line itself.
fn command_of(line: &str) -> &str {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("procd_set_param command") {
        return rest;
    }
    if let Some((key, value)) = line.split_once('=')
        && key.starts_with("Exec")
    {
        return value.trim_start_matches(['-', '@', '+', '!', ':']);
    }
    let fields: Vec<&str> = line.splitn(4, ':').collect();
    if fields.len() == 4
        && fields[..3]
            .iter()
            .all(|field| field.chars().all(|c| c.is_ascii_alphanumeric()))
        && !fields[2].is_empty()
    {
        return fields[3];
    }
    line
}

/// Drops what only starts the real program: `exec`, `nohup`, variable assignments,
/// `busybox`, `env`, `setsid`, `chroot DIR`, `nice -n N`, and start-stop-daemon (its
/// program, then what follows `--`).
fn unwrapped(mut words: &[String]) -> Vec<String> {
    loop {
        let Some(first) = words.first() else {
            return Vec::new();
        };
        words = match base(first) {
            "exec" | "nohup" | "setsid" | "busybox" | "env" | "sudo" | "command" => &words[1..],
            "chroot" | "timeout" => words.get(2..).unwrap_or(&[]),
            "nice" | "ionice" | "taskset" => {
                let skip = words[1..]
                    .iter()
                    .take_while(|word| word.starts_with('-') || word.parse::<i64>().is_ok())
                    .count();
                &words[1 + skip..]
            }
            "start-stop-daemon" => {
                let program = words
                    .iter()
                    .position(|word| matches!(word.as_str(), "-x" | "--exec" | "-a" | "--startas"));
                let Some(program) = program.and_then(|at| words.get(at + 1)) else {
                    return Vec::new();
                };
                let arguments = words
                    .iter()
                    .position(|word| word == "--")
                    .map_or(&[][..], |at| &words[at + 1..]);
                return std::iter::once(program).chain(arguments).cloned().collect();
            }
            _ if first.contains('=') && !first.starts_with('-') => &words[1..],
            _ => return words.to_vec(),
        };
    }
}

/// Whether a word is a listening flag (`-l`, `-lp`, `-nlvp`, `--listen`).
fn listens(word: &str) -> bool {
    contains(&rules().listen_flags, word)
        || (word.starts_with('-')
            && !word.starts_with("--")
            && word.len() > 1
            && word[1..].chars().all(|c| c.is_ascii_alphabetic())
            && word.contains('l'))
}

/// How a command offers a shell on the network, if it does.
fn offers_shell(command: &str, inetd: bool) -> Option<String> {
    let rules = rules();
    if inetd {
        // service socket-type protocol wait user server arguments
        let fields: Vec<&str> = command.split_whitespace().collect();
        return fields
            .get(5)
            .filter(|server| is_shell(server))
            .map(|server| format!("inetd runs {server} for each connection"));
    }
    let cleaned = command.replace("2>&1", " ").replace(">&2", " ");
    for segment in cleaned.split([';', '&']) {
        let pipeline: Vec<Vec<String>> = segment
            .split('|')
            .map(|part| unwrapped(&words(part)))
            .filter(|part| !part.is_empty())
            .collect();
        for part in &pipeline {
            let program = base(&part[0]);
            let arguments = &part[1..];
            let after = |flags: &[String]| {
                arguments
                    .windows(2)
                    .find(|pair| contains(flags, &pair[0]) && is_shell(&pair[1]))
                    .map(|pair| pair[1].clone())
            };
            if contains(&rules.netcats, program) && arguments.iter().any(|word| listens(word)) {
                if let Some(shell) = after(&rules.exec_flags) {
                    return Some(format!(
                        "{program} listens and runs {shell} for each connection"
                    ));
                }
                if let Some(shell) = pipeline
                    .iter()
                    .map(|other| base(&other[0]).to_owned())
                    .find(|other| contains(&rules.shells, other))
                {
                    return Some(format!(
                        "{program} listens and pipes each connection through {shell}"
                    ));
                }
            }
            if contains(&rules.socats, program) {
                let upper: Vec<String> = arguments.iter().map(|w| w.to_ascii_uppercase()).collect();
                let listening = upper.iter().any(|word| {
                    rules
                        .socat_listen
                        .iter()
                        .any(|prefix| word.starts_with(&format!("{prefix}:")))
                });
                let shell = arguments.iter().find_map(|word| {
                    let (kind, rest) = word.split_once(':')?;
                    let program = rest.split(',').next().unwrap_or(rest);
                    (contains(&rules.socat_exec, &kind.to_ascii_uppercase()) && is_shell(program))
                        .then(|| program.split(' ').next().unwrap_or(program).to_owned())
                });
                if let (true, Some(shell)) = (listening, shell) {
                    return Some(format!(
                        "socat listens and runs {shell} for each connection"
                    ));
                }
            }
            if contains(&rules.telnetds, program)
                && let Some(shell) = after(&["-l".to_owned()])
            {
                return Some(format!(
                    "{program} logs each connection in to {shell} without a password"
                ));
            }
            if contains(&rules.super_servers, program) {
                let mut positional = Vec::new();
                let mut skip = false;
                for word in arguments {
                    if skip {
                        skip = false;
                    } else if word.starts_with('-') {
                        skip = contains(&rules.super_server_valued, word);
                    } else {
                        positional.push(word);
                    }
                }
                if let Some(shell) = positional.get(2).filter(|prog| is_shell(prog)) {
                    return Some(format!("{program} runs {shell} for each connection"));
                }
            }
        }
    }
    None
}

/// The directories a bare program name is looked up in.
const PATH: &[&str] = &[
    "/bin",
    "/sbin",
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
];

/// Whether an ELF program is a bind shell: it listens, accepts, puts a descriptor on its
/// standard streams and executes a shell, and nothing in it authenticates.
fn bind_shell(bytes: &[u8]) -> bool {
    let rules = rules();
    let Some(view) = ElfView::parse(bytes) else {
        return false;
    };
    let imports = view.imports();
    let has = |names: &[&str]| names.iter().any(|name| imports.contains(name));
    let network = has(&["socket"]) && has(&["listen"]) && has(&["accept", "accept4"]);
    let redirects = has(&["dup2", "dup3"]);
    let executes = has(&[
        "execl",
        "execlp",
        "execle",
        "execv",
        "execve",
        "execvp",
        "execvpe",
        "posix_spawn",
    ]);
    let authenticates = rules
        .auth_imports
        .iter()
        .any(|name| imports.contains(name.as_str()));
    if !(network && redirects && executes) || authenticates {
        return false;
    }
    let strings = view.strings();
    let login = strings.iter().any(|found| found.text == "/bin/login");
    let shell = strings
        .windows(2)
        .any(|pair| contains(&rules.shell_paths, &pair[0].text) && pair[1].text != "-c")
        || strings
            .last()
            .is_some_and(|last| contains(&rules.shell_paths, &last.text));
    shell && !login
}

impl Check for BootBackdoor {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        for boot in Boot::read(context).commands {
            let inetd = boot.path == "/etc/inetd.conf";
            let command = command_of(&boot.command);
            if let Some(how) = offers_shell(command, inetd) {
                let program = unwrapped(&words(command))
                    .first()
                    .map_or_else(|| command.to_owned(), |word| base(word).to_owned());
                backdoor(sink, &boot, &program, &how);
            }
        }
    }

    fn inspects_files(&self) -> bool {
        true
    }

    /// Programs that are bind shells are noted as the shared pass reads them; what
    /// starts them is looked for once every file is read.
    fn inspect(&self, node: &crate::vfs::Node, bytes: &[u8], sink: &mut FindingSink) {
        if bind_shell(bytes) {
            sink.add(
                META.id,
                META.provisions,
                Outcome::Info,
                Severity::Info,
                format!("{} hands network connections to a shell", node.path),
            )
            .detail(BIND_SHELL)
            .at(&node.path, None, &node.container)
            .record();
        }
    }

    fn conclude(&self, context: &Context<'_>, _inspected: usize, sink: &mut FindingSink) {
        let programs: Vec<String> = sink
            .findings()
            .iter()
            .filter(|finding| finding.check == META.id && finding.outcome == Outcome::Info)
            .filter_map(|finding| finding.location.path.clone())
            .collect();
        if programs.is_empty() {
            return;
        }
        let mut started_ones = Vec::new();
        for boot in Boot::read(context).commands {
            if let Some(program) = started_program(context, command_of(&boot.command), &programs) {
                backdoor(sink, &boot, &program, BIND_SHELL);
                started_ones.push(program);
            }
        }
        // A started bind shell fails; the note that it is one would say it twice.
        sink.take_where(|finding| {
            finding.check == META.id
                && finding.outcome == Outcome::Info
                && finding
                    .location
                    .path
                    .as_ref()
                    .is_some_and(|path| started_ones.contains(path))
        });
    }
}

/// What a bind-shell program does, in words.
const BIND_SHELL: &str = "it listens on a socket, puts the connection on its standard streams and executes a shell, with no authentication in it";

/// Records a shell offered on the network by what `boot` starts, and what it shows:
/// a network interface nobody needs exists (V3.1.3's feature p).
fn backdoor(sink: &mut FindingSink, boot: &BootCommand, program: &str, how: &str) {
    sink.infer_in(
        provisor_catalog::EN303645_V3_1_3,
        "p",
        true,
        format!(
            "{program} started at boot offers a shell on the network ({}:{})",
            boot.path, boot.line
        ),
    );
    sink.add(
        META.id,
        META.provisions,
        Outcome::Fail,
        Severity::Critical,
        format!("{program} started at boot offers a shell on the network"),
    )
    .detail(format!(
        "{how}: `{}` in {} gives anyone who connects a root shell without authentication; remove it",
        boot.command, boot.path
    ))
    .at(&boot.path, Some(boot.line), &boot.container)
    .evidence(serde_json::json!({
        "program": program,
        "started_by": boot.path,
        "command": boot.command,
    }))
    .record();
}

/// The bind-shell program (one of `programs`) a boot command starts, if any.
fn started_program(context: &Context<'_>, command: &str, programs: &[String]) -> Option<String> {
    let vfs = context.vfs;
    for segment in command.split([';', '&', '|']) {
        let words = unwrapped(&words(segment));
        let Some(first) = words.first() else {
            continue;
        };
        let candidates: Vec<String> = if first.starts_with('/') {
            vec![first.clone()]
        } else {
            PATH.iter().map(|dir| format!("{dir}/{first}")).collect()
        };
        for candidate in candidates {
            if let Some(node) = vfs.resolve(&candidate)
                && programs.contains(&node.path)
            {
                return Some(candidate);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_offer_a_shell_and_negatives_do_not() {
        for example in &rules().examples {
            assert!(
                offers_shell(command_of(example), false).is_some(),
                "{example}"
            );
        }
        for negative in &rules().negative_examples {
            assert_eq!(
                offers_shell(command_of(negative), false),
                None,
                "{negative}"
            );
        }
    }

    #[test]
    fn inetd_running_a_shell_is_one() {
        let line = "2323 stream tcp nowait root /bin/sh sh -i";
        assert!(offers_shell(line, true).is_some());
        let telnet = "telnet stream tcp nowait root /usr/sbin/telnetd telnetd";
        assert_eq!(offers_shell(telnet, true), None);
    }

    #[test]
    fn reboot_jobs_of_cron_are_started() {
        crate::checks::with_context(
            &[
                (
                    "/etc/crontab",
                    "@reboot root /usr/bin/nc -l -p 4444 -e /bin/sh\n0 * * * * root true\n",
                ),
                (
                    "/etc/crontabs/root",
                    "# @reboot nc -l -e sh\n@reboot telnetd -l /bin/sh -p 2323\n",
                ),
            ],
            |context| {
                let jobs: Vec<BootCommand> = Boot::read(context)
                    .commands
                    .into_iter()
                    .filter(|job| job.path.contains("cron"))
                    .collect();
                assert_eq!(jobs.len(), 2, "{jobs:?}");
                assert_eq!(jobs[0].user.as_deref(), Some("root"));
                assert_eq!(jobs[1].line, 2);
                let mut sink = FindingSink::new();
                BootBackdoor.run(context, &mut sink);
                assert_eq!(sink.findings().len(), 2, "{:#?}", sink.findings());
            },
        );
    }
}
