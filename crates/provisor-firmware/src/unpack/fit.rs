//! FIT, U-Boot's Flattened Image Tree: a device tree blob (big-endian, magic
//! `d00dfeed`) whose `/images` node holds the kernel, ramdisk, filesystem and device
//! trees, each as embedded `data` or as `data-offset`/`data-position` and `data-size`
//! pointing past the tree (`mkimage -E`). Each image is searched again, named after its
//! node. A device tree without `/images` is a plain DTB, not a container.
//!
//! The tree is walked with bounds on every offset, length and the nesting of nodes.

use std::sync::Arc;

use super::{Blob, Opened, Refused, be32_at};

const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;
const MAX_DEPTH: usize = 32;

/// The header's sizes are consistent and the version is one U-Boot writes.
pub(crate) fn plausible(data: &[u8]) -> bool {
    let field = |index: usize| be32_at(data, 4 * index).unwrap_or(0) as usize;
    let (total, structure, strings, version) = (field(1), field(2), field(3), field(5));
    data.len() >= 40
        && (16..=17).contains(&version)
        && total >= 40
        && structure < total
        && strings < total
}

/// One image of the tree.
struct Image {
    name: String,
    data: Option<(usize, usize)>,
    external: (Option<usize>, Option<usize>, Option<usize>),
}

/// Walks the structure block, collecting the children of `/images`.
fn images(tree: &[u8]) -> Result<Option<Vec<Image>>, String> {
    let field = |index: usize| be32_at(tree, 4 * index).unwrap_or(0) as usize;
    let (structure, strings) = (field(2), field(3));
    let name_at = |offset: usize| -> String {
        let start = strings.saturating_add(offset).min(tree.len());
        let rest = &tree[start..];
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        String::from_utf8_lossy(&rest[..end]).into_owned()
    };
    let mut path: Vec<String> = Vec::new();
    let mut found: Option<Vec<Image>> = None;
    let mut at = structure;
    loop {
        let token =
            be32_at(tree, at).ok_or_else(|| format!("FIT: the tree ends early at {at:#x}"))?;
        at += 4;
        match token {
            FDT_BEGIN_NODE => {
                let rest = tree.get(at..).unwrap_or_default();
                let end = rest
                    .iter()
                    .position(|&b| b == 0)
                    .ok_or_else(|| format!("FIT: a node name at {at:#x} is not terminated"))?;
                let name = String::from_utf8_lossy(&rest[..end]).into_owned();
                at = (at + end + 1 + 3) & !3;
                if path.len() == 1 && name == "images" {
                    found.get_or_insert_with(Vec::new);
                }
                if path.len() == 2 && path[1] == "images" {
                    found.get_or_insert_with(Vec::new).push(Image {
                        name: name.clone(),
                        data: None,
                        external: (None, None, None),
                    });
                }
                path.push(name);
                if path.len() > MAX_DEPTH {
                    return Err(format!("FIT: nodes nested deeper than {MAX_DEPTH}"));
                }
            }
            FDT_END_NODE => {
                path.pop()
                    .ok_or_else(|| format!("FIT: an unbalanced end of node at {:#x}", at - 4))?;
            }
            FDT_PROP => {
                let length = be32_at(tree, at).unwrap_or(u32::MAX) as usize;
                let name_offset = be32_at(tree, at + 4).unwrap_or(0) as usize;
                let value_at = at + 8;
                let value_end = value_at
                    .checked_add(length)
                    .filter(|&end| end <= tree.len())
                    .ok_or_else(|| format!("FIT: a property at {at:#x} runs past the tree"))?;
                at = (value_end + 3) & !3;
                if path.len() == 3 && path[1] == "images" {
                    let value = &tree[value_at..value_end];
                    let number = || be32_at(value, 0).map(|n| n as usize);
                    if let Some(image) = found.as_mut().and_then(|images| images.last_mut()) {
                        match name_at(name_offset).as_str() {
                            "data" => image.data = Some((value_at, value_end)),
                            "data-offset" => image.external.0 = number(),
                            "data-position" => image.external.1 = number(),
                            "data-size" => image.external.2 = number(),
                            _ => {}
                        }
                    }
                }
            }
            FDT_NOP => {}
            FDT_END => return Ok(found),
            other => {
                return Err(format!(
                    "FIT: unknown token {other:#x} at {:#x} (corrupt tree)",
                    at - 4
                ));
            }
        }
    }
}

pub(crate) fn open(data: &Arc<[u8]>, offset: usize) -> Result<Opened, Refused> {
    let blob = &data[offset..];
    let total = be32_at(blob, 4).unwrap_or(0) as usize;
    if total > blob.len() {
        return Err(Refused::Broken(format!(
            "FIT declares a {total}-byte tree, only {} bytes are present (truncated image?)",
            blob.len()
        )));
    }
    let tree = &blob[..total];
    let Some(images) = images(tree).map_err(Refused::Broken)? else {
        // A device tree blob, not an image tree.
        return Err(Refused::NotThisFormat);
    };
    // External data sits after the tree, 4-byte aligned, at data-offset from its end,
    // or at data-position from the start of the FIT.
    let external_base = (total + 3) & !3;
    let mut parts = Vec::new();
    let mut span = total;
    for image in images {
        let range = match (image.data, image.external) {
            (Some(range), _) => range,
            (None, (Some(start), _, Some(size))) => {
                (external_base + start, external_base + start + size)
            }
            (None, (None, Some(start), Some(size))) => (start, start + size),
            _ => continue,
        };
        let (start, end) = range;
        if start > end || end > blob.len() {
            return Err(Refused::Broken(format!(
                "FIT image \"{}\" lies outside the file (bytes {start:#x}..{end:#x})",
                image.name
            )));
        }
        span = span.max(end);
        parts.push((
            format!("images/{}", image.name),
            Blob::Memory(Arc::from(&blob[start..end])),
        ));
    }
    Ok(Opened::Inner { parts, span })
}
