//! The official wording of an edition's provisions, supplied by a user who holds the
//! standard: provisor's data carries summaries where it cannot carry ETSI's sentences,
//! and a wording file puts the sentences back, so that a report shows the standard's
//! words and says which file (by SHA-256) they came from.
//!
//! The layout (documented in docs/wording.md): one block per provision, its id alone on
//! the first line and its text on the lines below, blocks separated by blank lines; lines
//! starting with `#` are comments. Text lines are joined with single spaces.

use std::collections::BTreeMap;

use provisor_catalog::Catalog;

use crate::error::InputError;
use crate::file::sha256_hex;

/// The largest wording file read (the whole standard is a few hundred kilobytes).
pub const MAX_WORDING_BYTES: usize = 4 << 20;

/// The official texts of some provisions, and the file they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wording {
    /// The file as the assessment or the command line names it.
    pub file: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Text by provision id.
    pub texts: BTreeMap<String, String>,
}

impl Wording {
    /// Parses a wording file's bytes for `catalog`'s edition; `origin` names it in
    /// messages. Every id must be a provision of the edition, once.
    pub fn parse(bytes: &[u8], origin: &str, catalog: &Catalog) -> Result<Wording, InputError> {
        if bytes.len() > MAX_WORDING_BYTES {
            return Err(InputError::new(format!(
                "wording file is {} bytes, more than the {MAX_WORDING_BYTES} read",
                bytes.len()
            ))
            .at_line(origin, 1, 1)
            .help("a wording file holds the provisions' sentences only"));
        }
        let text = std::str::from_utf8(bytes).map_err(|error| {
            let offset = error.valid_up_to();
            let line = bytes[..offset]
                .iter()
                .filter(|&&byte| byte == b'\n')
                .count() as u32
                + 1;
            InputError::new(format!(
                "wording file is not UTF-8 text (invalid byte at offset {offset})"
            ))
            .at_line(origin, line, 1)
            .help("save the file as UTF-8")
        })?;
        let texts = parse_blocks(text, origin, catalog)?;
        Ok(Wording {
            file: origin.to_owned(),
            sha256: sha256_hex(bytes),
            texts,
        })
    }
}

/// One block being read: its id, the line it starts on and its text lines.
struct Block<'t> {
    id: &'t str,
    line: u32,
    lines: Vec<&'t str>,
}

fn parse_blocks(
    text: &str,
    origin: &str,
    catalog: &Catalog,
) -> Result<BTreeMap<String, String>, InputError> {
    let mut texts = BTreeMap::new();
    let mut first_seen: BTreeMap<String, u32> = BTreeMap::new();
    let mut block: Option<Block<'_>> = None;
    let mut finish = |block: Block<'_>| -> Result<(), InputError> {
        if block.lines.is_empty() {
            return Err(
                InputError::new(format!("provision {} has no text", block.id))
                    .at_line(origin, block.line, 1)
                    .help("write its text on the lines below its id, then a blank line"),
            );
        }
        if let Some(previous) = first_seen.get(block.id) {
            return Err(InputError::new(format!(
                "provision {} is given twice (first on line {previous})",
                block.id
            ))
            .at_line(origin, block.line, 1)
            .help("keep one block per provision"));
        }
        first_seen.insert(block.id.to_owned(), block.line);
        texts.insert(block.id.to_owned(), block.lines.join(" "));
        Ok(())
    };
    for (index, raw) in text.lines().enumerate() {
        let number = index as u32 + 1;
        let line = raw.trim();
        if line.starts_with('#') {
            continue;
        }
        if line.is_empty() {
            if let Some(done) = block.take() {
                finish(done)?;
            }
            continue;
        }
        match &mut block {
            Some(open) => open.lines.push(line),
            None => {
                check_id(line, number, raw, origin, catalog)?;
                block = Some(Block {
                    id: line,
                    line: number,
                    lines: Vec::new(),
                });
            }
        }
    }
    if let Some(done) = block.take() {
        finish(done)?;
    }
    Ok(texts)
}

/// Checks that the first line of a block is one of the edition's provision ids.
fn check_id(
    line: &str,
    number: u32,
    raw: &str,
    origin: &str,
    catalog: &Catalog,
) -> Result<(), InputError> {
    let column = raw.find(line).unwrap_or(0) as u32 + 1;
    let at = |message: String| {
        let mut error = InputError::new(message).at_line(origin, number, column);
        error.width = line.chars().count().max(1) as u32;
        error.snippet = Some(raw.to_owned());
        error
    };
    if catalog.provision(line).is_some() {
        return Ok(());
    }
    if line.contains(char::is_whitespace) {
        return Err(at(
            "a block must start with a provision id on a line of its own".into(),
        )
        .help("write the id (such as 5.1-1) on one line, the text below it, and a blank line between blocks"));
    }
    if let Some(voided) = catalog.voided(line) {
        return Err(
            at(format!("provision {line} is voided in {}", catalog.id)).help(format!(
                "give the wording of its successors instead: {}",
                voided.successors.join(" and ")
            )),
        );
    }
    let first = catalog.provisions.first().map_or("", |p| p.id.as_str());
    let last = catalog.provisions.last().map_or("", |p| p.id.as_str());
    Err(
        at(format!("unknown provision \"{line}\" in {}", catalog.id)).help(format!(
            "provision ids are written as the standard does, {first} … {last}; run `provisor catalog --edition {}`",
            catalog.id
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v3() -> &'static Catalog {
        provisor_catalog::edition("en303645-v3.1.3").unwrap()
    }

    #[test]
    fn blocks_give_texts_and_comments_are_skipped() {
        let text = "# typed from the standard\n\n5.1-2A\nFirst line\n  second line\n\n# between\n6-6\nOne line.\n";
        let wording = Wording::parse(text.as_bytes(), "w.txt", v3()).unwrap();
        assert_eq!(wording.texts["5.1-2A"], "First line second line");
        assert_eq!(wording.texts["6-6"], "One line.");
        assert_eq!(wording.sha256.len(), 64);
    }

    #[test]
    fn mistakes_are_located_with_what_to_write() {
        let error = |text: &str| Wording::parse(text.as_bytes(), "w.txt", v3()).unwrap_err();
        let unknown = error("5.1-9\ntext\n");
        assert_eq!(unknown.place().unwrap(), "w.txt:1:1");
        assert!(unknown.message.contains("unknown provision \"5.1-9\""));
        let voided = error("\n\n5.6-4\ntext\n");
        assert_eq!(voided.place().unwrap(), "w.txt:3:1");
        assert!(voided.help.unwrap().contains("5.6-4A and 5.6-4B"));
        let sentence = error("The consumer IoT device shall\n");
        assert!(
            sentence
                .message
                .contains("provision id on a line of its own")
        );
        let empty = error("5.1-1\n\n5.1-2\ntext\n");
        assert!(
            empty.message.contains("5.1-1 has no text"),
            "{}",
            empty.message
        );
        let twice = error("5.1-1\na\n\n5.1-1\nb\n");
        assert_eq!(twice.place().unwrap(), "w.txt:4:1");
        assert!(twice.message.contains("first on line 1"));
        let binary = Wording::parse(b"5.1-1\n\xff\n", "w.txt", v3()).unwrap_err();
        assert!(binary.message.contains("offset 6"), "{}", binary.message);
    }
}
