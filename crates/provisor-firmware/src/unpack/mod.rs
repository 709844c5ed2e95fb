//! Identifying and unpacking what an image holds. A directory is read as an extracted
//! root filesystem. A file is searched for container signatures at any offset (carving)
//! and each container found is unpacked. Filesystems and archives (squashfs 1.x to 4.0,
//! ext2/3/4, cramfs, romfs, FAT, ISO 9660, JFFS2, YAFFS2, UBIFS, cpio, tar, 7-Zip, a ZIP
//! of a root filesystem) are mounted into the virtual filesystem. Wrappers, partition
//! tables, update bundles and compressed streams (uImage, FIT, TRX, Android sparse and
//! boot images, Matter OTA, UEFI capsules, the vendors' wrappers, UBI, MBR, GPT, other
//! ZIP archives, gzip, xz, lzma, zstd, bzip2, lz4, lzop) are opened and their payloads
//! searched again, one nesting level deeper. A container that cannot be unpacked, a
//! wrapper whose checksum does not match and encrypted firmware become inconclusive
//! findings with the container's chain and offset.

mod android_boot;
mod archive;
mod blob;
mod blocks;
mod codec;
mod cramfs;
mod directory;
mod ext;
mod fat;
mod file_blocks;
mod fit;
mod iso9660;
mod jffs2;
mod matter_ota;
mod partitions;
mod romfs;
mod sevenzip;
mod sparse;
mod squashfs;
mod squashfs_legacy;
mod stream;
mod trx;
mod ubi;
mod ubifs;
mod uefi_capsule;
mod uimage;
mod vendor;
mod yaffs2;
mod zip;

use std::sync::{Arc, OnceLock};

use aho_corasick::AhoCorasick;
use provisor_engine::{Outcome, Severity};

use crate::sandbox::Sandbox;
use crate::vfs::{Content, FileSource, Node, NodeKind, Vfs};
use provisor_engine::FindingSink;

pub(crate) use blob::{Blob, ImageFile};
pub(crate) use directory::load_directory;
pub(crate) use squashfs::Squashfs;

/// The check id of unpacking problems.
pub(crate) const UNPACK_CHECK: &str = "firmware.unpack";

/// The container formats provisor recognizes by signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Squashfs,
    UImage,
    Fit,
    Trx,
    Cramfs,
    Ext,
    Jffs2,
    Ubi,
    Ubifs,
    AndroidSparse,
    Gzip,
    Xz,
    Lzma,
    Zstd,
    Bzip2,
    Cpio,
    Tar,
    Romfs,
    Mbr,
    Gpt,
    Zip,
    Lz4,
    Lz4Legacy,
    Lzop,
    Fat,
    Iso9660,
    AndroidBoot,
    MatterOta,
    UefiCapsule,
    Yaffs2,
    SevenZip,
    TpLink,
    Seama,
    Chk,
    DlinkTlv,
    Arcadyan,
    DahuaZip,
    Encrypted,
    Packimg,
    Rtk,
    TpLinkV2,
    TpLinkRtos,
    JbootUpdate,
    JbootStag,
    JbootSch2,
    Csman,
}

impl Format {
    /// Every format, in the order of [`Format::name`]'s match.
    const ALL: [Format; 46] = [
        Format::Squashfs,
        Format::UImage,
        Format::Fit,
        Format::Trx,
        Format::Cramfs,
        Format::Ext,
        Format::Jffs2,
        Format::Ubi,
        Format::Ubifs,
        Format::AndroidSparse,
        Format::Gzip,
        Format::Xz,
        Format::Lzma,
        Format::Zstd,
        Format::Bzip2,
        Format::Cpio,
        Format::Tar,
        Format::Romfs,
        Format::Mbr,
        Format::Gpt,
        Format::Zip,
        Format::Lz4,
        Format::Lz4Legacy,
        Format::Lzop,
        Format::Fat,
        Format::Iso9660,
        Format::AndroidBoot,
        Format::MatterOta,
        Format::UefiCapsule,
        Format::Yaffs2,
        Format::SevenZip,
        Format::TpLink,
        Format::Seama,
        Format::Chk,
        Format::DlinkTlv,
        Format::Arcadyan,
        Format::DahuaZip,
        Format::Encrypted,
        Format::Packimg,
        Format::Rtk,
        Format::TpLinkV2,
        Format::TpLinkRtos,
        Format::JbootUpdate,
        Format::JbootStag,
        Format::JbootSch2,
        Format::Csman,
    ];

    /// The format a name stands for, case-insensitively.
    pub(crate) fn from_name(name: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|format| format.name().eq_ignore_ascii_case(name))
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Squashfs => "squashfs",
            Format::UImage => "uImage",
            Format::Fit => "FIT",
            Format::Trx => "TRX",
            Format::Cramfs => "cramfs",
            Format::Ext => "ext",
            Format::Jffs2 => "JFFS2",
            Format::Ubi => "UBI",
            Format::Ubifs => "UBIFS",
            Format::AndroidSparse => "android-sparse",
            Format::Gzip => "gzip",
            Format::Xz => "xz",
            Format::Lzma => "lzma",
            Format::Zstd => "zstd",
            Format::Bzip2 => "bzip2",
            Format::Cpio => "cpio",
            Format::Tar => "tar",
            Format::Romfs => "romfs",
            Format::Mbr => "MBR",
            Format::Gpt => "GPT",
            Format::Zip => "zip",
            Format::Lz4 => "lz4",
            Format::Lz4Legacy => "lz4-legacy",
            Format::Lzop => "lzop",
            Format::Fat => "FAT",
            Format::Iso9660 => "ISO9660",
            Format::AndroidBoot => "android-boot",
            Format::MatterOta => "matter-ota",
            Format::UefiCapsule => "UEFI-capsule",
            Format::Yaffs2 => "YAFFS2",
            Format::SevenZip => "7z",
            Format::TpLink => "TP-Link",
            Format::Seama => "SEAMA",
            Format::Chk => "CHK",
            Format::DlinkTlv => "D-Link-TLV",
            Format::Arcadyan => "arcadyan",
            Format::DahuaZip => "dahua-zip",
            Format::Encrypted => "encrypted",
            Format::Packimg => "packimg",
            Format::Rtk => "RTK",
            Format::TpLinkV2 => "TP-Link-v2",
            Format::TpLinkRtos => "TP-Link-RTOS",
            Format::JbootUpdate => "JBOOT",
            Format::JbootStag => "JBOOT-STAG",
            Format::JbootSch2 => "JBOOT-SCH2",
            Format::Csman => "CSman",
        }
    }
}

/// Signatures, with the offset of the signature inside the container (the encrypted
/// families' magics are added from their table by [`signatures`]).
const SIGNATURES: &[(&[u8], Format, usize)] = &[
    (b"hsqs", Format::Squashfs, 0),
    (b"sqsh", Format::Squashfs, 0),
    // Vendors' squashfs 1.x to 3.x magics (LZMA and DD-WRT builds).
    (b"sqlz", Format::Squashfs, 0),
    (b"qshs", Format::Squashfs, 0),
    (b"shsq", Format::Squashfs, 0),
    (b"tqsh", Format::Squashfs, 0),
    (b"hsqt", Format::Squashfs, 0),
    (&[0x27, 0x05, 0x19, 0x56], Format::UImage, 0),
    (&[0xd0, 0x0d, 0xfe, 0xed], Format::Fit, 0),
    (b"HDR0", Format::Trx, 0),
    (&[0x45, 0x3d, 0xcd, 0x28], Format::Cramfs, 0),
    (&[0x28, 0xcd, 0x3d, 0x45], Format::Cramfs, 0),
    (&[0x53, 0xef], Format::Ext, ext::MAGIC_OFFSET),
    // JFFS2 cleanmarker, directory entry and inode nodes, little- and big-endian.
    (&[0x85, 0x19, 0x03, 0x20], Format::Jffs2, 0),
    (&[0x85, 0x19, 0x01, 0xe0], Format::Jffs2, 0),
    (&[0x85, 0x19, 0x02, 0xe0], Format::Jffs2, 0),
    (&[0x19, 0x85, 0x20, 0x03], Format::Jffs2, 0),
    (&[0x19, 0x85, 0xe0, 0x01], Format::Jffs2, 0),
    (&[0x19, 0x85, 0xe0, 0x02], Format::Jffs2, 0),
    (b"UBI#", Format::Ubi, 0),
    (&[0x31, 0x18, 0x10, 0x06], Format::Ubifs, 0),
    (&[0x3a, 0xff, 0x26, 0xed], Format::AndroidSparse, 0),
    (&[0x1f, 0x8b, 0x08], Format::Gzip, 0),
    (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], Format::Xz, 0),
    (&[0x5d, 0x00, 0x00], Format::Lzma, 0),
    (&[0x28, 0xb5, 0x2f, 0xfd], Format::Zstd, 0),
    (b"BZh", Format::Bzip2, 0),
    (b"070701", Format::Cpio, 0),
    (b"070702", Format::Cpio, 0),
    (b"ustar", Format::Tar, 257),
    (b"-rom1fs-", Format::Romfs, 0),
    // A FAT boot sector's type string (FAT12/16, then FAT32).
    (b"FAT12   ", Format::Fat, fat::TYPE_AT),
    (b"FAT16   ", Format::Fat, fat::TYPE_AT),
    (b"FAT     ", Format::Fat, fat::TYPE_AT),
    (b"FAT32   ", Format::Fat, fat::TYPE_AT_32),
    (b"CD001", Format::Iso9660, iso9660::SIGNATURE_AT),
    (b"ANDROID!", Format::AndroidBoot, 0),
    (&[0x1e, 0xf1, 0xee, 0x1b], Format::MatterOta, 0),
    (&uefi_capsule::GUIDS[0].0, Format::UefiCapsule, 0),
    (&uefi_capsule::GUIDS[1].0, Format::UefiCapsule, 0),
    (&uefi_capsule::GUIDS[2].0, Format::UefiCapsule, 0),
    // A YAFFS2 object header of a file, link or directory in the root (no magic; its
    // sum field is left erased), either byte order.
    (&[1, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff], Format::Yaffs2, 0),
    (&[2, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff], Format::Yaffs2, 0),
    (&[3, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff], Format::Yaffs2, 0),
    (&[0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff], Format::Yaffs2, 0),
    (&[0, 0, 0, 2, 0, 0, 0, 1, 0xff, 0xff], Format::Yaffs2, 0),
    (&[0, 0, 0, 3, 0, 0, 0, 1, 0xff, 0xff], Format::Yaffs2, 0),
    // A disk's boot signature; the GPT header in sector 1 (512- or 4096-byte sectors).
    (&[0x55, 0xaa], Format::Mbr, 510),
    (b"EFI PART", Format::Gpt, 512),
    (b"EFI PART", Format::Gpt, 4096),
    (b"PK\x03\x04", Format::Zip, 0),
    (b"7z\xbc\xaf\x27\x1c", Format::SevenZip, 0),
    (vendor::tplink::V1_MAGIC, Format::TpLink, 0),
    (
        &vendor::tplink::V2_MAGIC,
        Format::TpLinkV2,
        vendor::tplink::V2_MAGIC_AT,
    ),
    (&vendor::tplink::RTOS_MAGIC, Format::TpLinkRtos, 0),
    (
        &vendor::jboot::UPDATE_MAGIC,
        Format::JbootUpdate,
        vendor::jboot::UPDATE_MAGIC_AT,
    ),
    (&vendor::jboot::STAG_MAGICS[0], Format::JbootStag, 0),
    (&vendor::jboot::STAG_MAGICS[1], Format::JbootStag, 0),
    (&vendor::jboot::SCH2_MAGICS[0], Format::JbootSch2, 0),
    (&vendor::jboot::SCH2_MAGICS[1], Format::JbootSch2, 0),
    (&vendor::jboot::SCH2_MAGICS[2], Format::JbootSch2, 0),
    (&vendor::jboot::SCH2_MAGICS[3], Format::JbootSch2, 0),
    (vendor::csman::MAGICS[0], Format::Csman, 0),
    (vendor::csman::MAGICS[1], Format::Csman, 0),
    (&vendor::seama::MAGIC, Format::Seama, 0),
    (vendor::chk::MAGIC, Format::Chk, 0),
    (&vendor::dlink_tlv::MAGIC, Format::DlinkTlv, 0),
    (
        &vendor::arcadyan::MAGIC,
        Format::Arcadyan,
        vendor::arcadyan::MAGIC_AT,
    ),
    (vendor::dahua::MAGIC, Format::DahuaZip, 0),
    (vendor::packimg::MAGIC, Format::Packimg, 0),
    (vendor::rtk::MAGIC, Format::Rtk, 0),
    (&[0x04, 0x22, 0x4d, 0x18], Format::Lz4, 0),
    (&[0x02, 0x21, 0x4c, 0x18], Format::Lz4Legacy, 0),
    (
        &[0x89, b'L', b'Z', b'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a],
        Format::Lzop,
        0,
    ),
];

/// Every signature: the table's, then each encrypted family's magic.
fn signatures() -> &'static [(&'static [u8], Format, usize)] {
    static ALL: OnceLock<Vec<(&'static [u8], Format, usize)>> = OnceLock::new();
    ALL.get_or_init(|| {
        let families = vendor::encrypted::FAMILIES
            .iter()
            .map(|&(magic, _)| (magic, Format::Encrypted, 0));
        SIGNATURES.iter().copied().chain(families).collect()
    })
}

fn matcher() -> &'static AhoCorasick {
    static MATCHER: OnceLock<AhoCorasick> = OnceLock::new();
    MATCHER.get_or_init(|| {
        AhoCorasick::new(signatures().iter().map(|(pattern, _, _)| *pattern))
            .expect("the signatures compile")
    })
}

/// A container found in a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Carved {
    pub format: Format,
    pub offset: usize,
}

/// Finds plausible container signatures at any offset, in order.
pub(crate) fn carve(data: &[u8]) -> Vec<Carved> {
    let mut found = Vec::new();
    for hit in matcher().find_overlapping_iter(data) {
        let (_, format, inset) = signatures()[hit.pattern().as_usize()];
        let Some(offset) = hit.start().checked_sub(inset) else {
            continue;
        };
        if plausible(format, &data[offset..]) {
            found.push(Carved { format, offset });
        }
    }
    found
}

/// Whether the bytes at a signature look like the format's header, weeding out chance
/// matches before an unpacker is run.
pub(crate) fn plausible(format: Format, candidate: &[u8]) -> bool {
    match format {
        Format::Squashfs => squashfs::plausible(candidate) || squashfs_legacy::plausible(candidate),
        Format::UImage => uimage::plausible(candidate),
        Format::Fit => fit::plausible(candidate),
        Format::Trx => trx::plausible(candidate),
        Format::Cramfs => cramfs::plausible(candidate),
        Format::Ext => ext::plausible(candidate),
        Format::Jffs2 => jffs2::plausible(candidate),
        Format::Ubi => ubi::plausible(candidate),
        Format::Ubifs => ubifs::plausible(candidate),
        Format::AndroidSparse => sparse::plausible(candidate),
        Format::Gzip | Format::Xz | Format::Lzma | Format::Zstd | Format::Bzip2 => {
            stream::plausible(format, candidate)
        }
        Format::Cpio => archive::cpio_plausible(candidate),
        Format::Tar => archive::tar_plausible(candidate),
        Format::Romfs => romfs::plausible(candidate),
        Format::Mbr => partitions::mbr_plausible(candidate),
        Format::Gpt => partitions::gpt_plausible(candidate),
        Format::Zip => zip::plausible(candidate),
        Format::Lz4 | Format::Lz4Legacy | Format::Lzop => blocks::plausible(format, candidate),
        Format::Fat => fat::plausible(candidate),
        Format::Iso9660 => iso9660::plausible(candidate),
        Format::AndroidBoot => android_boot::plausible(candidate),
        Format::MatterOta => matter_ota::plausible(candidate),
        Format::UefiCapsule => uefi_capsule::plausible(candidate),
        Format::Yaffs2 => yaffs2::plausible(candidate),
        Format::SevenZip => sevenzip::plausible(candidate),
        Format::TpLink => vendor::tplink::v1_plausible(candidate),
        Format::TpLinkV2 => vendor::tplink::v2_plausible(candidate),
        Format::TpLinkRtos => vendor::tplink::rtos_plausible(candidate),
        Format::JbootUpdate => vendor::jboot::update_plausible(candidate),
        Format::JbootStag => vendor::jboot::stag_plausible(candidate),
        Format::JbootSch2 => vendor::jboot::sch2_plausible(candidate),
        Format::Csman => vendor::csman::plausible(candidate),
        Format::Seama => vendor::seama::plausible(candidate),
        Format::Chk => vendor::chk::plausible(candidate),
        Format::DlinkTlv => vendor::dlink_tlv::plausible(candidate),
        Format::Arcadyan => vendor::arcadyan::plausible(candidate),
        Format::DahuaZip => vendor::dahua::plausible(candidate),
        Format::Encrypted => vendor::encrypted::plausible(candidate),
        Format::Packimg => vendor::packimg::plausible(candidate),
        Format::Rtk => vendor::rtk::plausible(candidate),
    }
}

/// What unpacking one container gave.
pub(crate) enum Opened {
    /// Entries were mounted; the container spans this many bytes (when known).
    Mounted { span: Option<usize> },
    /// Inner blobs to search again (a stream's output, a wrapper's payloads), each with
    /// the name the container gives it (or none), and the span of the container.
    Inner {
        parts: Vec<(String, Blob)>,
        span: usize,
    },
    /// As `Inner`, with problems of the wrapper that do not keep its payloads from being
    /// searched (a checksum or digest that does not match): each becomes a finding.
    Flagged {
        parts: Vec<(String, Blob)>,
        span: usize,
        problems: Vec<String>,
    },
}

impl Opened {
    /// A decoded stream: its output, one unnamed payload, and the bytes it spanned (at
    /// least one, so carving moves on).
    pub(crate) fn decoded(out: Vec<u8>, span: usize) -> Opened {
        Opened::Inner {
            parts: vec![(String::new(), Blob::Memory(Arc::from(out)))],
            span: span.max(1),
        }
    }
}

/// Walks containers inside containers.
pub(crate) struct Unpacker<'a> {
    pub sandbox: &'a mut Sandbox,
    pub vfs: &'a mut Vfs,
    pub sink: &'a mut FindingSink,
}

impl Unpacker<'_> {
    fn inconclusive(&mut self, title: String, detail: String, chain: &str, offset: usize) {
        self.sink
            .add(
                UNPACK_CHECK,
                &["5.6-1"],
                Outcome::Inconclusive,
                Severity::Info,
                title,
            )
            .detail(detail)
            .evidence(serde_json::json!({"container": chain, "offset": offset}))
            .record();
    }

    /// Records a container opened at `carved` in `blob` (held by `parent`, empty for
    /// the image), spanning `span` bytes when known.
    fn record(
        &mut self,
        blob: &Blob,
        parent: &str,
        chain: &str,
        carved: Carved,
        span: Option<usize>,
    ) {
        let image_offset = match blob {
            Blob::File { start, .. } => Some(start + carved.offset as u64),
            // The image itself held in memory.
            Blob::Memory(_) if parent.is_empty() => Some(carved.offset as u64),
            Blob::Memory(_) => None,
        };
        self.vfs.add_container(provisor_engine::Container {
            chain: chain.to_owned(),
            format: carved.format.name().to_owned(),
            offset: carved.offset as u64,
            image_offset,
            size: span.map(|span| span as u64),
            parent: (!parent.is_empty()).then(|| parent.to_owned()),
            files: 0,
        });
    }

    /// Unpacks every container carved from `blob`; `chain` names where `blob` came from
    /// (empty for the image itself).
    pub(crate) fn unpack(&mut self, blob: Blob, chain: &str, depth: usize) -> usize {
        if depth > self.sandbox.limits().max_nesting {
            self.inconclusive(
                format!(
                    "containers nested deeper than {} levels",
                    self.sandbox.limits().max_nesting
                ),
                "unpacking stopped; the image may be built to exhaust unpackers".into(),
                chain,
                0,
            );
            return 0;
        }
        // Searched segment by segment, resuming behind each container opened.
        let mut loaded = match &blob {
            Blob::Memory(data) => Some(data.clone()),
            Blob::File { .. } => None,
        };
        let mut unpacked = 0;
        let mut covered_until = 0;
        let (mut from, mut size) = (0u64, blob::FIRST_SEGMENT);
        while from < blob.len() {
            let found = match blob.carve_segment(from, size) {
                Ok(found) => found,
                Err(error) => {
                    self.inconclusive(
                        "the image cannot be read".into(),
                        error.to_string(),
                        chain,
                        from as usize,
                    );
                    return unpacked;
                }
            };
            for carved in found {
                if carved.offset < covered_until {
                    continue;
                }
                if let Some(span) = self.unpack_one(&blob, &mut loaded, carved, chain, depth) {
                    unpacked += 1;
                    if let Some(span) = span {
                        covered_until = carved.offset + span;
                    }
                }
            }
            from = (from + size).max(covered_until as u64);
            size = (size * 2).min(blob::SEGMENT);
        }
        unpacked
    }

    /// Opens one container carved from `blob` and searches what it hands on. Returns
    /// `None` when nothing was opened, else the container's span when it is known.
    fn unpack_one(
        &mut self,
        blob: &Blob,
        loaded: &mut Option<Arc<[u8]>>,
        carved: Carved,
        chain: &str,
        depth: usize,
    ) -> Option<Option<usize>> {
        let name = format!("{}@{:#x}", carved.format.name(), carved.offset);
        let here = if chain.is_empty() {
            name
        } else {
            format!("{chain} > {name}")
        };
        match self.open(blob, loaded, carved, &here) {
            Ok(Opened::Mounted { span }) => {
                self.record(blob, chain, &here, carved, span);
                Some(span)
            }
            // (`open` has turned a wrapper's problems into findings.)
            Ok(Opened::Inner { parts, span } | Opened::Flagged { parts, span, .. }) => {
                self.record(blob, chain, &here, carved, Some(span));
                for (part, inner) in parts {
                    let within = if part.is_empty() {
                        here.clone()
                    } else {
                        format!("{here} > {part}")
                    };
                    if self.unpack(inner.clone(), &within, depth + 1) == 0 {
                        match inner.load() {
                            Ok(bytes) => self.vfs.add_payload(&within, bytes),
                            Err(error) => self.inconclusive(
                                "a payload cannot be read".into(),
                                error.to_string(),
                                &within,
                                0,
                            ),
                        }
                    }
                }
                Some(Some(span))
            }
            Err(Refused::NotThisFormat) => None,
            Err(Refused::Encrypted(family)) => {
                self.inconclusive(
                    format!("encrypted firmware ({family}) at offset {:#x}", carved.offset),
                    format!("inconclusive: encrypted ({family}). provisor cannot look inside without the vendor's key: decrypt the image (the key is often in the previous, unencrypted firmware or in the boot loader) and scan the result."),
                    &here,
                    carved.offset,
                );
                None
            }
            Err(Refused::Broken(reason)) => {
                self.inconclusive(
                    format!(
                        "{} at offset {:#x} cannot be unpacked",
                        carved.format.name(),
                        carved.offset
                    ),
                    reason,
                    &here,
                    carved.offset,
                );
                None
            }
        }
    }

    /// Opens one carved container; a wrapper's problems that do not stop it become
    /// findings here.
    fn open(
        &mut self,
        blob: &Blob,
        loaded: &mut Option<Arc<[u8]>>,
        carved: Carved,
        chain: &str,
    ) -> Result<Opened, Refused> {
        match self.open_container(blob, loaded, carved, chain)? {
            Opened::Flagged {
                parts,
                span,
                problems,
            } => {
                for problem in problems {
                    self.inconclusive(
                        format!(
                            "{} at offset {:#x}: {problem}",
                            carved.format.name(),
                            carved.offset
                        ),
                        "its contents were searched all the same; a wrapper that does not match its own checksum was corrupted or modified after it was built".into(),
                        chain,
                        carved.offset,
                    );
                }
                Ok(Opened::Inner { parts, span })
            }
            opened => Ok(opened),
        }
    }

    /// Opens one carved container. Squashfs, the wrappers and partition tables read the
    /// blob where it is (a range of the image file stays on disk); the other unpackers
    /// want it in memory, and the blob is loaded (once) when the first of them is opened.
    fn open_container(
        &mut self,
        blob: &Blob,
        loaded: &mut Option<Arc<[u8]>>,
        carved: Carved,
        chain: &str,
    ) -> Result<Opened, Refused> {
        let mut memory = || -> Result<Arc<[u8]>, Refused> {
            match loaded {
                Some(data) => Ok(data.clone()),
                None => {
                    let data = blob
                        .load()
                        .map_err(|error| Refused::Broken(error.to_string()))?;
                    Ok(loaded.insert(data).clone())
                }
            }
        };
        let at = carved.offset;
        let (sandbox, vfs) = (&mut *self.sandbox, &mut *self.vfs);
        let mounted = |span| Opened::Mounted { span };
        match carved.format {
            Format::Squashfs if squashfs::is_version_4(blob, at) => {
                squashfs::unpack(blob, at, chain, sandbox, vfs)
                    .map(mounted)
                    .map_err(Refused::Broken)
            }
            Format::Squashfs => squashfs_legacy::mount(blob, at, chain, sandbox, vfs).map(mounted),
            Format::UImage => uimage::open(blob, at),
            Format::Trx => trx::open(blob, at),
            Format::Mbr => partitions::open_mbr(blob, at),
            Format::Gpt => partitions::open_gpt(blob, at),
            Format::AndroidBoot => android_boot::open(blob, at),
            Format::MatterOta => matter_ota::open(blob, at),
            Format::UefiCapsule => uefi_capsule::open(blob, at),
            Format::TpLink => vendor::tplink::open_v1(blob, at),
            Format::TpLinkV2 => vendor::tplink::open_v2(blob, at),
            Format::TpLinkRtos => vendor::tplink::open_rtos(blob, at),
            Format::JbootUpdate => vendor::jboot::open_update(blob, at),
            Format::JbootStag => vendor::jboot::open_stag(blob, at),
            Format::JbootSch2 => vendor::jboot::open_sch2(blob, at),
            Format::Seama => vendor::seama::open(blob, at),
            Format::Chk => vendor::chk::open(blob, at),
            Format::DlinkTlv => vendor::dlink_tlv::open(blob, at),
            Format::Packimg => vendor::packimg::open(blob, at),
            Format::Rtk => vendor::rtk::open(blob, at),
            Format::Arcadyan => vendor::arcadyan::open(&memory()?, at),
            Format::DahuaZip => vendor::dahua::open(&memory()?, at, chain, sandbox, vfs),
            Format::Csman => vendor::csman::mount_csman(&memory()?, at, chain, sandbox, vfs),
            Format::Encrypted => Err(Refused::Encrypted(
                vendor::encrypted::family(&memory()?[at..])
                    .unwrap_or("unknown")
                    .to_owned(),
            )),
            Format::Fit => fit::open(&memory()?, at),
            Format::Cramfs => {
                cramfs::mount_cramfs(&memory()?, at, chain, sandbox, vfs).map(mounted)
            }
            Format::Ext => ext::mount_ext(&memory()?, at, chain, sandbox, vfs).map(mounted),
            Format::Jffs2 => jffs2::mount_jffs2(&memory()?, at, chain, sandbox, vfs).map(mounted),
            Format::Ubi => ubi::open(&memory()?, at, sandbox),
            Format::Ubifs => ubifs::mount_ubifs(&memory()?, at, chain, sandbox, vfs).map(mounted),
            Format::AndroidSparse => sparse::open(&memory()?, at, sandbox),
            Format::Gzip | Format::Xz | Format::Lzma | Format::Zstd | Format::Bzip2 => {
                stream::open(carved.format, &memory()?, at, sandbox)
            }
            Format::Cpio => archive::mount_cpio(&memory()?, at, chain, sandbox, vfs),
            Format::Tar => archive::mount_tar(&memory()?, at, chain, sandbox, vfs),
            Format::Romfs => romfs::mount_romfs(&memory()?, at, chain, sandbox, vfs),
            Format::Zip => zip::mount_zip(&memory()?, at, chain, sandbox, vfs),
            Format::Fat => fat::mount_fat(&memory()?, at, chain, sandbox, vfs).map(mounted),
            Format::Yaffs2 => {
                yaffs2::mount_yaffs2(&memory()?, at, chain, sandbox, vfs).map(mounted)
            }
            Format::SevenZip => {
                sevenzip::mount_7z(&memory()?, at, chain, sandbox, vfs).map(mounted)
            }
            Format::Iso9660 => {
                iso9660::mount_iso9660(&memory()?, at, chain, sandbox, vfs).map(mounted)
            }
            Format::Lz4 | Format::Lz4Legacy | Format::Lzop => {
                blocks::open(carved.format, &memory()?, at, sandbox)
            }
        }
    }
}

/// Opens `blob` as one container at offset 0 without carving or recursion (for the
/// per-parser fuzz targets); returns how many payloads it handed on.
pub(crate) fn open_one(
    blob: Blob,
    format: Format,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
    sink: &mut FindingSink,
) -> usize {
    let mut unpacker = Unpacker { sandbox, vfs, sink };
    let mut loaded = None;
    let carved = Carved { format, offset: 0 };
    match unpacker.open(&blob, &mut loaded, carved, format.name()) {
        Ok(Opened::Inner { parts, .. }) => {
            parts.iter().filter(|(_, part)| part.load().is_ok()).count()
        }
        Ok(Opened::Mounted { .. } | Opened::Flagged { .. }) | Err(_) => 0,
    }
}

/// The `N` bytes at `at`, none past the end (for the readers that must tell a field cut
/// off from a zero).
pub(crate) fn bytes_at<const N: usize>(data: &[u8], at: usize) -> Option<[u8; N]> {
    data.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// The big-endian u32 at `at`, none past the end.
pub(crate) fn be32_at(data: &[u8], at: usize) -> Option<u32> {
    bytes_at(data, at).map(u32::from_be_bytes)
}

/// The little-endian u32 at `at` of a header, 0 past the end.
pub(crate) fn le32(data: &[u8], at: usize) -> u32 {
    data.get(at..at + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The little-endian u16 at `at` of a header, 0 past the end.
pub(crate) fn le16(data: &[u8], at: usize) -> u16 {
    data.get(at..at + 2)
        .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
}

/// Runs one block decoder by name with squashfs' largest block as the limit.
pub(crate) fn decode(codec: &str, data: &[u8]) -> bool {
    let limit = 1 << 20;
    match codec {
        "lzo" => codec::lzo1x(data, limit).is_ok(),
        "rtime" => codec::rtime(data, limit.min(data.len().saturating_mul(8))).is_ok(),
        "lzma" => codec::lzma_alone(data, limit).is_ok(),
        "zlib" => codec::zlib(data, limit).is_ok(),
        "deflate" => codec::deflate(data, limit).is_ok(),
        "zstd" => codec::zstd(data, limit).is_ok(),
        _ => false,
    }
}

/// Why a carved candidate was not unpacked.
pub(crate) enum Refused {
    /// The signature was a coincidence: say nothing.
    NotThisFormat,
    /// It is the format, but broken or over a limit: report it.
    Broken(String),
    /// It is encrypted firmware of the named family: report it as such.
    Encrypted(String),
}

/// Mounts one entry taken from an archive, through the sandbox.
#[allow(clippy::too_many_arguments)]
pub(crate) fn mount(
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
    path: &str,
    kind: NodeKind,
    mode: u32,
    owner: (u32, u32),
    size: u64,
    container: &Arc<str>,
    content: Content,
) -> Result<(), String> {
    let path = sandbox
        .normalize(path)
        .map_err(|refusal| refusal.to_string())?;
    sandbox
        .admit(size)
        .map_err(|refusal| format!("unpacking stopped: {refusal}"))?;
    vfs.insert(Node {
        path,
        kind,
        mode,
        uid: owner.0,
        gid: owner.1,
        size,
        container: container.clone(),
        content,
    });
    Ok(())
}

/// An entry of a filesystem provisor decodes itself: `file` is its number in the
/// filesystem's [`FileSource`] when it is a regular file.
pub(crate) type Listed = (String, NodeKind, u32, (u32, u32), u64, Option<usize>);

/// Mounts the entries of a filesystem provisor decodes itself; files are read through
/// `source` when a check reads them.
pub(crate) fn mount_decoded(
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
    chain: &str,
    source: Arc<dyn FileSource>,
    entries: Vec<Listed>,
) -> Result<(), Refused> {
    let container: Arc<str> = Arc::from(chain);
    for (path, kind, mode, owner, size, file) in entries {
        let (content, size) = match file {
            Some(id) => (Content::Decoded(source.clone(), id), size),
            None => (Content::None, 0),
        };
        mount(
            sandbox,
            vfs,
            &path,
            kind,
            mode & 0o7777,
            owner,
            size,
            &container,
            content,
        )
        .map_err(Refused::Broken)?;
    }
    Ok(())
}

/// What a Unix mode's file type bits say an entry is (a link's target is filled in by
/// the caller).
pub(crate) fn kind_of(mode: u32) -> NodeKind {
    match mode & 0o170000 {
        0o100000 => NodeKind::File,
        0o040000 => NodeKind::Directory,
        0o120000 => NodeKind::Symlink(String::new()),
        _ => NodeKind::Special,
    }
}

/// Unpacks an image: every container in it, recursively.
pub(crate) fn unpack_image(
    image: Blob,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
    sink: &mut FindingSink,
) {
    let mut unpacker = Unpacker { sandbox, vfs, sink };
    let unpacked = unpacker.unpack(image.clone(), "", 0);
    // Bytes as random as ciphertext where no container was found: most likely an
    // encrypted image of a family provisor does not know.
    let found_nothing = unpacked == 0 && unpacker.sink.findings().is_empty();
    let mut sample = Vec::new();
    if found_nothing {
        sample = vec![0u8; image.len().min(1 << 20) as usize];
        if image.read_exact_at(0, &mut sample).is_err() {
            sample.clear();
        }
    }
    let random = sample.len() >= 4096 && vendor::encrypted::entropy(&sample) > 7.95;
    if found_nothing && random {
        unpacker
            .sink
            .add(
                UNPACK_CHECK,
                &["5.6-1"],
                Outcome::Inconclusive,
                Severity::Info,
                "the image looks encrypted: no known container, and bytes as random as ciphertext",
            )
            .detail(format!("inconclusive: encrypted (a family provisor does not name). The first {} bytes hold {:.3} bits of entropy per byte, as encrypted (or compressed) data does. Decrypt the image (the key is often in the previous, unencrypted firmware or in the boot loader) and scan the result.", sample.len(), vendor::encrypted::entropy(&sample)))
            .record();
    } else if found_nothing {
        unpacker
            .sink
            .add(
                UNPACK_CHECK,
                &["5.6-1"],
                Outcome::Inconclusive,
                Severity::Info,
                "no known filesystem or container found in the image",
            )
            .detail("provisor looked for squashfs (1.x to 4.0, the vendors' LZMA variants included), ext2/3/4, cramfs, romfs, FAT12/16/32, ISO 9660, JFFS2, YAFFS2, UBI, UBIFS, cpio, tar, ZIP, 7-Zip, CSman stores, uImage, FIT, TRX, Matter OTA images, UEFI capsules, the TP-Link (v1, v2/v3, RTOS), SEAMA, JBOOT, Netgear CHK, D-Link TLV, Arcadyan, Dahua, packimg and RTK wrappers, MBR and GPT partition tables, Android sparse and boot images and gzip, xz, lzma, zstd, bzip2, lz4 and lzop streams at every offset, and the known encrypted firmware families; the image may be encrypted or in a format not yet supported. Extract the root filesystem and scan the directory instead.")
            .record();
    }
}
