//! The RFM chart as a standalone SVG: contacts and revenue share per class,
//! and the recency × frequency grid as a heat map. Hand-written SVG keeps the
//! build free of font and image libraries.

use std::fmt::Write;

use crate::rfm::ClassRow;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('\'', "&#39;")
}

pub fn svg(rows: &[ClassRow], grid: &[Vec<u64>]) -> String {
    let bar_h = 22.0;
    let left = 170.0;
    let width = 900.0;
    let bars_top = 60.0;
    let bars_height = rows.len() as f64 * bar_h;
    let grid_top = bars_top + bars_height + 70.0;
    let cell = 56.0;
    let cols = grid.first().map(Vec::len).unwrap_or(0);
    let height = grid_top + grid.len() as f64 * cell + 60.0;
    let max_share = rows.iter().map(|r| r.contact_share.max(r.revenue_share)).fold(0.0, f64::max).max(1e-9);
    let max_cell = grid.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let span = width - left - 120.0;

    let mut s = String::new();
    let _ = write!(s, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#);
    let _ = write!(s, r#"<rect width="100%" height="100%" fill="white"/><text x="20" y="28" font-size="18" font-weight="bold">RFM classes</text>"#);
    let _ = write!(
        s,
        r##"<rect x="{left}" y="38" width="12" height="12" fill="#3b6ea5"/><text x="{}" y="48">share of contacts</text><rect x="{}" y="38" width="12" height="12" fill="#e39b3b"/><text x="{}" y="48">share of revenue</text>"##,
        left + 16.0,
        left + 150.0,
        left + 166.0
    );
    for (i, r) in rows.iter().enumerate() {
        let y = bars_top + i as f64 * bar_h;
        let wc = r.contact_share / max_share * span;
        let wr = r.revenue_share / max_share * span;
        let _ = write!(s, r##"<text x="{}" y="{}" text-anchor="end">{}</text>"##, left - 8.0, y + 15.0, esc(&r.class));
        let _ = write!(s, r##"<rect x="{left}" y="{}" width="{wc:.1}" height="9" fill="#3b6ea5"/>"##, y + 3.0);
        let _ = write!(s, r##"<rect x="{left}" y="{}" width="{wr:.1}" height="9" fill="#e39b3b"/>"##, y + 12.0);
        let _ = write!(s, r##"<text x="{:.1}" y="{}">{} ({:.1}%)</text>"##, left + wc.max(wr) + 6.0, y + 16.0, r.contacts, r.contact_share * 100.0);
    }
    let _ =
        write!(s, r#"<text x="20" y="{}" font-size="16" font-weight="bold">Contacts by recency (rows) and frequency (columns) score</text>"#, grid_top - 24.0);
    for (ri, row) in grid.iter().enumerate().rev() {
        let y = grid_top + (grid.len() - 1 - ri) as f64 * cell;
        let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="end">R{}</text>"#, left - 8.0, y + cell / 2.0 + 4.0, ri + 1);
        for (fi, n) in row.iter().enumerate() {
            let x = left + fi as f64 * cell;
            let t = *n as f64 / max_cell;
            let shade = (245.0 - t * 190.0) as u8;
            let fg = if t > 0.55 { "white" } else { "black" };
            let _ =
                write!(s, r#"<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="rgb({shade},{},{})" stroke="white"/>"#, (250.0 - t * 150.0) as u8, 255);
            let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="middle" fill="{fg}">{n}</text>"#, x + cell / 2.0, y + cell / 2.0 + 4.0);
        }
    }
    for fi in 0..cols {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">F{}</text>"#,
            left + fi as f64 * cell + cell / 2.0,
            grid_top + grid.len() as f64 * cell + 18.0,
            fi + 1
        );
    }
    s.push_str("</svg>\n");
    s
}
