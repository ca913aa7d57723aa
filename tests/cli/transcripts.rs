//! The README's console blocks and every example of `--help`, run for real
//! on a copy of the sample project, so that pasted output cannot go stale.
//!
//! A console block is a list of `$ command` lines, each followed by the
//! output it prints (stdout and stderr as a terminal shows them, merged). In
//! the expected output a line holding only `…` stands for any number of
//! lines. An HTML comment just before a block can prepare its folder and
//! hide what the prose says is left out:
//!
//! ```text
//! <!-- transcript
//! setup: audience run newsletter
//! hide: data notes
//! -->
//! ```
//!
//! Each block runs in a fresh copy of the sample (with `docs/examples/`),
//! its setup commands first (each must succeed). Commands run under bash,
//! with the built `audience` first on the PATH, so pipes and redirections
//! work as in the README. We run them ourselves rather than with `trycmd`,
//! which neither runs shell pipelines nor prepares a folder per block.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{sample, Work};

struct Step {
    command: String,
    expected: Vec<String>,
}

struct Block {
    /// The line of the README the block starts on, for messages.
    line: usize,
    setup: Vec<String>,
    hide_notes: bool,
    steps: Vec<Step>,
}

/// The console blocks of a Markdown text, with their directives.
fn console_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut setup = Vec::new();
    let mut hide_notes = false;
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim();
        if trimmed == "<!-- transcript" {
            for (_, l) in lines.by_ref() {
                let l = l.trim();
                if l == "-->" {
                    break;
                }
                if let Some(cmd) = l.strip_prefix("setup:") {
                    setup.push(cmd.trim().to_string());
                } else if l == "hide: data notes" {
                    hide_notes = true;
                } else {
                    panic!("README.md:{}: unknown transcript directive {l:?}", i + 1);
                }
            }
        } else if trimmed == "```console" {
            let mut steps: Vec<Step> = Vec::new();
            for (_, l) in lines.by_ref() {
                if l.trim_start().starts_with("```") {
                    break;
                }
                if let Some(cmd) = l.strip_prefix("$ ") {
                    steps.push(Step { command: cmd.to_string(), expected: Vec::new() });
                } else {
                    let step = steps.last_mut().unwrap_or_else(|| panic!("README.md:{}: a console block must start with a `$ ` command", i + 1));
                    step.expected.push(l.trim_end().to_string());
                }
            }
            blocks.push(Block { line: i + 1, setup: std::mem::take(&mut setup), hide_notes: std::mem::take(&mut hide_notes), steps });
        } else if !trimmed.is_empty() && (!setup.is_empty() || hide_notes) {
            // A directive belongs to the block right after it.
            if !trimmed.starts_with("<!--") {
                panic!("README.md:{}: a transcript comment must come right before its console block", i + 1);
            }
        }
    }
    blocks
}

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_audience")).parent().expect("bin dir").to_path_buf()
}

/// Runs a shell command in the work folder: status and merged output.
fn shell(w: &Work, cmd: &str) -> (i32, String) {
    let path = format!("{}:{}", bin_dir().display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .args(["-o", "pipefail", "-c", &format!("exec 2>&1\n{cmd}")])
        .current_dir(w.root())
        .env("PATH", path)
        .env("HOME", w.path("home"))
        .env_remove("AUDIENCE_WIDTH")
        .env_remove("AUDIENCE_TIMINGS")
        .output()
        .expect("run bash");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The output as the README shows it: trailing spaces and blank lines gone,
/// and the data notes too when the block hides them.
fn shown(output: &str, hide_notes: bool) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut in_notes = false;
    for l in output.lines() {
        if hide_notes && l == "data notes:" {
            in_notes = true;
            continue;
        }
        if in_notes && l.starts_with("  - ") {
            continue;
        }
        in_notes = false;
        lines.push(l.trim_end().to_string());
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// Whether the lines match the expected ones, where a line `…` matches any
/// number of lines.
fn matches(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e == "…" => (0..=actual.len()).any(|skip| matches(rest, &actual[skip..])),
        Some((e, rest)) => actual.split_first().is_some_and(|(a, more)| a == e && matches(rest, more)),
    }
}

#[test]
fn the_wildcard_line_matches_any_run_of_lines() {
    let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(matches(&v(&["a", "…", "d"]), &v(&["a", "b", "c", "d"])));
    assert!(matches(&v(&["a", "…"]), &v(&["a"])));
    assert!(!matches(&v(&["a", "…", "d"]), &v(&["a", "b", "c"])));
    assert!(!matches(&v(&["a", "b"]), &v(&["a", "b", "c"])));
}

#[test]
fn readme_console_blocks_print_what_they_show() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README.md");
    let blocks = console_blocks(&readme);
    assert!(blocks.len() >= 10, "found only {} console blocks in README.md", blocks.len());
    let mut failures = Vec::new();
    for b in &blocks {
        let w = sample();
        // The README's broken segment lives apart from the sample's own.
        w.copy_from_repo("docs/examples");
        for cmd in &b.setup {
            let (code, out) = shell(&w, cmd);
            assert_eq!(code, 0, "README.md:{}: setup `{cmd}` failed:\n{out}", b.line);
        }
        for s in &b.steps {
            let (_, out) = shell(&w, &s.command);
            let actual = shown(&out, b.hide_notes);
            if !matches(&s.expected, &actual) {
                failures.push(format!(
                    "README.md:{}: `$ {}` printed:\n{}\n--- the README shows:\n{}",
                    b.line,
                    s.command,
                    actual.join("\n"),
                    s.expected.join("\n")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} README transcript(s) differ:\n\n{}", failures.len(), failures.join("\n\n"));
}

/// The `Examples:` lines of a help text, without their comments.
fn examples(help: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for l in help.lines() {
        if l.trim_end() == "Examples:" {
            inside = true;
            continue;
        }
        if inside {
            let Some(cmd) = l.strip_prefix("  ").filter(|c| c.starts_with("audience")) else {
                inside = false;
                continue;
            };
            // The top-level help comments each example after a wide gap.
            let cmd = cmd.split("  ").next().unwrap_or(cmd).trim_end();
            out.push(cmd.to_string());
        }
    }
    out
}

/// The subcommands `audience --help` lists.
fn subcommands() -> Vec<String> {
    let help = Work::new().run(&["--help"]).stdout;
    let mut out = Vec::new();
    let mut inside = false;
    for l in help.lines() {
        if l.starts_with("Commands:") {
            inside = true;
        } else if inside {
            match l.strip_prefix("  ").and_then(|l| l.split_whitespace().next()) {
                Some("help") => {}
                Some(name) => out.push(name.to_string()),
                None => break,
            }
        }
    }
    out
}

/// Every example of `audience --help` and `audience COMMAND --help` runs
/// on a copy of the sample project and succeeds: `init` in a copy without
/// its audience.yaml (its exports moved to `exports/` when the example
/// names that folder), redirections into folders that exist.
#[test]
fn every_help_example_runs() {
    let commands = subcommands();
    assert!(commands.iter().any(|c| c == "init") && commands.iter().any(|c| c == "values"), "subcommands not found: {commands:?}");
    let mut all = examples(&Work::new().run(&["--help"]).stdout);
    for c in &commands {
        let help = Work::new().run(&[c.as_str(), "--help"]);
        help.ok();
        all.extend(examples(&help.stdout));
    }
    assert!(all.len() >= 25, "found only {} examples", all.len());
    let mut failures = Vec::new();
    for ex in &all {
        let w = sample();
        std::fs::create_dir_all(w.path("home")).unwrap();
        if ex.starts_with("audience init") {
            std::fs::remove_file(w.path("audience.yaml")).unwrap();
            std::fs::remove_dir_all(w.path("segments")).unwrap();
            if ex.contains("exports/") {
                std::fs::rename(w.path("sample-data"), w.path("exports")).unwrap();
            }
        }
        for target in ex.split('>').skip(1) {
            let target = target.split_whitespace().next().unwrap_or_default().replace('~', "home");
            if let Some(parent) = Path::new(&target).parent() {
                std::fs::create_dir_all(w.path(&parent.to_string_lossy())).unwrap();
            }
        }
        let (code, out) = shell(&w, ex);
        if code != 0 {
            failures.push(format!("`{ex}` exited {code}:\n{out}"));
        }
    }
    assert!(failures.is_empty(), "{} help example(s) fail:\n\n{}", failures.len(), failures.join("\n\n"));
}
