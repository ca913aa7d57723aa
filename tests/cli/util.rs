//! A fresh folder per test, files written inline, the real binary run in it.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Work {
    dir: tempfile::TempDir,
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Asserts the exit status, showing both streams when it differs.
    pub fn code(&self, want: i32) -> &Self {
        assert_eq!(self.code, want, "exit status {} (wanted {want})\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr);
        self
    }

    pub fn ok(&self) -> &Self {
        self.code(0)
    }

    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}\n--- stderr\n{}\n--- stdout\n{}", self.stderr, self.stdout);
        self
    }

    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(self.stdout.contains(needle), "stdout lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }
}

impl Work {
    pub fn new() -> Work {
        Work { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes a file (text), creating its folders.
    pub fn file(&self, rel: &str, contents: &str) -> &Self {
        self.bytes(rel, contents.as_bytes())
    }

    pub fn bytes(&self, rel: &str, contents: &[u8]) -> &Self {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, contents).expect("write");
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }

    /// Runs `audience ARGS` in the folder.
    pub fn run(&self, args: &[&str]) -> Out {
        self.run_env(&[], args)
    }

    /// Runs `audience ARGS` in the folder with extra environment variables.
    pub fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> Out {
        let out = Command::new(env!("CARGO_BIN_EXE_audience")).args(args).envs(env.iter().copied()).current_dir(self.root()).output().expect("run audience");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The keys (first column) of an exported CSV list, in file order.
    pub fn list_keys(&self, rel: &str) -> Vec<String> {
        let text = self.read(rel);
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        rdr.records().map(|r| r.expect("csv row")[0].to_string()).collect()
    }

    /// Every file directly in out/ (the lists, not the audit trail), by
    /// name, with its bytes: to check that a failed run changed none.
    pub fn lists(&self) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(self.path("out"))
            .map(|d| {
                d.flatten().filter(|e| e.path().is_file()).map(|e| (e.file_name().to_string_lossy().to_string(), std::fs::read(e.path()).unwrap())).collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// Members of a segment: `run ALIAS` then the keys of out/ALIAS.csv.
    /// Projects made with `project()` have no consent, suppression or
    /// invalid keys, so recipients are the members.
    pub fn members(&self, alias: &str) -> Vec<String> {
        self.run(&["run", alias]).ok();
        self.list_keys(&format!("out/{alias}.csv"))
    }

    /// `count --format json` parsed.
    pub fn counts(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let mut a = vec!["count", "--format", "json"];
        a.extend_from_slice(args);
        let out = self.run(&a);
        out.ok();
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out.stdout))
    }

    /// A small project: `contacts.csv` keyed by `email`, an `orders` table
    /// (`orders.csv`, key email, date ordered_at, amount, id order_id), and
    /// the given segment files under segments/.
    pub fn project(contacts: &str, orders: &str, segments: &[(&str, &str)]) -> Work {
        let w = Work::new();
        w.file(
            "audience.yaml",
            "contacts: {path: contacts.csv, key: email}\n\
             tables:\n  orders: {path: orders.csv, key: email, date: ordered_at, amount: amount, id: order_id}\n\
             segments: segments\noutput: out\nas_of: 2025-06-30\ntimezone: Europe/Paris\n",
        );
        w.file("contacts.csv", contents_or(contacts, "email\n"));
        w.file("orders.csv", contents_or(orders, "order_id,email,ordered_at,amount\n"));
        std::fs::create_dir_all(w.path("segments")).expect("mkdir");
        for (name, yaml) in segments {
            w.file(&format!("segments/{name}.yaml"), yaml);
        }
        w
    }
}

/// A copy of the bundled sample project (audience.yaml, segments/,
/// sample-data/).
pub fn sample() -> Work {
    let w = Work::new();
    w.copy_from_repo("segments");
    w.copy_from_repo("sample-data");
    w.copy_from_repo("audience.yaml");
    w
}

impl Work {
    /// Copies a file or folder of this repository into the work folder, at
    /// the same relative path.
    pub fn copy_from_repo(&self, rel: &str) -> &Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        fn copy(w: &Work, root: &Path, rel: &str) {
            let p = root.join(rel);
            if p.is_dir() {
                for e in std::fs::read_dir(&p).unwrap() {
                    let name = format!("{rel}/{}", e.unwrap().file_name().to_string_lossy());
                    copy(w, root, &name);
                }
            } else {
                w.bytes(rel, &std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {rel}: {e}")));
            }
        }
        copy(self, root, rel);
        self
    }
}

fn contents_or<'a>(s: &'a str, default: &'a str) -> &'a str {
    if s.is_empty() {
        default
    } else {
        s
    }
}
