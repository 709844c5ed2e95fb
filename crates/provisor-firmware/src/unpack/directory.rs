//! An already-extracted root filesystem on the host. The walk never follows host
//! symlinks: they become links of the virtual filesystem, resolved inside the image.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use super::mount;
use crate::sandbox::Sandbox;
use crate::vfs::{Content, NodeKind, Vfs};

/// Loads the tree under `root`; returns the first refusal or I/O error as a reason.
pub(crate) fn load_directory(
    root: &Path,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<(), String> {
    let container: Arc<str> = Arc::from("");
    let mut pending = vec![(root.to_path_buf(), 0usize)];
    while let Some((directory, depth)) = pending.pop() {
        if depth > sandbox.limits().max_path_depth {
            return Err(format!("{} is nested too deeply", directory.display()));
        }
        let entries = fs::read_dir(&directory)
            .map_err(|error| format!("cannot read {}: {error}", directory.display()))?;
        for entry in entries {
            let entry = entry.map_err(|error| error.to_string())?;
            let host = entry.path();
            let metadata = fs::symlink_metadata(&host)
                .map_err(|error| format!("cannot stat {}: {error}", host.display()))?;
            let relative = host.strip_prefix(root).unwrap_or(&host);
            let file_type = metadata.file_type();
            let (kind, size, content) = if file_type.is_symlink() {
                let target = fs::read_link(&host).map_err(|error| error.to_string())?;
                (
                    NodeKind::Symlink(target.to_string_lossy().into_owned()),
                    0,
                    Content::None,
                )
            } else if file_type.is_dir() {
                pending.push((host.clone(), depth + 1));
                (NodeKind::Directory, 0, Content::None)
            } else if file_type.is_file() {
                (NodeKind::File, metadata.len(), Content::Host(host.clone()))
            } else {
                (NodeKind::Special, 0, Content::None)
            };
            mount(
                sandbox,
                vfs,
                &relative.to_string_lossy(),
                kind,
                metadata.permissions().mode() & 0o7777,
                (metadata.uid(), metadata.gid()),
                size,
                &container,
                content,
            )?;
        }
    }
    Ok(())
}
