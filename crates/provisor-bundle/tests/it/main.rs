//! Bundles as hostile input: a valid bundle written and verified, then the same bytes
//! damaged at random places, cut short and grown. Verification never panics, never
//! accepts a damaged member, and stays within its limits.

use proptest::prelude::*;
use provisor_bundle::{Limits, Member, Role, Source, verify, write};

fn bundle() -> Vec<u8> {
    let members = vec![
        Member {
            path: "device.toml".into(),
            role: Role::Assessment,
            source: Source::Bytes(b"kind = \"lab\"\n".to_vec()),
        },
        Member {
            path: "evidence/policy.md".into(),
            role: Role::Evidence,
            source: Source::Bytes(b"# Vulnerability disclosure policy\n".repeat(40)),
        },
    ];
    let mut out = Vec::new();
    write(
        &mut out,
        "device.toml",
        &members,
        "provisor test",
        "2026-01-01T00:00:00Z",
        None,
    )
    .unwrap();
    out
}

fn small_limits() -> Limits {
    Limits {
        manifest_bytes: 64 * 1024,
        total_bytes: 1 << 20,
        members: 16,
    }
}

#[test]
fn a_bundle_written_is_verified() {
    let verified = verify(&bundle()[..], None, None, small_limits()).unwrap();
    assert_eq!(verified.manifest.members.len(), 2);
    assert_eq!(verified.trust, provisor_bundle::Trust::Unsigned);
}

/// The byte range of the evidence member's content inside the tar.
fn evidence_range(bytes: &[u8]) -> std::ops::Range<usize> {
    let needle = b"# Vulnerability disclosure policy\n";
    let start = bytes
        .windows(needle.len())
        .position(|window| window == needle)
        .unwrap();
    start..start + needle.len() * 40
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn damaged_bytes_never_panic_and_a_changed_member_is_refused(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..8)
    ) {
        let original = bundle();
        let mut damaged = original.clone();
        for (index, xor) in &flips {
            let position = index.index(damaged.len());
            damaged[position] ^= xor;
        }
        let result = verify(&damaged[..], None, None, small_limits());
        let evidence = evidence_range(&original);
        let touched_evidence = flips
            .iter()
            .any(|(index, _)| evidence.contains(&index.index(original.len())));
        if touched_evidence {
            prop_assert!(result.is_err(), "a changed evidence file was accepted");
        }
    }

    #[test]
    fn cut_or_grown_bundles_never_panic(cut in 0usize..12_288, tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut bytes = bundle();
        bytes.truncate(cut.min(bytes.len()));
        let _ = verify(&bytes[..], None, None, small_limits());
        let mut grown = bundle();
        grown.extend_from_slice(&tail);
        let _ = verify(&grown[..], None, None, small_limits());
    }
}
