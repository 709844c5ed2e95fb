//! `firmware.binary-hardening`: exploit mitigations of every ELF executable and library.

use goblin::elf::{Elf, dynamic, header, program_header};
use provisor_engine::{Outcome, Severity};

use crate::checks::{Check, CheckMeta, Context};
use crate::vfs::Node;
use provisor_engine::FindingSink;

/// Parses every ELF file of the image, whatever its architecture (ARM, MIPS, x86,
/// AArch64, RISC-V, 32 or 64 bits, either byte order), and reads its exploit
/// mitigations: a non-executable stack (NX), position independence (PIE), RELRO
/// (partial, or full with immediate binding), a stack canary (`__stack_chk_fail`),
/// FORTIFY_SOURCE (`__*_chk` functions) and RPATH/RUNPATH. An executable stack fails:
/// any stack overflow becomes code execution, against the hardware-level memory
/// protection 5.6-8 asks for and the secure development 5.6-9 implies. The summary
/// finding counts each mitigation over all binaries, with the weakest binaries named.
/// Kernel modules and object files are left out. A stripped static binary has no
/// symbols left, so its canary and FORTIFY columns read false even when it was built
/// with them.
pub struct BinaryHardening;

static META: CheckMeta = CheckMeta {
    id: "firmware.binary-hardening",
    title: "exploit mitigations of executables and libraries",
    provisions: &["5.6-8", "5.6-9"],
};

/// The mitigations of one binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mitigations {
    pub executable_stack: bool,
    pub pie: bool,
    pub relro: Relro,
    pub canary: bool,
    pub fortify: bool,
    pub rpath: bool,
    pub shared_library: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relro {
    None,
    Partial,
    Full,
}

/// Reads the mitigations of an ELF file, or `None` when it is not an executable or a
/// shared library.
pub(crate) fn mitigations(bytes: &[u8]) -> Option<Mitigations> {
    let elf = Elf::parse(bytes).ok()?;
    if !matches!(elf.header.e_type, header::ET_EXEC | header::ET_DYN) {
        return None;
    }
    let stack = elf
        .program_headers
        .iter()
        .find(|ph| ph.p_type == program_header::PT_GNU_STACK);
    // Without PT_GNU_STACK most loaders make the stack executable.
    let executable_stack = stack.is_none_or(|ph| ph.p_flags & program_header::PF_X != 0);
    let has_interpreter = elf.interpreter.is_some();
    let dynamic = elf.dynamic.as_ref();
    let flag_1 = dynamic.map_or(0, |dynamic| dynamic.info.flags_1);
    let flags = dynamic.map_or(0, |dynamic| dynamic.info.flags);
    let pie_flag = flag_1 & dynamic::DF_1_PIE != 0;
    let shared_library = elf.header.e_type == header::ET_DYN && !has_interpreter && !pie_flag;
    let pie = elf.header.e_type == header::ET_DYN && (has_interpreter || pie_flag);
    let gnu_relro = elf
        .program_headers
        .iter()
        .any(|ph| ph.p_type == program_header::PT_GNU_RELRO);
    let bind_now = flags & dynamic::DF_BIND_NOW != 0 || flag_1 & dynamic::DF_1_NOW != 0;
    let relro = match (gnu_relro, bind_now) {
        (false, _) => Relro::None,
        (true, false) => Relro::Partial,
        (true, true) => Relro::Full,
    };
    let symbol_names = elf
        .dynsyms
        .iter()
        .filter_map(|symbol| elf.dynstrtab.get_at(symbol.st_name))
        .chain(
            elf.syms
                .iter()
                .filter_map(|symbol| elf.strtab.get_at(symbol.st_name)),
        );
    let (mut canary, mut fortify) = (false, false);
    for name in symbol_names {
        canary |= name == "__stack_chk_fail" || name == "__stack_chk_guard";
        fortify |= name.starts_with("__") && name.ends_with("_chk") && name != "__stack_chk_fail";
    }
    let rpath = dynamic.is_some_and(|dynamic| {
        dynamic
            .dyns
            .iter()
            .any(|entry| entry.d_tag == dynamic::DT_RPATH || entry.d_tag == dynamic::DT_RUNPATH)
    });
    Some(Mitigations {
        executable_stack,
        pie,
        relro,
        canary,
        fortify,
        rpath,
        shared_library,
    })
}

impl Check for BinaryHardening {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn inspects_files(&self) -> bool {
        true
    }

    fn inspect(&self, node: &Node, bytes: &[u8], sink: &mut FindingSink) {
        if !bytes.starts_with(b"\x7fELF") || node.path.ends_with(".ko") || node.path.ends_with(".o")
        {
            return;
        }
        let Some(found) = mitigations(bytes) else {
            return;
        };
        if found.executable_stack {
            sink.add(
                META.id,
                META.provisions,
                Outcome::Fail,
                Severity::High,
                format!("{} has an executable stack", node.path),
            )
            .detail("rebuild without -z execstack; a stack overflow in it runs attacker code")
            .at(&node.path, None, &node.container)
            .evidence(summary_of(&found))
            .record();
        }
        // The per-binary table travels as an info finding per binary, merged by the
        // conclusion into one summary.
        sink.add(
            META.id,
            META.provisions,
            Outcome::Info,
            Severity::Info,
            format!("mitigations of {}", node.path),
        )
        .at(&node.path, None, &node.container)
        .evidence(summary_of(&found))
        .record();
    }

    fn conclude(&self, _context: &Context<'_>, _inspected: usize, sink: &mut FindingSink) {
        let rows =
            sink.take_where(|finding| finding.check == META.id && finding.outcome == Outcome::Info);
        if rows.is_empty() {
            return;
        }
        let count = |key: &str, wanted: &str| {
            rows.iter()
                .filter(|row| row.evidence[key].to_string().trim_matches('"') == wanted)
                .count()
        };
        let executables = rows
            .iter()
            .filter(|row| row.evidence["shared_library"] == false)
            .count();
        let table: Vec<serde_json::Value> = rows
            .iter()
            .map(|row| {
                let mut entry = row.evidence.clone();
                entry["path"] = serde_json::json!(row.location.path);
                entry
            })
            .collect();
        let detail =
            format!(
                "NX {}/{n}, PIE {}/{executables} executables, full RELRO {}/{n}, canary {}/{n}, FORTIFY {}/{n}, RPATH {}/{n}",
                count("nx", "true"),
                rows.iter()
                    .filter(|row| row.evidence["shared_library"] == false
                        && row.evidence["pie"] == true)
                    .count(),
                count("relro", "full"),
                count("canary", "true"),
                count("fortify", "true"),
                count("rpath", "true"),
                n = rows.len(),
            );
        // Executable stacks already fail one by one; otherwise the summary corroborates.
        let outcome = if count("nx", "false") > 0 {
            Outcome::Info
        } else {
            Outcome::Pass
        };
        sink.add(
            META.id,
            META.provisions,
            outcome,
            Severity::Info,
            format!("exploit mitigations of {} ELF binaries", rows.len()),
        )
        .detail(detail)
        .evidence(serde_json::json!({"binaries": table}))
        .record();
    }
}

fn summary_of(found: &Mitigations) -> serde_json::Value {
    serde_json::json!({
        "nx": !found.executable_stack,
        "pie": found.pie,
        "relro": match found.relro { Relro::None => "none", Relro::Partial => "partial", Relro::Full => "full" },
        "canary": found.canary,
        "fortify": found.fortify,
        "rpath": found.rpath,
        "shared_library": found.shared_library,
    })
}
