//! What the binary checks read from an ELF file, whatever its architecture and byte
//! order (ARM, AArch64, MIPS either endian, PowerPC, x86, RISC-V; 32 or 64 bits): the
//! functions it imports, its data symbols, the strings of its read-only sections with
//! their file offsets, and what a data pointer points to, following the dynamic
//! relocations of a position-independent program (the addend kept in place for REL
//! architectures such as ARM, MIPS and i386, or in the relocation for RELA ones such as
//! AArch64, PowerPC and x86-64).

use std::collections::BTreeSet;

use goblin::elf::{Elf, section_header};

/// One data symbol: its name, address and size.
#[derive(Debug, Clone)]
pub(crate) struct DataSymbol {
    pub name: String,
    pub address: u64,
    pub size: u64,
}

/// A string found in a read-only section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    /// Offset in the file.
    pub offset: u64,
    pub text: String,
}

/// The parts of an ELF file the checks read.
pub(crate) struct ElfView<'a> {
    bytes: &'a [u8],
    elf: Elf<'a>,
}

/// The shortest string [`ElfView::strings`] returns.
const MIN_STRING: usize = 3;

impl<'a> ElfView<'a> {
    /// Parses an ELF executable or library (`None` for anything else).
    pub fn parse(bytes: &'a [u8]) -> Option<ElfView<'a>> {
        if !bytes.starts_with(b"\x7fELF") {
            return None;
        }
        let elf = Elf::parse(bytes).ok()?;
        Some(ElfView { bytes, elf })
    }

    /// The functions and objects it takes from shared libraries: its undefined dynamic
    /// symbols (MIPS gives those a value, the address of their call stub).
    pub fn imports(&self) -> BTreeSet<&str> {
        self.elf
            .dynsyms
            .iter()
            .filter(|symbol| {
                symbol.st_shndx == section_header::SHN_UNDEF as usize
                    && symbol.st_bind() != goblin::elf::sym::STB_LOCAL
            })
            .filter_map(|symbol| self.elf.dynstrtab.get_at(symbol.st_name))
            .map(|name| name.split('@').next().unwrap_or(name))
            .collect()
    }

    /// The shared libraries it links (DT_NEEDED).
    pub fn needed(&self) -> &[&'a str] {
        &self.elf.libraries
    }

    /// Every defined data object (from the symbol table and the dynamic one).
    pub fn data_symbols(&self) -> Vec<DataSymbol> {
        let mut seen = BTreeSet::new();
        let symbols = self
            .elf
            .syms
            .iter()
            .map(|symbol| (symbol, self.elf.strtab.get_at(symbol.st_name)))
            .chain(
                self.elf
                    .dynsyms
                    .iter()
                    .map(|symbol| (symbol, self.elf.dynstrtab.get_at(symbol.st_name))),
            );
        symbols
            .filter(|(symbol, _)| {
                symbol.st_type() == goblin::elf::sym::STT_OBJECT
                    && symbol.st_shndx != 0
                    && symbol.st_size > 0
            })
            .filter_map(|(symbol, name)| Some((symbol, name?)))
            .filter(|(symbol, name)| seen.insert((name.to_string(), symbol.st_value)))
            .map(|(symbol, name)| DataSymbol {
                name: name.to_owned(),
                address: symbol.st_value,
                size: symbol.st_size,
            })
            .collect()
    }

    /// The file offset of a virtual address, from the section that holds it (or the
    /// segment, when sections are gone).
    pub fn offset_of(&self, address: u64) -> Option<u64> {
        let from_sections = self.elf.section_headers.iter().find(|section| {
            section.sh_type != section_header::SHT_NOBITS
                && section.sh_addr != 0
                && (section.sh_addr..section.sh_addr.saturating_add(section.sh_size))
                    .contains(&address)
        });
        if let Some(section) = from_sections {
            return Some(section.sh_offset + (address - section.sh_addr));
        }
        self.elf
            .program_headers
            .iter()
            .find(|segment| {
                segment.p_type == goblin::elf::program_header::PT_LOAD
                    && (segment.p_vaddr..segment.p_vaddr.saturating_add(segment.p_filesz))
                        .contains(&address)
            })
            .map(|segment| segment.p_offset + (address - segment.p_vaddr))
    }

    /// The bytes at a virtual address (at most `length`, fewer at the end of the file).
    pub fn bytes_at(&self, address: u64, length: u64) -> Option<&'a [u8]> {
        let start = usize::try_from(self.offset_of(address)?).ok()?;
        let end = start.saturating_add(usize::try_from(length).ok()?);
        self.bytes.get(start..end.min(self.bytes.len()))
    }

    /// The NUL-terminated string at a virtual address (at most 256 bytes).
    pub fn string_at(&self, address: u64) -> Option<(u64, String)> {
        let offset = self.offset_of(address)?;
        let bytes = self.bytes_at(address, 256)?;
        let end = bytes.iter().position(|&byte| byte == 0)?;
        let text = std::str::from_utf8(&bytes[..end]).ok()?;
        Some((offset, text.to_owned()))
    }

    /// The address a pointer stored at `address` holds: the addend of a dynamic
    /// relocation there (RELA), or the word itself (REL, and programs that are not
    /// position-independent).
    pub fn pointer_at(&self, address: u64) -> Option<u64> {
        let relocated = self
            .elf
            .dynrelas
            .iter()
            .chain(self.elf.dynrels.iter())
            .find(|relocation| relocation.r_offset == address);
        if let Some(addend) = relocated.and_then(|relocation| relocation.r_addend)
            && addend != 0
        {
            return u64::try_from(addend).ok();
        }
        let width = if self.elf.is_64 { 8 } else { 4 };
        let word = self.bytes_at(address, width)?;
        Some(match (word.len(), self.elf.little_endian) {
            (8, true) => u64::from_le_bytes(word.try_into().ok()?),
            (8, false) => u64::from_be_bytes(word.try_into().ok()?),
            (4, true) => u64::from(u32::from_le_bytes(word.try_into().ok()?)),
            (4, false) => u64::from(u32::from_be_bytes(word.try_into().ok()?)),
            _ => return None,
        })
    }

    /// The size of a pointer.
    pub fn pointer_size(&self) -> u64 {
        if self.elf.is_64 { 8 } else { 4 }
    }

    /// The printable strings of the read-only data sections, in file order, with their
    /// offsets: what the compiler made of the program's string literals.
    pub fn strings(&self) -> Vec<Found> {
        let mut found = Vec::new();
        for section in &self.elf.section_headers {
            let name = self.elf.shdr_strtab.get_at(section.sh_name).unwrap_or("");
            if section.sh_type != section_header::SHT_PROGBITS
                || !(name.starts_with(".rodata") || name == ".data.rel.ro" || name == ".data")
            {
                continue;
            }
            let start = usize::try_from(section.sh_offset).unwrap_or(usize::MAX);
            let end = start.saturating_add(usize::try_from(section.sh_size).unwrap_or(0));
            let Some(data) = self.bytes.get(start..end.min(self.bytes.len())) else {
                continue;
            };
            let mut at = 0;
            while at < data.len() {
                let run = data[at..]
                    .iter()
                    .position(|&byte| {
                        !(0x20..0x7f).contains(&byte) && byte != b'\t' && byte != b'\n'
                    })
                    .unwrap_or(data.len() - at);
                let terminated = data.get(at + run) == Some(&0);
                if run >= MIN_STRING && terminated {
                    found.push(Found {
                        offset: (start + at) as u64,
                        text: String::from_utf8_lossy(&data[at..at + run]).into_owned(),
                    });
                }
                at += run + 1;
            }
        }
        found
    }
}
