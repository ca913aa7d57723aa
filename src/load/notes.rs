//! The "data notes": what loading found odd about the exports (skipped rows,
//! unreadable cells, orphans), shown on stderr so nothing is lost silently.

#[derive(Default, Debug)]
pub struct Notes {
    lines: Vec<String>,
}

impl Notes {
    pub fn add(&mut self, line: impl Into<String>) {
        let line = line.into();
        if !self.lines.contains(&line) {
            self.lines.push(line);
        }
    }

    /// Prints the block on stderr, if there is anything to say.
    pub fn print(&self) {
        if self.lines.is_empty() {
            return;
        }
        eprintln!("data notes:");
        for l in &self.lines {
            eprintln!("  - {l}");
        }
    }
}
