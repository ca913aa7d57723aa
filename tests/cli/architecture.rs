//! The layering of `src/` as ARCHITECTURE.md states it: every module in its
//! table, imports only sideways or down, and no loop among them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Layer of each top-level module, from the `| N | `module` | … |` rows of ARCHITECTURE.md.
fn layers() -> BTreeMap<String, u32> {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut out = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() > 3 {
            if let (Ok(layer), Some(name)) = (cells[1].parse::<u32>(), cells[2].strip_prefix('`').and_then(|c| c.strip_suffix('`'))) {
                out.insert(name.trim_end_matches(".rs").trim_end_matches('/').to_string(), layer);
            }
        }
    }
    out
}

/// Source of each top-level module (a file or a folder), unit tests left out.
fn modules() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(&src).unwrap();
            let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
            if top == "bin" || top == "main" || top == "lib" {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("").to_string();
                out.entry(top).or_default().push_str(&code);
            }
        }
    }
    out
}

fn imports(code: &str, known: &BTreeMap<String, String>) -> BTreeSet<String> {
    code.match_indices("crate::")
        .map(|(i, m)| code[i + m.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>())
        .filter(|name| known.contains_key(name))
        .collect()
}

#[test]
fn modules_import_only_sideways_or_down_and_never_in_a_loop() {
    let layers = layers();
    let modules = modules();
    let graph: BTreeMap<&str, BTreeSet<String>> =
        modules.iter().map(|(m, code)| (m.as_str(), imports(code, &modules).into_iter().filter(|d| d != m).collect())).collect();
    let mut problems = Vec::new();
    for (m, deps) in &graph {
        let Some(&layer) = layers.get(*m) else {
            problems.push(format!("`{m}` is missing from the module table of ARCHITECTURE.md"));
            continue;
        };
        for d in deps {
            if layers.get(d).is_some_and(|&l| l > layer) {
                problems.push(format!("`{m}` (layer {layer}) imports `{d}` (layer {})", layers[d]));
            }
        }
    }
    for m in layers.keys() {
        if !graph.contains_key(m.as_str()) {
            problems.push(format!("ARCHITECTURE.md lists `{m}`, which is not in src/"));
        }
    }
    // A loop: a module that reaches itself through its imports.
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<(String, Vec<String>)> = graph[start].iter().map(|d| (d.clone(), vec![start.to_string(), d.clone()])).collect();
        while let Some((m, path)) = todo.pop() {
            if m == *start {
                problems.push(format!("import loop: {}", path.join(" → ")));
                break;
            }
            if seen.insert(m.clone()) {
                for d in graph.get(m.as_str()).into_iter().flatten() {
                    let mut p = path.clone();
                    p.push(d.clone());
                    todo.push((d.clone(), p));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The plan is what every backend reads: no polars type may leak into it.
#[test]
fn the_plan_names_no_polars_type() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/plan");
    let mut files = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        files += 1;
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            assert!(
                !code.contains("polars") && !code.contains("crate::backend"),
                "{}:{}: the plan uses polars or a backend: {line}",
                e.path().display(),
                i + 1
            );
        }
    }
    assert!(files >= 3, "src/plan has {files} files");
}
