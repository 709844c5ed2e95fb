//! A file's data blocks decoded in order onto the end of a buffer, as squashfs stores
//! files: one after the other for a small file, on every core for a large one (one file
//! can be most of an image, and the other files are done long before it). Each block of
//! a large file is decoded into its thread's scratch buffer and copied into its place,
//! so that no memory is taken fresh for each block.

use std::cell::RefCell;

use rayon::prelude::*;

/// The blocks from which a file's blocks are decoded in parallel.
pub(crate) const PARALLEL_BLOCKS: usize = 4;

/// Decodes `blocks` in order onto the end of `out`: `size` says how many bytes a block
/// decodes to, `decode` appends them to the buffer it is given (and fails when the block
/// does not hold them). On an error `out` is left as it was.
pub(crate) fn decode<B: Sync>(
    blocks: &[B],
    size: impl Fn(&B) -> usize + Sync,
    decode: impl Fn(&B, &mut Vec<u8>) -> Result<(), String> + Sync,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    thread_local! {
        static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    let base = out.len();
    let result = if blocks.len() < PARALLEL_BLOCKS {
        blocks.iter().try_for_each(|block| decode(block, out))
    } else {
        let total: usize = blocks.iter().map(&size).sum();
        out.resize(base + total, 0);
        let mut places = Vec::with_capacity(blocks.len());
        let mut rest = &mut out[base..];
        for block in blocks {
            let (place, tail) = rest.split_at_mut(size(block));
            places.push((block, place));
            rest = tail;
        }
        places.into_par_iter().try_for_each(|(block, place)| {
            // Taken, not borrowed: a decoder that waits may let this thread run other
            // work that wants the scratch buffer too.
            let mut scratch = SCRATCH.take();
            scratch.clear();
            let decoded = decode(block, &mut scratch).and_then(|()| {
                if scratch.len() != place.len() {
                    return Err(format!(
                        "a data block decodes to {} bytes, not {}",
                        scratch.len(),
                        place.len()
                    ));
                }
                place.copy_from_slice(&scratch);
                Ok(())
            });
            SCRATCH.set(scratch);
            decoded
        })
    };
    if result.is_err() {
        out.truncate(base);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Block `n` decodes to `n + 1` copies of byte `n`; block 255 is corrupt.
    fn decode_test(block: &u8, out: &mut Vec<u8>) -> Result<(), String> {
        if *block == 255 {
            return Err("corrupt".into());
        }
        out.extend(std::iter::repeat_n(*block, usize::from(*block) + 1));
        Ok(())
    }

    #[test]
    fn blocks_land_in_order_one_by_one_and_in_parallel() {
        for count in [0u8, 1, 3, 4, 40] {
            let blocks: Vec<u8> = (0..count).collect();
            let mut out = b"head".to_vec();
            decode(
                &blocks,
                |&block| usize::from(block) + 1,
                decode_test,
                &mut out,
            )
            .unwrap();
            let mut expected = b"head".to_vec();
            for block in &blocks {
                decode_test(block, &mut expected).unwrap();
            }
            assert_eq!(out, expected, "{count} blocks");
        }
    }

    #[test]
    fn a_corrupt_or_short_block_leaves_the_buffer_as_it_was() {
        let mut out = b"head".to_vec();
        let blocks = [1u8, 2, 255, 3, 4];
        assert!(
            decode(
                &blocks,
                |&block| usize::from(block) + 1,
                decode_test,
                &mut out
            )
            .is_err()
        );
        assert_eq!(out, b"head");
        // A block that decodes to fewer bytes than its place.
        let blocks = [1u8, 2, 3, 4, 5];
        let error = decode(
            &blocks,
            |&block| usize::from(block) + 2,
            decode_test,
            &mut out,
        );
        assert!(error.unwrap_err().contains("decodes to"));
        assert_eq!(out, b"head");
    }
}
