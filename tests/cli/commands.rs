//! Commands end to end: exit statuses, outputs, atomic writes.

use crate::util::Work;

#[test]
fn help_lists_every_command() {
    let out = Work::new().run(&["--help"]);
    out.ok();
    for c in ["run", "count", "show", "check", "test", "rfm", "fields"] {
        out.stdout_has(&format!("  {c} "));
    }
}
