//! The clusters as a standalone SVG scatter chart, on the two features
//! that separate them best (the highest ratio of between- to within-cluster
//! variance), in the features' own units. Hand-written SVG, as for RFM.

use std::fmt::Write;

use crate::cluster::Points;

const PALETTE: &[&str] = &["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
/// At most this many points are drawn (every n-th), so the file stays small.
const MAX_POINTS: usize = 5000;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Between- over within-cluster variance of feature `j` (noise left out).
fn separation(p: &Points, labels: &[usize], j: usize) -> f64 {
    let k = labels.iter().copied().max().unwrap_or(0);
    let (mut sum, mut n) = (vec![0.0; k + 1], vec![0usize; k + 1]);
    for (r, l) in p.rows().zip(labels) {
        sum[*l] += r[j];
        n[*l] += 1;
    }
    let kept: usize = n[1..].iter().sum();
    if kept == 0 {
        return 0.0;
    }
    let grand = sum[1..].iter().sum::<f64>() / kept as f64;
    let between: f64 = (1..=k).filter(|c| n[*c] > 0).map(|c| n[c] as f64 * (sum[c] / n[c] as f64 - grand).powi(2)).sum();
    let within: f64 = p.rows().zip(labels).filter(|(_, l)| **l > 0).map(|(r, l)| (r[j] - sum[*l] / n[*l] as f64).powi(2)).sum();
    if within > 0.0 {
        between / within
    } else if between > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// The two features drawn: the best separating first (the only one twice
/// when there is one feature).
pub fn axes(p: &Points, labels: &[usize]) -> (usize, usize) {
    let mut order: Vec<usize> = (0..p.dims).collect();
    let score: Vec<f64> = order.iter().map(|j| separation(p, labels, *j)).collect();
    order.sort_by(|a, b| score[*b].total_cmp(&score[*a]).then(a.cmp(b)));
    (order[0], *order.get(1).unwrap_or(&order[0]))
}

pub fn svg(p: &Points, labels: &[usize], names: &[&str]) -> String {
    let (x, y) = axes(p, labels);
    let (w, h, left, top, right, bottom) = (760.0, 560.0, 80.0, 50.0, 150.0, 60.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let range = |j: usize| {
        let lo = p.rows().map(|r| r[j]).fold(f64::INFINITY, f64::min);
        let hi = p.rows().map(|r| r[j]).fold(f64::NEG_INFINITY, f64::max);
        if lo.is_finite() && hi > lo {
            (lo, hi)
        } else {
            (lo.min(0.0), lo.max(0.0) + 1.0)
        }
    };
    let ((x0, x1), (y0, y1)) = (range(x), range(y));
    let sx = |v: f64| left + (v - x0) / (x1 - x0) * pw;
    let sy = |v: f64| top + ph - (v - y0) / (y1 - y0) * ph;
    let mut s = String::new();
    let _ = write!(s, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#);
    let _ = write!(s, r#"<rect width="100%" height="100%" fill="white"/><text x="20" y="28" font-size="18" font-weight="bold">Clusters</text>"#);
    let _ = write!(s, r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>"##);
    let stride = p.len().div_ceil(MAX_POINTS).max(1);
    for (i, (r, l)) in p.rows().zip(labels).enumerate().step_by(stride) {
        let _ = i;
        let colour = if *l == 0 { "#bbbbbb" } else { PALETTE[(l - 1) % PALETTE.len()] };
        let _ = write!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{colour}" fill-opacity="0.6"/>"#, sx(r[x]), sy(r[y]));
    }
    let tick = |v: f64| if v.fract() == 0.0 { format!("{v}") } else { format!("{v:.2}") };
    let _ = write!(s, r#"<text x="{left}" y="{}" >{}</text>"#, top + ph + 18.0, tick(x0));
    let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#, left + pw, top + ph + 18.0, tick(x1));
    let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="middle" font-weight="bold">{}</text>"#, left + pw / 2.0, top + ph + 40.0, esc(names[x]));
    let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#, left - 6.0, top + ph, tick(y0));
    let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#, left - 6.0, top + 10.0, tick(y1));
    let _ = write!(
        s,
        r#"<text transform="translate({},{}) rotate(-90)" text-anchor="middle" font-weight="bold">{}</text>"#,
        left - 50.0,
        top + ph / 2.0,
        esc(names[y])
    );
    let mut numbers: Vec<usize> = labels.to_vec();
    numbers.sort_unstable();
    numbers.dedup();
    for (i, n) in numbers.iter().enumerate() {
        let count = labels.iter().filter(|l| *l == n).count();
        let colour = if *n == 0 { "#bbbbbb" } else { PALETTE[(n - 1) % PALETTE.len()] };
        let ly = top + 10.0 + i as f64 * 20.0;
        let label = if *n == 0 { format!("noise ({count})") } else { format!("cluster {n} ({count})") };
        let _ =
            write!(s, r#"<circle cx="{}" cy="{ly}" r="5" fill="{colour}"/><text x="{}" y="{}">{label}</text>"#, left + pw + 20.0, left + pw + 32.0, ly + 4.0);
    }
    if stride > 1 {
        let _ = write!(s, r##"<text x="{left}" y="{}" fill="#666">every {stride}th contact drawn</text>"##, h - 8.0);
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axes_are_the_features_that_separate_the_clusters() {
        // Feature 1 splits the clusters; features 0 and 2 are noise within them.
        let p = Points::new(3, vec![1.0, 0.0, 5.0, 2.0, 0.1, 4.0, 1.5, 10.0, 5.0, 2.5, 10.1, 4.5]);
        assert_eq!(axes(&p, &[1, 1, 2, 2]).0, 1);
        let svg = svg(&p, &[1, 1, 2, 2], &["a", "b<c", "d"]);
        assert!(svg.contains("b&lt;c") && svg.contains("cluster 2 (2)"));
    }
}
