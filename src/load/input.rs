//! Opening an export: it must be a regular file (a FIFO or a device would
//! hang the run or never end), and it must not change while it is read (an
//! export still being written would silently give half its rows).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{bail, Context, Result};

/// What a file looked like when it was read: the load compares it again at
/// the end, so that a file rewritten after it was read is caught too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

impl Snapshot {
    pub fn of(path: &Path, meta: &std::fs::Metadata) -> Snapshot {
        Snapshot { path: path.to_path_buf(), len: meta.len(), modified: meta.modified().ok() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// An error when the file is no longer as it was read.
    pub fn check(&self) -> Result<()> {
        let now = std::fs::metadata(&self.path).map(|m| Snapshot::of(&self.path, &m));
        match now {
            Ok(now) if now == *self => Ok(()),
            _ => Err(changed(&self.path)),
        }
    }
}

fn changed(path: &Path) -> anyhow::Error {
    anyhow::anyhow!("{} changed while it was read; run again once it is complete", path.display())
}

/// The file's metadata (links followed), or an error when it is not a
/// regular file. A missing file is left to the caller's own message.
pub fn regular(path: &Path) -> Result<std::fs::Metadata> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}: cannot read the file", path.display()))?;
    if !meta.is_file() {
        bail!(
            "{}: not a regular file (it is {}); give the path of an exported file (check `path` in audience.yaml, or the list's `file:`)",
            path.display(),
            kind(&meta)
        );
    }
    Ok(meta)
}

fn kind(meta: &std::fs::Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    "not a file"
}

/// Reads a whole regular file, checking that it did not change meanwhile:
/// its size and modification time before and after, and the bytes read.
pub fn read(path: &Path) -> Result<(Vec<u8>, Snapshot)> {
    let before = Snapshot::of(path, &regular(path)?);
    let mut file = std::fs::File::open(path).with_context(|| format!("{}: cannot read the file", path.display()))?;
    let mut bytes = Vec::with_capacity(before.len as usize + 1);
    file.read_to_end(&mut bytes).with_context(|| format!("{}: cannot read the file", path.display()))?;
    let after = std::fs::metadata(path).map(|m| Snapshot::of(path, &m)).with_context(|| format!("{}: cannot read the file", path.display()))?;
    if after != before || bytes.len() as u64 != before.len {
        return Err(changed(path));
    }
    Ok((bytes, before))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let e = read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not a regular file (it is a folder)"), "{e}");
    }

    #[test]
    fn a_device_is_not_a_regular_file() {
        let e = read(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(e.contains("/dev/zero: not a regular file (it is a character device)"), "{e}");
    }

    #[test]
    fn a_file_that_grows_after_it_was_read_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.csv");
        std::fs::write(&p, "email\na@x.fr\n").unwrap();
        let (bytes, snap) = read(&p).unwrap();
        assert_eq!(bytes, b"email\na@x.fr\n");
        snap.check().unwrap();
        std::fs::write(&p, "email\na@x.fr\nb@x.fr\n").unwrap();
        let e = snap.check().unwrap_err().to_string();
        assert!(e.ends_with("c.csv changed while it was read; run again once it is complete"), "{e}");
    }
}
