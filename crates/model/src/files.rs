//! Writing files so that a crash never leaves a half-written one, and checksums that catch a
//! damaged one. Every file the project writes goes through [`write_atomic`].

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `path` with `.tmp` appended to its file name.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes to `PATH.tmp`, syncs, renames over `path`, then syncs the directory so the rename
/// survives a crash. On failure the temporary file is removed and `path` is untouched. The
/// error says which step failed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), (&'static str, std::io::Error)> {
    let tmp = temp_path(path);
    let written = (|| {
        let mut file = File::create(&tmp).map_err(|e| ("creating the temporary file", e))?;
        file.write_all(bytes).map_err(|e| ("writing", e))?;
        file.sync_all().map_err(|e| ("syncing", e))?;
        fs::rename(&tmp, path).map_err(|e| ("renaming the temporary file", e))
    })();
    if written.is_err() {
        // Best effort: a leftover .tmp is harmless, the original error matters more.
        let _ = fs::remove_file(&tmp);
        return written;
    }
    sync_dir(path.parent());
    Ok(())
}

/// [`write_atomic`] with the failure as one `io::Error` naming the file.
pub fn write_atomic_io(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic(path, bytes).map_err(|(action, e)| {
        std::io::Error::new(e.kind(), format!("{}: {action}: {e}", path.display()))
    })
}

/// Syncs a directory so renames inside it survive a crash (best effort: some filesystems
/// refuse to sync a directory; the data itself is already synced).
pub fn sync_dir(dir: Option<&Path>) {
    if let Some(dir) = dir {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64 of `bytes`: catches corruption, not tampering.
pub fn checksum(bytes: &[u8]) -> u64 {
    checksum_from(FNV_OFFSET, bytes)
}

/// FNV-1a 64 continued from `hash` (a [`checksum`] of earlier bytes).
pub fn checksum_from(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= b as u64;
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_the_reference_values() {
        assert_eq!(checksum(b""), 0xcbf29ce484222325);
        assert_eq!(checksum(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(checksum_from(checksum(b"fo"), b"obar"), checksum(b"foobar"));
    }

    #[test]
    fn temp_path_appends_to_the_file_name() {
        assert_eq!(
            temp_path(Path::new("a/b/c.ckpt")),
            Path::new("a/b/c.ckpt.tmp")
        );
        assert_eq!(temp_path(Path::new("c")), Path::new("c.tmp"));
    }

    #[test]
    fn an_atomic_write_replaces_whole_or_not_at_all() {
        let dir = std::env::temp_dir().join(format!("blob-files-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.bin");
        write_atomic_io(&path, b"first").unwrap();
        write_atomic_io(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert!(!temp_path(&path).exists());
        // A write that cannot happen (the folder is gone) names the file and keeps nothing.
        let missing = dir.join("no/such/folder/f.bin");
        let err = write_atomic_io(&missing, b"x").unwrap_err().to_string();
        assert!(err.contains("f.bin"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
