//! Ticket orders: which events a contact goes to, when and how they buy,
//! and the orders.csv rows (one per ticket) that record it.

use chrono::{NaiveDateTime, TimeDelta};
use rand::distributions::{Distribution, WeightedIndex};
use rand::Rng;

use crate::contacts::{case_variant, space_variant, Class, Gen, Person};
use crate::table::{Column, CsvDialect, DateCell, DateFmt, Table, TimeFmt};
use crate::world::{self, ymd, Family, EVENTS};

/// Relative frequency of 1, 2, 3 and 4 tickets in one order.
const TICKETS: [u32; 4] = [30, 38, 12, 20];
/// Average tickets per order, invitations (1 or 2) included.
const MEAN_TICKETS: f64 = 2.2;
/// Share of contacts who buy, and of buyers who buy once.
const BUYERS: f64 = 0.75;
const ONE_TIMERS: f64 = 0.45;
/// Order-count weights of the repeat classes, and their average over repeat buyers.
const OCCASIONAL_W: f64 = 1.0;
const REGULAR_W: f64 = 2.5;
const LOYAL_W: f64 = 4.0;
const MEAN_REPEAT_W: f64 = 1.705;

/// The factor that turns class weights into order counts so that the
/// ticket rows per contact average `rows_per_contact`.
pub fn order_scale(rows_per_contact: f64) -> f64 {
    let orders_per_buyer = calibrated(rows_per_contact) / (BUYERS * MEAN_TICKETS);
    let per_repeat_buyer = ((orders_per_buyer - ONE_TIMERS) / (1.0 - ONE_TIMERS)).max(2.0);
    per_repeat_buyer / MEAN_REPEAT_W
}

/// Ticket rows per contact obtained (first) when asking `order_scale` for the
/// second, measured on 100,000 contacts. Class minimums lift small targets;
/// the per-edition cap holds back big ones (the average tops out near 15).
const CALIBRATION: [(f64, f64); 9] =
    [(3.30, 3.0), (3.96, 4.0), (5.71, 6.0), (7.16, 8.0), (8.38, 10.0), (9.85, 13.0), (11.07, 16.0), (12.39, 20.0), (14.34, 30.0)];

/// The target to ask for so as to get `wanted` rows per contact.
fn calibrated(wanted: f64) -> f64 {
    let (first, last) = (CALIBRATION[0], CALIBRATION[CALIBRATION.len() - 1]);
    if wanted <= first.0 {
        return wanted * first.1 / first.0;
    }
    let segment = CALIBRATION.windows(2).find(|w| wanted <= w[1].0);
    let [(x0, y0), (x1, y1)] = match segment {
        Some(w) => [w[0], w[1]],
        None => [CALIBRATION[CALIBRATION.len() - 2], last],
    };
    y0 + (wanted - x0) * (y1 - y0) / (x1 - x0)
}

/// One order before it gets its id: all its tickets share email, event and time.
pub struct Draft {
    email: String,
    event: usize,
    pub at: NaiveDateTime,
    pos: usize,
    promo: Option<usize>,
    /// (tariff, amount in cents, status) per ticket; the first `count` are used.
    tickets: [(usize, i64, usize); 4],
    count: usize,
}

/// How many orders the contact places.
fn order_count(g: &mut Gen, class: Class) -> usize {
    let (weight, min) = match class {
        Class::NeverBought => return 0,
        Class::OneTime => return 1,
        Class::Occasional => (OCCASIONAL_W, 2.0),
        Class::Regular => (REGULAR_W, 2.0),
        Class::Loyal => (LOYAL_W, 3.0),
    };
    // Exponential: most repeat buyers near the minimum, a few buy a lot.
    let extra = ((weight * g.order_scale - min).max(0.0) * g.expo()).min(60.0);
    let whole = extra.floor();
    let round_up = g.chance(extra - whole);
    min as usize + whole as usize + usize::from(round_up)
}

/// Writes the contact's orders to `out`; returns the time of the latest one.
pub fn generate(g: &mut Gen, p: &Person, out: &mut Vec<Draft>) -> Option<NaiveDateTime> {
    let count = order_count(g, p.class);
    if count == 0 {
        return None;
    }
    let last_day = ymd(world::LAST_DAY);
    let sale_end = |e: &world::Event| ymd(e.edition).min(last_day);
    let mut eligible: Vec<usize> = (0..EVENTS.len()).filter(|&i| ymd(EVENTS[i].sale_start) <= p.active_until && sale_end(&EVENTS[i]) >= p.signup).collect();
    if eligible.is_empty() {
        eligible.push(EVENTS.len() - 1);
    }
    // At most three orders per edition on average.
    let count = count.min(3 * eligible.len());
    // Loyal buyers go to every festival. Everyone favours one kind of event,
    // and sometimes buys again for an event they already have tickets for.
    let mut picks: Vec<usize> = Vec::with_capacity(count);
    if p.class == Class::Loyal {
        picks.extend(eligible.iter().copied().filter(|&i| EVENTS[i].family == Family::Festival));
    }
    let favourite = [Family::Festival, Family::Festival, Family::Jazz, Family::Theatre, Family::Salon][g.rng_index(5)];
    while picks.len() < count {
        let weights = eligible.iter().map(|&i| {
            let e = &EVENTS[i];
            let fav = if e.family == favourite { 3.0 } else { 1.0 };
            let again = if picks.contains(&i) { 0.3 } else { 1.0 };
            f64::from(e.popularity) * fav * again
        });
        let at = WeightedIndex::new(weights).expect("positive weights").sample(&mut g.rng);
        picks.push(eligible[at]);
    }
    let mut latest = None;
    for event in picks {
        let draft = order(g, p, event);
        latest = latest.max(Some(draft.at));
        out.push(draft);
    }
    latest
}

fn order(g: &mut Gen, p: &Person, event: usize) -> Draft {
    let e = &EVENTS[event];
    let (sale_start, edition) = (ymd(e.sale_start), ymd(e.edition));
    let as_of = ymd(world::AS_OF);
    let lo = sale_start.max(p.signup);
    let hi = edition.min(ymd(world::LAST_DAY)).min(p.active_until).max(lo);
    let invitation = g.chance(0.03);
    let pos = if invitation {
        if g.chance(0.5) {
            world::BOX_OFFICE
        } else {
            world::WEB
        }
    } else {
        WeightedIndex::new(world::POS_WEIGHTS).expect("weights").sample(&mut g.rng)
    };
    let at = if pos == world::BOX_OFFICE && hi == edition && g.chance(0.4) {
        // Sold at the door, on the evening itself.
        let t = (g.rng.gen_range(17..21), g.rng.gen_range(0..60), g.rng.gen_range(0..60));
        edition.and_hms_opt(t.0, t.1, t.2).expect("valid time")
    } else {
        let three_weeks = TimeDelta::days(20);
        let day = match g.rng.gen_range(0..100) {
            0..=24 => g.day_between(lo, hi.min(lo + three_weeks)),
            25..=69 => g.day_between(lo, hi),
            _ => g.day_between(lo.max(hi - three_weeks), hi),
        };
        g.time_on(day, pos == world::BOX_OFFICE)
    };

    let email = match g.rng.gen_range(0..100) {
        0..=4 => case_variant(&mut g.rng, &p.email),
        5..=6 => space_variant(&mut g.rng, &p.email),
        _ => p.email.clone(),
    };
    let promo = if invitation || pos == world::BOX_OFFICE {
        None
    } else if at.date() < sale_start + TimeDelta::days(21) && g.chance(0.35) {
        Some(world::EARLY25)
    } else if p.class == Class::Loyal && g.chance(0.15) {
        Some(world::FIDELITE15)
    } else if e.family == Family::Festival && g.chance(0.05) {
        Some(world::LUMIERES10)
    } else if e.family == Family::Jazz && g.chance(0.08) {
        Some(world::JAZZ5)
    } else {
        None
    };
    let order_status = if invitation {
        None
    } else if g.chance(0.05) {
        Some(world::REFUNDED)
    } else if pos == world::WEB && g.chance(0.03) {
        Some(world::NOT_VALIDATED)
    } else {
        None
    };

    let n = if invitation { g.rng.gen_range(1..=2) } else { 1 + WeightedIndex::new(TICKETS).expect("weights").sample(&mut g.rng) };
    let primary = if invitation {
        world::INVITATION
    } else {
        let weights = match p.age {
            Some(18..=25) => [30, 10, 55, 2],
            _ if p.class == Class::Loyal => [55, 15, 6, 20],
            _ => [66, 18, 9, 5],
        };
        WeightedIndex::new(weights).expect("weights").sample(&mut g.rng)
    };
    let mut tickets = [(0, 0, 0); 4];
    for (i, ticket) in tickets.iter_mut().take(n).enumerate() {
        let tariff = if i == 0 || primary == world::INVITATION {
            primary
        } else if n >= 3 && g.chance(0.6) {
            world::JEUNE
        } else if g.chance(0.7) {
            primary
        } else if g.chance(0.7) {
            world::PLEIN
        } else {
            world::REDUIT
        };
        let status = match order_status {
            Some(s) => s,
            None if edition < as_of && g.chance(0.9) => world::SCANNED,
            None => world::ACTIVE,
        };
        *ticket = (tariff, price(g, event, tariff, promo), status);
    }
    Draft { email, event, at, pos, promo, tickets, count: n }
}

fn price(g: &mut Gen, event: usize, tariff: usize, promo: Option<usize>) -> i64 {
    let e = &EVENTS[event];
    if tariff == world::INVITATION {
        return 0;
    }
    let mut cents = e.prices[tariff];
    if tariff == world::VIP && e.family == Family::Festival && g.chance(0.02) {
        // The hospitality box: three evenings, dinner, backstage.
        cents = if g.chance(0.5) { 125_000 } else { 145_000 };
    }
    let percent_off = |c: i64, pct: i64| (c * (100 - pct) + 50) / 100;
    match promo {
        Some(world::EARLY25) => percent_off(cents, 25),
        Some(world::LUMIERES10) => percent_off(cents, 10),
        Some(world::FIDELITE15) => percent_off(cents, 15),
        Some(world::JAZZ5) => (cents - 500).max(0),
        _ => cents,
    }
}

/// orders.csv as the ticketing software exports it: `;`, decimal comma, BOM.
pub struct Orders {
    order_id: Vec<i64>,
    /// One address per order, shared by its tickets.
    emails: Vec<String>,
    email: Vec<u32>,
    event: Vec<Option<u32>>,
    edition_date: Vec<DateCell>,
    tariff: Vec<Option<u32>>,
    status: Vec<Option<u32>>,
    point_of_sale: Vec<Option<u32>>,
    promo_code: Vec<Option<u32>>,
    amount: Vec<i64>,
    ordered_at: Vec<NaiveDateTime>,
    pub orders: usize,
}

impl Orders {
    pub fn new() -> Orders {
        Orders {
            order_id: Vec::new(),
            emails: Vec::new(),
            email: Vec::new(),
            event: Vec::new(),
            edition_date: Vec::new(),
            tariff: Vec::new(),
            status: Vec::new(),
            point_of_sale: Vec::new(),
            promo_code: Vec::new(),
            amount: Vec::new(),
            ordered_at: Vec::new(),
            orders: 0,
        }
    }

    pub fn push(&mut self, id: i64, d: Draft) {
        self.orders += 1;
        let email = u32::try_from(self.emails.len()).expect("fewer than 4 billion orders per chunk");
        self.emails.push(d.email);
        for &(tariff, amount, status) in &d.tickets[..d.count] {
            self.order_id.push(id);
            self.email.push(email);
            self.event.push(Some(d.event as u32));
            self.edition_date.push(DateCell::Date(ymd(EVENTS[d.event].edition)));
            self.tariff.push(Some(tariff as u32));
            self.status.push(Some(status as u32));
            self.point_of_sale.push(Some(d.pos as u32));
            self.promo_code.push(d.promo.map(|c| c as u32));
            self.amount.push(amount);
            self.ordered_at.push(d.at);
        }
    }

    pub fn into_table(self) -> Table {
        let events: Vec<&'static str> = EVENTS.iter().map(|e| e.name).collect();
        Table {
            name: "orders",
            headers: vec!["order_id", "email", "event", "edition_date", "tariff", "status", "point_of_sale", "promo_code", "amount", "ordered_at"],
            columns: vec![
                Column::Int(self.order_id),
                Column::Shared { pool: self.emails, idx: self.email },
                Column::cat(&events, self.event),
                Column::Date { fmt: DateFmt::Iso, cells: self.edition_date },
                Column::cat(world::TARIFFS, self.tariff),
                Column::cat(world::STATUSES, self.status),
                Column::cat(world::POINTS_OF_SALE, self.point_of_sale),
                Column::cat(world::PROMO_CODES, self.promo_code),
                Column::Money(self.amount),
                Column::DateTime { fmt: TimeFmt::Seconds, values: self.ordered_at },
            ],
            csv: CsvDialect { separator: b';', decimal_comma: true, bom: true },
        }
    }
}
