//! `audience-gen`: writes a believable set of exports from a French ticketing
//! organiser (participants, ticket orders, e-mail campaign activity, bounces,
//! unsubscribes) to try and benchmark `audience` on.
//!
//! The same seed and arguments always give the same files. Contacts are made
//! in chunks, and each chunk is written before the next is made, so memory
//! stays flat in CSV mode whatever `--contacts` is.

// The crate root is a file in src/bin/, so its modules are named by path.
#[path = "audience-gen/contacts.rs"]
mod contacts;
#[path = "audience-gen/mailing.rs"]
mod mailing;
#[path = "audience-gen/orders.rs"]
mod orders;
#[path = "audience-gen/table.rs"]
mod table;
#[path = "audience-gen/world.rs"]
mod world;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use rand::rngs::StdRng;
use rand::seq::index;
use rand::SeedableRng;

use contacts::{Gen, Participants, Person};
use mailing::Mailing;
use orders::Orders;
use table::{Format, Sink, Table};

/// Generate sample exports (participants, orders, campaigns, bounces,
/// unsubscribes) for `audience`.
///
/// Examples:
///
///   audience-gen --contacts 2500 --seed 42 --out sample-data
///
///   audience-gen --contacts 1000000 --orders-per-contact 10 --out /tmp/bench
#[derive(Parser)]
#[command(version, verbatim_doc_comment)]
struct Args {
    /// Rows of participants.csv (duplicates and rows without e-mail included)
    #[arg(long)]
    contacts: usize,
    /// Seed of the random generator: the same seed gives the same files
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Folder to write the files to (created if missing)
    #[arg(long, default_value = "sample-data")]
    out: PathBuf,
    /// File format
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Average ticket rows (orders.csv lines) per contact; reachable from about 3 to 15
    #[arg(long, default_value_t = 6.0)]
    orders_per_contact: f64,
}

/// Contacts made and written together.
const CHUNK: usize = 10_000;

/// What a row of participants.csv is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Row {
    Contact,
    /// The same address as an earlier row, in another case.
    Duplicate,
    /// A contact whose e-mail cell is empty.
    NoEmail,
}

/// Scatters the messy rows over the file, never in its first twentieth.
fn plan_rows(n: usize, g: &mut Gen) -> Vec<Row> {
    let mut rows = vec![Row::Contact; n];
    if n < 100 {
        return rows;
    }
    let (duplicates, empty) = ((n / 800).max(2), (n / 1250).max(2));
    let start = n / 20;
    for (i, at) in index::sample(&mut g.rng, n - start, duplicates + empty).into_iter().enumerate() {
        rows[start + at] = if i < duplicates { Row::Duplicate } else { Row::NoEmail };
    }
    rows
}

struct Output {
    sinks: Vec<Sink>,
    dir: PathBuf,
    format: Format,
}

impl Output {
    fn write(&mut self, table: Table) -> Result<()> {
        let i = match self.sinks.iter().position(|s| s.name == table.name) {
            Some(i) => i,
            None => {
                self.sinks.push(Sink::create(&self.dir, &table, self.format)?);
                self.sinks.len() - 1
            }
        };
        self.sinks[i].write(table)
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !(args.orders_per_contact >= 0.0 && args.orders_per_contact <= 1000.0) {
        bail!("--orders-per-contact must be between 0 and 1000");
    }
    let started = Instant::now();
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut g = Gen::new(StdRng::seed_from_u64(args.seed), args.orders_per_contact);
    let mut out = Output { sinks: Vec::new(), dir: args.out.clone(), format: args.format };

    let plan = plan_rows(args.contacts, &mut g);
    let orphans = if args.contacts >= 100 { (args.contacts / 500).max(5) } else { 0 };
    let mut next_id: i64 = 100_001;
    let mut orders_written = 0;
    let mut buyers = 0;
    // An empty run still writes every file, with its header.
    let chunks: Vec<&[Row]> = if plan.is_empty() { vec![&[]] } else { plan.chunks(CHUNK).collect() };
    for (chunk_no, chunk) in chunks.into_iter().enumerate() {
        let mut participants = Participants::new();
        let mut drafts = Vec::new();
        let mut people: Vec<Person> = Vec::with_capacity(chunk.len());
        for &row in chunk {
            let person = match row {
                Row::Duplicate if !people.is_empty() => {
                    let original = g.rng_index(people.len());
                    participants.push(&g.duplicate_of(&people[original]));
                    continue;
                }
                Row::NoEmail => {
                    participants.push(&g.without_email());
                    continue;
                }
                Row::Contact | Row::Duplicate => {
                    let mut p = g.person();
                    let last_order = orders::generate(&mut g, &p, &mut drafts);
                    buyers += usize::from(last_order.is_some());
                    g.finish(&mut p, last_order);
                    p
                }
            };
            participants.push(&person);
            people.push(person);
        }
        if chunk_no == 0 {
            // Buyers the contact export does not know (a partner's sale, a typo).
            for _ in 0..orphans {
                let mut p = g.person();
                p.class = contacts::Class::OneTime;
                orders::generate(&mut g, &p, &mut drafts);
            }
        }
        // Order ids follow time, as the ticketing system hands them out.
        let mut by_time: Vec<(chrono::NaiveDateTime, usize)> = drafts.iter().map(|d| d.at).zip(0..).collect();
        by_time.sort_unstable();
        let mut order_rows = Orders::new();
        let mut drafts: Vec<Option<orders::Draft>> = drafts.into_iter().map(Some).collect();
        for (_, i) in by_time {
            order_rows.push(next_id, drafts[i].take().expect("each draft is pushed once"));
            next_id += 1;
        }
        orders_written += order_rows.orders;
        let mut mailing = Mailing::default();
        mailing.add(&mut g, &people);

        out.write(participants.into_table())?;
        out.write(order_rows.into_table())?;
        for t in mailing.into_tables() {
            out.write(t)?;
        }
    }

    let mut summary = Vec::new();
    for sink in out.sinks {
        let what = if sink.name == "orders" {
            format!("{} ({} rows, {orders_written} orders)", sink.path.display(), sink.rows)
        } else {
            format!("{} ({} rows)", sink.path.display(), sink.rows)
        };
        sink.finish()?;
        summary.push(what);
    }
    eprintln!("audience-gen: seed {}, {} buyers; wrote {} in {:.1}s", args.seed, buyers, summary.join(", "), started.elapsed().as_secs_f64());
    Ok(())
}
