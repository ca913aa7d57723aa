//! RFM scores and classes (spec section 6).
//!
//! Scores follow the R package `rfm` 0.3.0 (`rfm_table_order`), so that an
//! analyst checking against it gets the same numbers:
//!
//! 1. Cut points are R's type 7 quantiles of the per-contact values at
//!    1/n, 2/n, …, (n−1)/n, each plus 1; or, given thresholds, the thresholds
//!    as written (one more bin than cuts).
//! 2. Bin i holds `lower_i <= v < upper_i`, lowers `(min, cut1, …)`, uppers
//!    `(cut1, …, max + 1)`. Equal values share a bin, bins may be empty and
//!    nothing is re-ranked.
//! 3. Frequency and monetary score = bin; recency score = n + 1 − bin.
//!
//! Degenerate data, as the R package behaves (never a panic):
//! - **All values of a dimension equal** (v): every cut point is v + 1, so
//!   everyone lands in bin 1: frequency and monetary score 1, recency score n
//!   (the top score, since recency is reversed).
//! - **A single customer** is the same case in every dimension: scores
//!   (n, 1, 1), which the `standard` preset classes as `New Customers`.
//! - **No contact with a dated row**: nobody is scored.
//! - A contact whose frequency or monetary value is not finite (NaN, ±∞), or
//!   whose recency is missing or not finite, gets no score and takes no part
//!   in the quantiles, the minimum or the maximum.
//! - `bins` below 1 is read as 1 (one bin, everyone scores 1); validation
//!   elsewhere keeps it within 2..=9.
//! - Thresholds are expected ascending (validated with the project file);
//!   out of order, the R loop's rule applies: the last bin whose range holds
//!   the value wins.

/// One class of a classification: a name and inclusive score ranges.
#[derive(Clone, Debug)]
pub struct ClassDef {
    pub name: String,
    pub r: (u32, u32),
    pub f: (u32, u32),
    pub m: (u32, u32),
}

/// Validated RFM settings.
#[derive(Clone, Debug)]
pub struct RfmConfig {
    /// Bins for recency, frequency, monetary; each 2..=9. Ignored for a
    /// dimension whose thresholds are given (bins = cuts + 1 there).
    pub bins: [u32; 3],
    /// Ascending cut points per dimension (recency, frequency, monetary),
    /// used as written instead of quantiles.
    pub thresholds: Option<[Vec<f64>; 3]>,
    pub classes: Vec<ClassDef>,
}

/// The class of a contact with orders whose scores match no class, or who
/// has orders but no dated row.
pub const OTHERS: &str = "Others";
/// The class of a contact without orders.
pub const NO_PURCHASE: &str = "No purchase";

const PRESETS: &[&str] = &["standard", "quadrants", "tiers"];

/// The names `classes:` accepts instead of a list.
pub fn preset_names() -> &'static [&'static str] {
    PRESETS
}

fn class(name: &str, r: (u32, u32), f: (u32, u32), m: (u32, u32)) -> ClassDef {
    ClassDef { name: name.to_string(), r, f, m }
}

/// Preset by name ("standard", "quadrants", "tiers"). The presets are defined
/// for 5 bins in each dimension; any other bin count is an error asking for
/// explicit classes.
pub fn preset(name: &str, bins: [u32; 3]) -> Result<Vec<ClassDef>, String> {
    if !PRESETS.contains(&name) {
        return Err(format!(
            "unknown RFM classes preset `{name}`; use one of {}, or a list of {{name, r: [lo, hi], f: [lo, hi], m: [lo, hi]}}",
            PRESETS.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    if bins != [5, 5, 5] {
        return Err(format!(
            "the RFM classes preset `{name}` is defined for 5 bins in each dimension, but bins are \
             recency {}, frequency {}, monetary {}; give `classes` as a list of \
             {{name, r: [lo, hi], f: [lo, hi], m: [lo, hi]}} for these bins",
            bins[0], bins[1], bins[2]
        ));
    }
    let all = (1, 5);
    Ok(match name {
        // The map of the R package 0.3.0, in its order.
        "standard" => vec![
            class("Champions", (5, 5), (5, 5), (5, 5)),
            class("Potential Loyalist", (3, 5), (3, 5), (2, 5)),
            class("Loyal Customers", (2, 4), (2, 4), (2, 4)),
            class("Promising", (3, 4), (1, 3), (3, 5)),
            class("New Customers", (4, 5), (1, 3), (1, 5)),
            class("Can't Lose Them", (1, 2), (3, 4), (4, 5)),
            class("At Risk", (1, 2), (2, 5), (4, 5)),
            class("Need Attention", (1, 3), (3, 5), (3, 5)),
            class("About To Sleep", (2, 3), (1, 3), (1, 4)),
            class("Lost", (1, 1), (1, 5), (1, 5)),
        ],
        "quadrants" => vec![
            class("Loyal big spenders", all, (3, 5), (3, 5)),
            class("Loyal small spenders", all, (3, 5), (1, 2)),
            class("Occasional big spenders", all, (1, 2), (3, 5)),
            class("Occasional small spenders", all, (1, 2), (1, 2)),
        ],
        _ => vec![
            class("Very good customers", all, (4, 5), (4, 5)),
            class("Good customers", all, (3, 5), (3, 5)),
            class("Average customers", all, (2, 5), (2, 5)),
            class("Occasional customers", all, (1, 5), (1, 5)),
        ],
    })
}

/// One contact's inputs: `None` recency_days when the contact has no dated row.
#[derive(Clone, Debug, PartialEq)]
pub struct RfmInput {
    pub recency_days: Option<f64>,
    pub frequency: f64,
    pub monetary: f64,
}

/// Scores 1..=bins per dimension, recency first.
#[derive(Clone, Debug, PartialEq)]
pub struct RfmScore {
    pub r: u32,
    pub f: u32,
    pub m: u32,
}

/// The number of bins each dimension really has: `cuts + 1` where
/// thresholds are given, else `bins` (at least 1).
pub fn bin_counts(cfg: &RfmConfig) -> [u32; 3] {
    std::array::from_fn(|d| match &cfg.thresholds {
        Some(t) => t[d].len() as u32 + 1,
        None => cfg.bins[d].max(1),
    })
}

/// The contact's three values when it takes part in scoring.
fn scored_values(input: &RfmInput) -> Option<[f64; 3]> {
    let values = [input.recency_days?, input.frequency, input.monetary];
    values.iter().all(|v| v.is_finite()).then_some(values)
}

/// R's `quantile(x, p)` with the default type 7, on sorted, non-empty `x`.
fn quantile_type7(sorted: &[f64], p: f64) -> f64 {
    let index = 1.0 + (sorted.len() - 1) as f64 * p;
    let lo = index.floor();
    let hi = index.ceil();
    let x_lo = sorted[lo as usize - 1];
    let x_hi = sorted[(hi as usize).min(sorted.len()) - 1];
    if index > lo && x_hi != x_lo {
        // R's own arithmetic, so cut points agree to the last bit.
        let h = index - lo;
        (1.0 - h) * x_lo + h * x_hi
    } else {
        x_lo
    }
}

/// Cut points of one dimension from quantiles: at i/n (as R's
/// `seq(0, 1, length.out = n + 1)` computes them), plus 1.
fn quantile_cuts(sorted: &[f64], bins: u32) -> Vec<f64> {
    let step = 1.0 / bins as f64;
    (1..bins).map(|i| quantile_type7(sorted, i as f64 * step) + 1.0).collect()
}

/// The bins of one dimension as (lower, upper) pairs.
struct Bins(Vec<(f64, f64)>);

impl Bins {
    fn new(cuts: &[f64], min: f64, max: f64) -> Bins {
        let lowers = std::iter::once(min).chain(cuts.iter().copied());
        let uppers = cuts.iter().copied().chain(std::iter::once(max + 1.0));
        Bins(lowers.zip(uppers).collect())
    }

    /// 1-based bin of `v`. The last bin whose range holds `v` wins, as in R's
    /// loop; ranges never overlap when the cuts ascend. A value no range
    /// holds (only when `max + 1 == max` in floating point) goes to the top.
    fn of(&self, v: f64) -> u32 {
        let found = self.0.iter().rposition(|&(lo, up)| lo <= v && v < up);
        found.unwrap_or(self.0.len() - 1) as u32 + 1
    }
}

/// Cut points per dimension (recency, frequency, monetary) for these inputs:
/// quantiles over the contacts with a dated row, or the thresholds as
/// written. `None` when no contact has a dated row and no thresholds are set.
pub fn cut_points(inputs: &[RfmInput], cfg: &RfmConfig) -> Option<[Vec<f64>; 3]> {
    if let Some(t) = &cfg.thresholds {
        return Some(t.clone());
    }
    let rows: Vec<[f64; 3]> = inputs.iter().filter_map(scored_values).collect();
    if rows.is_empty() {
        return None;
    }
    Some(std::array::from_fn(|d| {
        let mut values: Vec<f64> = rows.iter().map(|row| row[d]).collect();
        values.sort_by(f64::total_cmp);
        quantile_cuts(&values, cfg.bins[d].max(1))
    }))
}

/// Scores every input (`None` where recency_days is `None`, or a value is not
/// finite). See the module documentation for the algorithm and edge cases.
pub fn score(inputs: &[RfmInput], cfg: &RfmConfig) -> Vec<Option<RfmScore>> {
    let rows: Vec<Option<[f64; 3]>> = inputs.iter().map(scored_values).collect();
    let Some(cuts) = cut_points(inputs, cfg) else {
        return vec![None; inputs.len()];
    };
    let scored: Vec<&[f64; 3]> = rows.iter().flatten().collect();
    if scored.is_empty() {
        return vec![None; inputs.len()];
    }
    let bins: [Bins; 3] = std::array::from_fn(|d| {
        let (min, max) = scored.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), row| (lo.min(row[d]), hi.max(row[d])));
        Bins::new(&cuts[d], min, max)
    });
    let recency_bins = bins[0].0.len() as u32;
    rows.iter()
        .map(|row| {
            let [r, f, m] = (*row)?;
            Some(RfmScore { r: recency_bins + 1 - bins[0].of(r), f: bins[1].of(f), m: bins[2].of(m) })
        })
        .collect()
}

/// First class whose three inclusive ranges hold, else "Others".
pub fn classify<'a>(s: &RfmScore, classes: &'a [ClassDef]) -> &'a str {
    class_index(s, classes).map_or(OTHERS, |i| classes[i].name.as_str())
}

/// Position of the first class whose three inclusive ranges hold.
fn class_index(s: &RfmScore, classes: &[ClassDef]) -> Option<usize> {
    let within = |v: u32, (lo, hi): (u32, u32)| lo <= v && v <= hi;
    classes.iter().position(|c| within(s.r, c.r) && within(s.f, c.f) && within(s.m, c.m))
}

/// The three scores as digits, recency first: `"543"`.
pub fn score_text(s: &RfmScore) -> String {
    format!("{}{}{}", s.r, s.f, s.m)
}

/// One row of the class table (spec section 6).
#[derive(Clone, Debug, PartialEq)]
pub struct ClassRow {
    pub class: String,
    pub contacts: u64,
    /// contacts / all contacts.
    pub contact_share: f64,
    /// Sum of frequency.
    pub orders: f64,
    /// Sum of monetary.
    pub revenue: f64,
    /// revenue / revenue of all contacts.
    pub revenue_share: f64,
    pub recency_mean: Option<f64>,
    pub recency_sd: Option<f64>,
    pub frequency_mean: Option<f64>,
    pub frequency_sd: Option<f64>,
    pub monetary_mean: Option<f64>,
    pub monetary_sd: Option<f64>,
}

/// Mean and sample standard deviation (n − 1) of the values.
#[derive(Default)]
struct Moments(Vec<f64>);

impl Moments {
    fn mean(&self) -> Option<f64> {
        (!self.0.is_empty()).then(|| self.0.iter().sum::<f64>() / self.0.len() as f64)
    }

    fn sd(&self) -> Option<f64> {
        if self.0.len() < 2 {
            return None;
        }
        let mean = self.mean()?;
        let squares: f64 = self.0.iter().map(|v| (v - mean).powi(2)).sum();
        Some((squares / (self.0.len() - 1) as f64).sqrt())
    }
}

#[derive(Default)]
struct Members {
    contacts: u64,
    orders: f64,
    revenue: f64,
    recency: Moments,
    frequency: Moments,
    monetary: Moments,
}

fn share(part: f64, whole: f64) -> f64 {
    if whole == 0.0 {
        0.0
    } else {
        part / whole
    }
}

/// The class table: one row per class in order, then "Others", then
/// "No purchase" (the contacts with `has_orders` false). A contact with orders
/// but no score is in "Others". Shares of contacts are of `total_contacts`;
/// shares of revenue are of the revenue of all inputs (0 when that is 0).
/// Recency statistics take only contacts with a recency. The slices are
/// parallel; a missing `has_orders` entry reads as true, a missing score as
/// none. Rows follow the classes by position, so even a class named like
/// another keeps its own members.
pub fn class_table(inputs: &[RfmInput], has_orders: &[bool], scores: &[Option<RfmScore>], classes: &[ClassDef], total_contacts: u64) -> Vec<ClassRow> {
    let others = classes.len();
    let no_purchase = others + 1;
    let mut groups: Vec<Members> = (0..=no_purchase).map(|_| Members::default()).collect();
    let mut total_revenue = 0.0;
    for (i, input) in inputs.iter().enumerate() {
        let group = if !has_orders.get(i).copied().unwrap_or(true) {
            no_purchase
        } else {
            scores.get(i).and_then(Option::as_ref).and_then(|s| class_index(s, classes)).unwrap_or(others)
        };
        let g = &mut groups[group];
        g.contacts += 1;
        g.orders += input.frequency;
        g.revenue += input.monetary;
        if let Some(r) = input.recency_days {
            g.recency.0.push(r);
        }
        g.frequency.0.push(input.frequency);
        g.monetary.0.push(input.monetary);
        total_revenue += input.monetary;
    }
    let names = classes.iter().map(|c| c.name.as_str()).chain([OTHERS, NO_PURCHASE]);
    names
        .zip(groups)
        .map(|(name, g)| ClassRow {
            class: name.to_string(),
            contacts: g.contacts,
            contact_share: share(g.contacts as f64, total_contacts as f64),
            orders: g.orders,
            revenue: g.revenue,
            revenue_share: share(g.revenue, total_revenue),
            recency_mean: g.recency.mean(),
            recency_sd: g.recency.sd(),
            frequency_mean: g.frequency.mean(),
            frequency_sd: g.frequency.sd(),
            monetary_mean: g.monetary.mean(),
            monetary_sd: g.monetary.sd(),
        })
        .collect()
}

/// Recency × frequency grid of contact counts: `grid[r-1][f-1]`. The grid is
/// `bins[0]` × `bins[1]`, grown when a score exceeds them (thresholds with
/// more cuts), so no contact is dropped.
pub fn grid(scores: &[Option<RfmScore>], bins: [u32; 3]) -> Vec<Vec<u64>> {
    let scored = scores.iter().flatten().filter(|s| s.r >= 1 && s.f >= 1);
    let rows = scored.clone().map(|s| s.r).fold(bins[0], u32::max) as usize;
    let cols = scored.clone().map(|s| s.f).fold(bins[1], u32::max) as usize;
    let mut grid = vec![vec![0u64; cols]; rows];
    for s in scored {
        grid[s.r as usize - 1][s.f as usize - 1] += 1;
    }
    grid
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::Path;

    fn input(recency: f64, frequency: f64, monetary: f64) -> RfmInput {
        RfmInput { recency_days: Some(recency), frequency, monetary }
    }

    fn config(bins: [u32; 3]) -> RfmConfig {
        RfmConfig { bins, thresholds: None, classes: Vec::new() }
    }

    fn scores(inputs: &[RfmInput], cfg: &RfmConfig) -> Vec<(u32, u32, u32)> {
        score(inputs, cfg).into_iter().map(|s| s.map(|s| (s.r, s.f, s.m)).expect("every input is scored")).collect()
    }

    /// Per customer: (recency_days, orders, amount), as the R package builds them.
    fn reference_inputs(path: &Path) -> BTreeMap<String, RfmInput> {
        let as_of = chrono::NaiveDate::from_ymd_opt(2006, 12, 31).unwrap();
        let mut latest: BTreeMap<String, (chrono::NaiveDate, f64, f64)> = BTreeMap::new();
        let mut reader = csv::Reader::from_path(path).expect("orders.csv opens");
        for record in reader.records() {
            let record = record.expect("a valid CSV record");
            let date = chrono::NaiveDate::parse_from_str(&record[1], "%Y-%m-%d").expect("a date");
            let revenue: f64 = record[2].parse().expect("a revenue");
            let entry = latest.entry(record[0].to_string()).or_insert((date, 0.0, 0.0));
            entry.0 = entry.0.max(date);
            entry.1 += 1.0;
            entry.2 += revenue;
        }
        latest.into_iter().map(|(id, (date, orders, amount))| (id, input((as_of - date).num_days() as f64, orders, amount))).collect()
    }

    #[test]
    fn reference_data_gives_the_r_package_numbers() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/rfm-reference/orders.csv");
        if !path.exists() {
            eprintln!("skipped: {} not found", path.display());
            return;
        }
        let customers = reference_inputs(&path);
        let (ids, inputs): (Vec<String>, Vec<RfmInput>) = customers.into_iter().unzip();
        assert_eq!(inputs.len(), 995);
        let classes = preset("standard", [5, 5, 5]).unwrap();
        let cfg = RfmConfig { bins: [5, 5, 5], thresholds: None, classes: classes.clone() };
        let scores = score(&inputs, &cfg);

        let expected = [
            ("Abbey O'Reilly", (205.0, 6.0, 472.0), (3, 4, 3), "Potential Loyalist"),
            ("Add Senger", (140.0, 3.0, 340.0), (4, 1, 2), "New Customers"),
            ("Aden Lesch", (194.0, 4.0, 405.0), (3, 2, 3), "Loyal Customers"),
            ("Aden Murphy", (98.0, 7.0, 596.0), (5, 4, 4), "Potential Loyalist"),
            ("Agness O'Keefe", (90.0, 9.0, 843.0), (5, 5, 5), "Champions"),
            ("Aiyanna Bruen", (246.0, 4.0, 157.0), (3, 2, 1), "About To Sleep"),
        ];
        for (id, (recency, orders, amount), (r, f, m), class) in expected {
            let i = ids.iter().position(|x| x == id).expect(id);
            assert_eq!(inputs[i], input(recency, orders, amount), "{id}");
            let s = scores[i].clone().expect(id);
            assert_eq!((s.r, s.f, s.m), (r, f, m), "{id}");
            assert_eq!(classify(&s, &classes), class, "{id}");
            assert_eq!(score_text(&s), format!("{r}{f}{m}"));
        }

        let has_orders = vec![true; inputs.len()];
        let table = class_table(&inputs, &has_orders, &scores, &classes, 995);
        let sizes: BTreeMap<&str, (u64, f64, f64)> =
            table.iter().filter(|row| row.contacts > 0).map(|row| (row.class.as_str(), (row.contacts, row.orders, row.revenue))).collect();
        let expected_sizes: BTreeMap<&str, (u64, f64, f64)> = [
            ("Potential Loyalist", (342, 2211.0, 204856.0)),
            ("Loyal Customers", (170, 799.0, 76562.0)),
            ("Lost", (148, 393.0, 35324.0)),
            ("New Customers", (104, 329.0, 28837.0)),
            ("About To Sleep", (102, 283.0, 23449.0)),
            ("Can't Lose Them", (47, 274.0, 32446.0)),
            ("Champions", (35, 316.0, 31646.0)),
            ("At Risk", (28, 216.0, 22227.0)),
            ("Need Attention", (10, 57.0, 4562.0)),
            ("Promising", (9, 28.0, 4249.0)),
        ]
        .into_iter()
        .collect();
        assert_eq!(sizes, expected_sizes);
        assert_eq!(table.iter().map(|row| row.contacts).sum::<u64>(), 995);
        assert_eq!(table.iter().map(|row| row.orders).sum::<f64>(), 4906.0);
        let shares: f64 = table.iter().map(|row| row.contact_share).sum();
        assert!((shares - 1.0).abs() < 1e-12);

        let grid = grid(&scores, cfg.bins);
        assert_eq!(grid.iter().flatten().sum::<u64>(), 995);
        let champions_cell = scores.iter().flatten().filter(|s| s.r == 5 && s.f == 5).count() as u64;
        assert_eq!(grid[4][4], champions_cell);
    }

    #[test]
    fn type7_quantiles_match_r() {
        // quantile(c(1, 2, 3, 4, 10), c(.2, .4, .6, .8)) in R: 1.8 2.6 3.4 5.2
        let sorted = [1.0, 2.0, 3.0, 4.0, 10.0];
        let cuts = quantile_cuts(&sorted, 5);
        let expected = [2.8, 3.6, 4.4, 6.2];
        for (cut, want) in cuts.iter().zip(expected) {
            assert!((cut - want).abs() < 1e-12, "{cuts:?}");
        }
    }

    #[test]
    fn equal_values_share_a_bin_and_bins_may_be_empty() {
        // Frequencies 1,1,1,1,1,1,1,2,3,10: quantiles at .2/.4/.6 are 1 (cut 2),
        // at .8 is 2.2 (cut 3.2). Bins: [1,2) [2,2) [2,2) [2,3.2) [3.2,11).
        let freqs = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0, 10.0];
        let inputs: Vec<RfmInput> = freqs.iter().map(|&f| input(10.0, f, 5.0)).collect();
        let f: Vec<u32> = scores(&inputs, &config([5, 5, 5])).iter().map(|s| s.1).collect();
        assert_eq!(f, [1, 1, 1, 1, 1, 1, 1, 4, 4, 5]);
        let g = grid(&score(&inputs, &config([5, 5, 5])), [5, 5, 5]);
        // All recency equal: the top recency score, empty frequency bins 2 and 3.
        assert_eq!(g[4], [7, 0, 0, 2, 1]);
        assert!(g[..4].iter().flatten().all(|&n| n == 0));
    }

    #[test]
    fn recency_is_reversed() {
        let inputs: Vec<RfmInput> = (0..5).map(|i| input(i as f64 * 100.0, 1.0, 1.0)).collect();
        let r: Vec<u32> = scores(&inputs, &config([5, 5, 5])).iter().map(|s| s.0).collect();
        assert_eq!(r, [5, 4, 3, 2, 1]);
    }

    #[test]
    fn explicit_thresholds_are_used_as_written() {
        let cfg = RfmConfig { bins: [5, 5, 5], thresholds: Some([vec![30.0, 90.0], vec![2.0, 3.0, 5.0], vec![50.0]]), classes: Vec::new() };
        assert_eq!(bin_counts(&cfg), [3, 4, 2]);
        let inputs = [input(0.0, 1.0, 49.99), input(29.0, 2.0, 50.0), input(30.0, 4.0, 10.0), input(90.0, 5.0, 500.0), input(400.0, 3.0, 0.0)];
        // A cut belongs to the bin above it (lower <= v < upper), no +1.
        assert_eq!(scores(&inputs, &cfg), [(3, 1, 1), (3, 2, 2), (2, 3, 1), (1, 4, 2), (1, 3, 1)]);
        assert_eq!(cut_points(&inputs, &cfg).unwrap()[1], [2.0, 3.0, 5.0]);
    }

    #[test]
    fn thresholds_beyond_the_data_leave_bins_empty() {
        let cfg = RfmConfig { bins: [5, 5, 5], thresholds: Some([vec![1000.0], vec![100.0, 200.0], vec![-5.0]]), classes: Vec::new() };
        let inputs = [input(3.0, 1.0, 1.0), input(7.0, 2.0, 2.0)];
        assert_eq!(scores(&inputs, &cfg), [(2, 1, 2), (2, 1, 2)]);
    }

    #[test]
    fn bin_counts_may_differ_per_dimension() {
        let inputs: Vec<RfmInput> = (1..=9).map(|i| input(i as f64, i as f64, i as f64 * 10.0)).collect();
        let cfg = config([3, 2, 4]);
        let s = scores(&inputs, &cfg);
        assert!(s.iter().all(|&(r, f, m)| (1..=3).contains(&r) && (1..=2).contains(&f) && (1..=4).contains(&m)));
        // Cuts: recency 4.67, 7.33; frequency 6; monetary 31, 51, 71.
        assert_eq!(s[0], (3, 1, 1));
        assert_eq!(s[4], (2, 1, 2));
        assert_eq!(s[8], (1, 2, 4));
        let g = grid(&score(&inputs, &cfg), cfg.bins);
        assert_eq!((g.len(), g[0].len()), (3, 2));
        assert_eq!(g.iter().flatten().sum::<u64>(), 9);
    }

    #[test]
    fn fractional_amounts() {
        let inputs = [input(1.0, 1.0, 0.25), input(2.0, 1.0, 0.5), input(3.0, 1.0, 0.75), input(4.0, 1.0, 1.3)];
        // Monetary quantiles at .5: 0.625 -> cut 1.625; two bins [0.25, 1.625) [1.625, 2.3).
        let m: Vec<u32> = scores(&inputs, &config([2, 2, 2])).iter().map(|s| s.2).collect();
        assert_eq!(m, [1, 1, 1, 1]);
        // With thresholds, fractions cut as written.
        let cfg = RfmConfig { bins: [2, 2, 2], thresholds: Some([vec![2.5], vec![1.5], vec![0.5]]), classes: Vec::new() };
        assert_eq!(scores(&inputs, &cfg), [(2, 1, 1), (2, 1, 2), (1, 1, 2), (1, 1, 2)]);
    }

    #[test]
    fn a_single_customer_scores_top_recency_lowest_frequency_and_monetary() {
        let inputs = [input(42.0, 3.0, 99.5)];
        let s = score(&inputs, &config([5, 5, 5]));
        assert_eq!(s, [Some(RfmScore { r: 5, f: 1, m: 1 })]);
        let classes = preset("standard", [5, 5, 5]).unwrap();
        assert_eq!(classify(s[0].as_ref().unwrap(), &classes), "New Customers");
    }

    #[test]
    fn no_dated_contact_means_no_scores() {
        let inputs = [RfmInput { recency_days: None, frequency: 2.0, monetary: 10.0 }];
        assert_eq!(score(&inputs, &config([5, 5, 5])), [None]);
        assert_eq!(score(&[], &config([5, 5, 5])), []);
        assert_eq!(grid(&[], [5, 5, 5]), vec![vec![0; 5]; 5]);
    }

    #[test]
    fn non_finite_values_get_no_score_and_do_not_shift_the_cuts() {
        let mut inputs: Vec<RfmInput> = (1..=5).map(|i| input(i as f64, 1.0, i as f64)).collect();
        let clean = score(&inputs, &config([5, 5, 5]));
        inputs.push(input(1.0, f64::NAN, 1.0));
        inputs.push(input(f64::INFINITY, 1.0, 1.0));
        let s = score(&inputs, &config([5, 5, 5]));
        assert_eq!(&s[..5], &clean[..]);
        assert_eq!(&s[5..], [None, None]);
    }

    #[test]
    fn contacts_without_orders_or_dates_in_the_class_table() {
        let classes = vec![ClassDef { name: "Top".into(), r: (2, 2), f: (1, 2), m: (1, 2) }, ClassDef { name: "Rest".into(), r: (1, 1), f: (2, 2), m: (1, 2) }];
        let inputs = [
            input(10.0, 4.0, 100.0),
            input(20.0, 2.0, 50.0),
            input(300.0, 1.0, 10.0),
            input(200.0, 3.0, 40.0),
            RfmInput { recency_days: None, frequency: 2.0, monetary: 20.0 }, // undated orders
            RfmInput { recency_days: None, frequency: 0.0, monetary: 0.0 },  // no orders
            RfmInput { recency_days: None, frequency: 0.0, monetary: 0.0 },  // no orders
        ];
        let has_orders = [true, true, true, true, true, false, false];
        let cfg = RfmConfig { bins: [2, 2, 2], thresholds: None, classes: classes.clone() };
        let s = score(&inputs, &cfg);
        assert_eq!(s[4], None);
        let table = class_table(&inputs, &has_orders, &s, &classes, 10);
        let names: Vec<&str> = table.iter().map(|row| row.class.as_str()).collect();
        assert_eq!(names, ["Top", "Rest", "Others", "No purchase"]);
        let counts: Vec<u64> = table.iter().map(|row| row.contacts).collect();
        // Recency cut 105+1: r 2,2,1,1. Frequency cut 2.5+1: f 2,1,1,1 (4 -> bin 2).
        assert_eq!(counts, [2, 0, 3, 2]);
        let top = &table[0];
        assert_eq!((top.orders, top.revenue), (6.0, 150.0));
        assert!((top.contact_share - 0.2).abs() < 1e-12);
        assert!((top.revenue_share - 150.0 / 220.0).abs() < 1e-12);
        assert_eq!(top.recency_mean, Some(15.0));
        assert!((top.recency_sd.unwrap() - 50f64.sqrt()).abs() < 1e-12);
        assert_eq!(top.frequency_mean, Some(3.0));
        let rest = &table[1];
        assert_eq!((rest.recency_mean, rest.recency_sd, rest.monetary_mean), (None, None, None));
        let others = &table[2];
        // The undated contact counts in orders and monetary, not in recency.
        assert_eq!((others.orders, others.revenue), (6.0, 70.0));
        assert_eq!(others.recency_mean, Some(250.0));
        let none = &table[3];
        assert_eq!((none.contacts, none.orders, none.revenue_share), (2, 0.0, 0.0));
        assert_eq!((none.recency_mean, none.frequency_sd), (None, Some(0.0)));
    }

    #[test]
    fn a_lone_member_has_a_mean_but_no_sd() {
        let classes = vec![ClassDef { name: "All".into(), r: (1, 9), f: (1, 9), m: (1, 9) }];
        let inputs = [input(5.0, 1.0, 2.0)];
        let s = score(&inputs, &config([5, 5, 5]));
        let row = &class_table(&inputs, &[true], &s, &classes, 1)[0];
        assert_eq!((row.monetary_mean, row.monetary_sd), (Some(2.0), None));
    }

    #[test]
    fn classes_are_tried_in_order() {
        let classes = preset("standard", [5, 5, 5]).unwrap();
        let s = RfmScore { r: 5, f: 5, m: 5 };
        assert_eq!(classify(&s, &classes), "Champions");
        // 3-4/1-3/3-5 is Promising, not the later New Customers.
        assert_eq!(classify(&RfmScore { r: 4, f: 1, m: 3 }, &classes), "Promising");
        // 1/1/1 is Lost; 2/1/5 matches nothing.
        assert_eq!(classify(&RfmScore { r: 1, f: 1, m: 1 }, &classes), "Lost");
        assert_eq!(classify(&RfmScore { r: 2, f: 1, m: 5 }, &classes), OTHERS);
        assert_eq!(classify(&s, &[]), OTHERS);
    }

    #[test]
    fn presets_need_five_bins() {
        for name in preset_names() {
            assert!(preset(name, [5, 5, 5]).is_ok(), "{name}");
            let err = preset(name, [4, 5, 5]).unwrap_err();
            assert!(err.contains("5 bins") && err.contains("classes"), "{err}");
            assert!(preset(name, [5, 5, 4]).is_err());
        }
        assert_eq!(preset("standard", [5, 5, 5]).unwrap().len(), 10);
        assert!(preset("gold", [5, 5, 5]).unwrap_err().contains("standard"));
    }

    #[test]
    fn score_text_writes_recency_first() {
        assert_eq!(score_text(&RfmScore { r: 5, f: 4, m: 3 }), "543");
    }
}
