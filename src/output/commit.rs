//! A run's lists replaced as one transaction.
//!
//! A nightly job must never lose a list, so `run` works on its output folder
//! like a small database would:
//! - one run at a time: `OUTPUT/.audience/lock` is held (an OS lock, freed
//!   when the process dies) and names the holder's process id;
//! - lists are staged under unpredictable names, created exclusively (a link
//!   planted there is never followed) and flushed to disk;
//! - before the first rename, the current lists get a second name (a hard
//!   link) and a journal lists every (temporary, target, copy) triple;
//! - the audit record is appended in one write after the last rename; a
//!   failure at any step puts every replaced list back;
//! - a run killed half-way leaves its journal: the next run undoes it (or
//!   finishes it, when its audit record made it), says so in the audit trail,
//!   and removes whatever temporary files killed runs left behind.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::Staged;

/// Every temporary file of a run starts so; a run removes those it finds.
pub const TEMP_PREFIX: &str = ".audience-tmp-";

/// A new temporary file in `dir`: random name, created exclusively, with
/// the permissions a plain `File::create` would give.
pub fn temp_file(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new().prefix(TEMP_PREFIX).rand_bytes(12).permissions(fs::Permissions::from_mode(0o666)).tempfile_in(dir)
}

/// Where a test may stop the process (`AUDIENCE_CRASH_AT`), to prove that
/// the next run recovers: `staged`, `journal`, `rename:N` (after N renames),
/// `audit` (half of the audit record written) and `committed`.
fn crash_at(point: &str) {
    if crate::exec::options().crash_at.as_deref() == Some(point) {
        std::process::abort();
    }
}

/// Whether a test asked the N-th rename to fail (`AUDIENCE_FAIL_AT=rename:N`),
/// to prove that a rename failing half-way puts every list back.
fn fail_at(point: &str) -> bool {
    crate::exec::options().fail_at.as_deref() == Some(point)
}

#[derive(Serialize, Deserialize)]
struct Journal {
    run: String,
    pid: u32,
    entries: Vec<Entry>,
    /// The audit trail's length before this run, and how many lines the
    /// run appends: a run whose record is not all there is undone, and its
    /// lines are cut off.
    audit_len: Option<u64>,
    audit_lines: usize,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    tmp: PathBuf,
    target: PathBuf,
    /// A second name of the list the run replaces; None when there was none.
    backup: Option<PathBuf>,
}

/// An output folder held by this run.
pub struct OutputDir {
    pub dir: PathBuf,
    meta: PathBuf,
    /// Held for the life of the run; the OS frees it if the process dies.
    _lock: File,
    /// This run's id in the audit trail and the journal.
    pub run: String,
}

impl OutputDir {
    /// Creates the folder if needed and takes it for this run: fails at once
    /// when another run holds it, then recovers from a killed run.
    pub fn open(dir: &Path) -> Result<OutputDir> {
        let meta = dir.join(".audience");
        fs::create_dir_all(&meta).with_context(|| format!("{}: cannot create the output folder", meta.display()))?;
        let lock_path = meta.join("lock");
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .with_context(|| format!("{}: cannot open", lock_path.display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                // The holder writes its pid just after taking the lock.
                let mut holder = String::new();
                for _ in 0..20 {
                    holder = fs::read_to_string(&lock_path).unwrap_or_default().trim().to_string();
                    if !holder.is_empty() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                let who = if holder.is_empty() { "another run".to_string() } else { format!("another run (process {holder})") };
                bail!("{}: {who} is writing to this folder; wait for it to finish, or give this run another `output`", dir.display());
            }
            Err(fs::TryLockError::Error(e)) => return Err(e).with_context(|| format!("{}: cannot lock", lock_path.display())),
        }
        lock.set_len(0)
            .and_then(|_| (&lock).write_all(std::process::id().to_string().as_bytes()))
            .with_context(|| format!("{}: cannot write", lock_path.display()))?;
        let out = OutputDir { dir: dir.to_path_buf(), meta, _lock: lock, run: format!("{:016x}", rand::random::<u64>()) };
        out.repair_audit()?;
        out.recover()?;
        out.remove_leftovers();
        Ok(out)
    }

    fn audit_path(&self) -> PathBuf {
        self.meta.join("runs.jsonl")
    }

    /// The audit trail's bytes, when it is a regular file (never read a
    /// device someone linked there).
    fn audit_bytes(&self) -> Option<Vec<u8>> {
        let path = self.audit_path();
        fs::metadata(&path).ok().filter(|m| m.is_file())?;
        fs::read(path).ok()
    }

    fn audit_len(&self) -> Option<u64> {
        fs::metadata(self.audit_path()).ok().filter(|m| m.is_file()).map(|m| m.len())
    }

    fn journal_path(&self) -> PathBuf {
        self.meta.join("journal.json")
    }

    /// Renames every staged list into place, then appends `audit` (one JSON
    /// object a line). All or nothing: on any failure every list is as it was
    /// before, the temporary files are gone, and the error says what failed.
    pub fn commit(&self, staged: Vec<Staged>, audit: &[Value]) -> Result<()> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut pending = staged.into_iter();
        // A second name for each list about to be replaced: nothing changes
        // yet, so a failure here only removes what the run made.
        let prepared: Result<()> = pending.by_ref().try_for_each(|s| {
            let backup = match fs::symlink_metadata(&s.target) {
                Ok(m) if m.is_dir() => {
                    let e = anyhow!(
                        "{}: is a folder, so the list cannot be written there; move the folder away or give the segment another alias",
                        s.target.display()
                    );
                    s.discard();
                    return Err(e);
                }
                Ok(_) => {
                    let b = sibling(&s.target, "old");
                    if let Err(e) = fs::hard_link(&s.target, &b) {
                        let e = anyhow!("{}: cannot be replaced ({e}); check its permissions and attributes", s.target.display());
                        s.discard();
                        return Err(e);
                    }
                    Some(b)
                }
                Err(e) if e.kind() == ErrorKind::NotFound => None,
                Err(e) => {
                    let e = anyhow!("{}: cannot be read ({e})", s.target.display());
                    s.discard();
                    return Err(e);
                }
            };
            entries.push(Entry { tmp: s.tmp, target: s.target, backup });
            Ok(())
        });
        if let Err(e) = prepared {
            pending.for_each(Staged::discard);
            discard(&entries);
            return Err(e);
        }
        crash_at("staged");
        let journal = Journal { run: self.run.clone(), pid: std::process::id(), entries, audit_len: self.audit_len(), audit_lines: audit.len() };
        if let Err(e) = self.write_journal(&journal) {
            discard(&journal.entries);
            return Err(e);
        }
        crash_at("journal");
        for (i, e) in journal.entries.iter().enumerate() {
            let renamed = if fail_at(&format!("rename:{}", i + 1)) {
                Err(std::io::Error::other("failure injected by AUDIENCE_FAIL_AT"))
            } else {
                fs::rename(&e.tmp, &e.target)
            };
            if let Err(err) = renamed {
                let undone = undo(&journal.entries[..i]);
                discard(&journal.entries[i..]);
                self.finish(&journal);
                bail!("{}: cannot move the finished list into place ({err}); {undone}", e.target.display());
            }
            crash_at(&format!("rename:{}", i + 1));
        }
        sync_dirs(&journal.entries);
        if let Err(err) = self.append_audit(audit) {
            let undone = undo(&journal.entries);
            self.finish(&journal);
            return Err(err.context(undone));
        }
        crash_at("committed");
        self.finish(&journal);
        Ok(())
    }

    /// Appends lines to the audit trail in one write. A write cut short
    /// (a full disk) is truncated away, so the trail never holds half a line.
    pub fn append_audit(&self, lines: &[Value]) -> Result<()> {
        let path = self.audit_path();
        let mut buf = String::new();
        for l in lines {
            buf.push_str(&l.to_string());
            buf.push('\n');
        }
        let mut f = OpenOptions::new().create(true).append(true).open(&path).with_context(|| format!("{}: cannot open the audit trail", path.display()))?;
        let before = f.metadata().map(|m| m.len()).ok();
        if crate::exec::options().crash_at.as_deref() == Some("audit") {
            let _ = f.write(&buf.as_bytes()[..buf.len() / 2]);
            crash_at("audit");
        }
        let written = f.write(buf.as_bytes()).and_then(|n| {
            if n < buf.len() {
                Err(std::io::Error::new(ErrorKind::StorageFull, "the disk took only part of the record"))
            } else {
                f.sync_data()
            }
        });
        if let Err(e) = written {
            if let Some(len) = before {
                let _ = f.set_len(len);
            }
            return Err(anyhow!("{}: cannot append the audit record: {e}", path.display()));
        }
        Ok(())
    }

    /// The lines of a run that stopped on an error, best effort: the error
    /// itself is what the user sees.
    pub fn audit_failure(&self, as_of: &str, requested: &[String], error: &anyhow::Error) {
        let line = json!({
            "time": now(),
            "run": self.run,
            "as_of": as_of,
            "status": "failed",
            "requested": requested,
            // Errors already printed as diagnostics say what they were in the context.
            "error": match error.downcast_ref::<crate::diag::Reported>() {
                Some(_) if error.chain().count() > 1 => error.chain().next().map(|c| c.to_string()).unwrap_or_default(),
                _ => format!("{error:#}"),
            },
        });
        if let Err(e) = self.append_audit(&[line]) {
            eprintln!("warning: {e:#}");
        }
    }

    fn write_journal(&self, journal: &Journal) -> Result<()> {
        let path = self.journal_path();
        let mut tmp = temp_file(&self.meta).with_context(|| format!("{}: cannot create", self.meta.display()))?;
        serde_json::to_writer(tmp.as_file_mut(), journal)?;
        tmp.as_file().sync_all().with_context(|| format!("{}: cannot write the run's journal", path.display()))?;
        tmp.persist(&path).map_err(|e| anyhow!("{}: cannot write the run's journal: {}", path.display(), e.error))?;
        sync_dir(&self.meta);
        Ok(())
    }

    /// The transaction is over either way: the copies and the journal go.
    fn finish(&self, journal: &Journal) {
        for e in &journal.entries {
            if let Some(b) = &e.backup {
                let _ = fs::remove_file(b);
            }
        }
        let _ = fs::remove_file(self.journal_path());
        sync_dir(&self.meta);
    }

    /// A run killed during its audit append left half a line: cut it off.
    fn repair_audit(&self) -> Result<()> {
        let path = self.audit_path();
        let Some(bytes) = self.audit_bytes() else { return Ok(()) };
        if bytes.is_empty() || bytes.ends_with(b"\n") {
            return Ok(());
        }
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(keep as u64))
            .with_context(|| format!("{}: cannot remove the torn last line", path.display()))?;
        eprintln!("warning: {}: removed the unfinished last line an interrupted run left", path.display());
        Ok(())
    }

    /// Finishes or undoes a run that was killed between its first rename and
    /// the end of its transaction, and records what was done.
    fn recover(&self) -> Result<()> {
        let path = self.journal_path();
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(anyhow!("{}: cannot read the journal of an interrupted run: {e}", path.display())),
        };
        // The journal is written whole or not at all; anything else is not ours.
        let Ok(journal) = serde_json::from_slice::<Journal>(&bytes) else {
            fs::remove_file(&path).with_context(|| format!("{}: cannot remove", path.display()))?;
            return Ok(());
        };
        let committed = journal.audit_lines > 0 && self.audit_lines_of(&journal.run) == journal.audit_lines;
        if !committed {
            if let Some(len) = journal.audit_len.filter(|len| self.audit_len().is_some_and(|now| now > *len)) {
                OpenOptions::new()
                    .write(true)
                    .open(self.audit_path())
                    .and_then(|f| f.set_len(len))
                    .with_context(|| format!("{}: cannot remove the record of an interrupted run", self.audit_path().display()))?;
            }
        }
        let lists: Vec<String> = journal.entries.iter().map(|e| e.target.display().to_string()).collect();
        let action = if committed {
            "completed"
        } else {
            for e in &journal.entries {
                if e.tmp.exists() {
                    let _ = fs::remove_file(&e.tmp); // never renamed: the target is untouched
                    continue;
                }
                let restored = match &e.backup {
                    Some(b) if b.exists() => fs::rename(b, &e.target),
                    Some(_) => Ok(()), // already put back
                    None => fs::remove_file(&e.target).or_else(|err| if err.kind() == ErrorKind::NotFound { Ok(()) } else { Err(err) }),
                };
                restored.with_context(|| format!("{}: cannot put back the list an interrupted run replaced", e.target.display()))?;
            }
            "undone"
        };
        self.finish(&journal);
        self.remove_leftovers();
        let line = json!({"time": now(), "run": self.run, "status": "recovered", "interrupted_run": journal.run, "interrupted_pid": journal.pid, "action": action, "lists": lists});
        self.append_audit(&[line])?;
        if committed {
            eprintln!("warning: a run (process {}) was interrupted after writing its lists; its leftovers were removed", journal.pid);
        } else {
            eprintln!(
                "warning: a run (process {}) was interrupted while replacing lists; every list it replaced was put back as it was before it",
                journal.pid
            );
        }
        Ok(())
    }

    /// How many lines of the audit trail belong to `run`.
    fn audit_lines_of(&self, run: &str) -> usize {
        let Some(bytes) = self.audit_bytes() else { return 0 };
        String::from_utf8_lossy(&bytes).lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|v| v["run"] == run).count()
    }

    /// Temporary files of killed runs: nobody else writes under our prefix,
    /// and this run holds the lock, so whatever is left is garbage.
    /// Where the keys of a segment's last export are kept: the baseline of
    /// `run --changes` and of `expect.max_change`.
    pub fn keys_file(&self, alias: &str) -> PathBuf {
        self.meta.join("keys").join(format!("{alias}.csv"))
    }

    /// The keys of a segment's last export, in its order; None before its
    /// first export (or when the file is unreadable: then every recipient
    /// counts as new, which a guard would rather see than a silent zero).
    pub fn previous_keys(&self, alias: &str) -> Option<Vec<String>> {
        let path = self.keys_file(alias);
        fs::metadata(&path).ok().filter(|m| m.is_file())?;
        let mut r = csv::ReaderBuilder::new().has_headers(true).from_path(&path).ok()?;
        r.records().map(|rec| rec.ok().and_then(|r| r.get(0).map(str::to_string))).collect()
    }

    fn remove_leftovers(&self) {
        // Lists live at the top, split and group lists and changes one
        // folder down, the keys of the last exports in .audience/keys.
        let mut dirs = vec![self.dir.clone(), self.meta.clone(), self.meta.join("keys")];
        if let Ok(entries) = fs::read_dir(&self.dir) {
            dirs.extend(entries.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.path()).filter(|p| *p != self.meta));
        }
        for dir in &dirs {
            let Ok(entries) = fs::read_dir(dir) else { continue };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.starts_with(TEMP_PREFIX) || is_legacy_temp(&name) {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
    }
}

/// `.ALIAS.csv.tmp-PID`, the temporary names of earlier versions.
fn is_legacy_temp(name: &str) -> bool {
    name.starts_with('.') && name.rsplit_once(".tmp-").is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// An unused name beside `path`, under the temporary prefix.
fn sibling(path: &Path, what: &str) -> PathBuf {
    path.with_file_name(format!("{TEMP_PREFIX}{:016x}.{what}", rand::random::<u64>()))
}

/// Puts back the lists of renamed entries; returns what to tell the user.
fn undo(renamed: &[Entry]) -> String {
    let mut failed = Vec::new();
    for e in renamed.iter().rev() {
        let r = match &e.backup {
            Some(b) => fs::rename(b, &e.target),
            None => fs::remove_file(&e.target),
        };
        if let Err(err) = r {
            failed.push(format!("{} ({err})", e.target.display()));
        }
    }
    sync_dirs(renamed);
    if failed.is_empty() {
        "every list was left as it was before this run".to_string()
    } else {
        format!("these lists could not be put back: {}", failed.join(", "))
    }
}

/// Removes the files of entries that were never renamed: the temporary
/// list, and the second name of the list it would have replaced (which
/// keeps its own name).
fn discard(entries: &[Entry]) {
    for e in entries {
        let _ = fs::remove_file(&e.tmp);
        if let Some(b) = &e.backup {
            let _ = fs::remove_file(b);
        }
    }
}

fn sync_dirs(entries: &[Entry]) {
    let mut dirs: Vec<&Path> = entries.iter().filter_map(|e| e.target.parent()).collect();
    dirs.dedup();
    for d in dirs {
        sync_dir(d);
    }
}

/// Makes renames in a folder durable.
fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
