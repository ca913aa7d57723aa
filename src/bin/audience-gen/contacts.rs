//! People: who they are, how they write their address, and the
//! participants.csv rows that describe them.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta};
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::Rng;

use crate::table::{Column, CsvDialect, DateCell, DateFmt, Table, TimeFmt, PLAIN_CSV};
use crate::world::{self, ymd, CAMPAIGNS, PLACES};

/// How a contact buys, which drives how many orders they place.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Class {
    NeverBought,
    OneTime,
    Occasional,
    Regular,
    /// Buys every festival edition and more.
    Loyal,
}

/// What happened to a contact on the mailing list.
#[derive(Clone, Copy)]
pub enum MailFate {
    Fine,
    /// Unsubscribed through the link in this campaign.
    Unsubscribed {
        campaign: usize,
        at: NaiveDateTime,
    },
    Bounced {
        campaign: usize,
        reason: usize,
    },
}

#[derive(Clone)]
pub struct Person {
    /// The address as the mailer knows it: trimmed, lowercase; may be invalid.
    pub email: String,
    /// The address as written in participants.csv (case, stray spaces, or empty).
    pub shown_email: Option<String>,
    pub valid: bool,
    pub first: &'static str,
    pub last: String,
    pub female: bool,
    pub birth: DateCell,
    pub age: Option<i32>,
    pub place: usize,
    pub language: u32,
    pub device: u32,
    /// `None` when the consent column is empty.
    pub newsletter: Option<bool>,
    pub class: Class,
    /// Signup date; no order is older.
    pub signup: NaiveDate,
    /// After this day the contact does nothing any more (lapsed contacts).
    pub active_until: NaiveDate,
    pub lapsed: bool,
    /// Opens most mails, when true.
    pub engaged: bool,
    pub last_activity: NaiveDateTime,
    pub mail: MailFate,
}

/// The random source and the draws shared by every generator.
pub struct Gen {
    pub rng: StdRng,
    /// FNV hashes of every address handed out, to keep them unique.
    seen: HashSet<u64>,
    places: WeightedIndex<u32>,
    domains: WeightedIndex<u32>,
    devices: WeightedIndex<u32>,
    web_hours: WeightedIndex<u32>,
    desk_hours: WeightedIndex<u32>,
    /// Multiplies the order count of repeat buyers so that the ticket rows
    /// per contact average `--orders-per-contact`.
    pub order_scale: f64,
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Lowercase ASCII for an e-mail local part: `Hélène` → `helene`, `N'Diaye` → `ndiaye`.
fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars().flat_map(char::to_lowercase) {
        let plain = match ch {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'a'..='z' | '0'..='9' | '-' => ch,
            _ => continue,
        };
        out.push(plain);
    }
    out
}

/// Rewrites an address the way people and tools mangle them: mixed case.
pub fn case_variant(rng: &mut StdRng, email: &str) -> String {
    match rng.gen_range(0..3) {
        0 => email.to_uppercase(),
        1 => capitalise_parts(email, false),
        _ => capitalise_parts(email, true),
    }
}

/// `jean.dupont@gmail.com` → `Jean.Dupont@gmail.com` (or `...@Gmail.com` with the domain).
fn capitalise_parts(email: &str, domain_too: bool) -> String {
    let mut out = String::with_capacity(email.len());
    let mut start = true;
    let mut in_domain = false;
    for ch in email.chars() {
        if start && (!in_domain || domain_too) {
            out.extend(ch.to_uppercase());
        } else {
            out.push(ch);
        }
        if ch == '@' {
            in_domain = true;
        }
        start = matches!(ch, '.' | '@' | '-' | '_') && !(in_domain && ch == '.');
    }
    out
}

pub fn space_variant(rng: &mut StdRng, email: &str) -> String {
    match rng.gen_range(0..3) {
        0 => format!(" {email}"),
        1 => format!("{email} "),
        _ => format!("  {email} "),
    }
}

impl Gen {
    pub fn new(rng: StdRng, orders_per_contact: f64) -> Gen {
        let weights = |w: &[u32]| WeightedIndex::new(w.to_vec()).expect("positive weights");
        Gen {
            rng,
            seen: HashSet::new(),
            places: weights(&PLACES.iter().map(|p| p.weight).collect::<Vec<_>>()),
            domains: weights(&world::DOMAINS.iter().map(|d| d.1).collect::<Vec<_>>()),
            devices: weights(world::DEVICE_WEIGHTS),
            web_hours: weights(&world::WEB_HOURS),
            desk_hours: weights(&world::DESK_HOURS),
            order_scale: crate::orders::order_scale(orders_per_contact),
        }
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p.clamp(0.0, 1.0))
    }

    /// A day from `a` to `b`, both included (`a` when `b` is earlier).
    pub fn day_between(&mut self, a: NaiveDate, b: NaiveDate) -> NaiveDate {
        let span = (b - a).num_days().max(0);
        a + TimeDelta::days(self.rng.gen_range(0..=span))
    }

    /// A moment of `day`, at an hour people buy online, or when the box office is open.
    pub fn time_on(&mut self, day: NaiveDate, box_office: bool) -> NaiveDateTime {
        let hours = if box_office { &self.desk_hours } else { &self.web_hours };
        let h = hours.sample(&mut self.rng) as u32;
        let (m, s) = (self.rng.gen_range(0..60), self.rng.gen_range(0..60));
        day.and_hms_opt(h, m, s).expect("valid time of day")
    }

    pub fn rng_index(&mut self, n: usize) -> usize {
        self.rng.gen_range(0..n)
    }

    /// An exponential draw with mean 1.
    pub fn expo(&mut self) -> f64 {
        -(1.0 - self.rng.gen::<f64>()).ln()
    }

    /// An address nobody else has. A few are broken the way forms let them through.
    fn email(&mut self, first: &str, last: &str, country: &str) -> (String, bool) {
        let (f, l) = (slug(first), slug(last));
        let domain = match world::local_domain(country) {
            Some(local) if self.chance(0.5) => local[self.rng.gen_range(0..local.len())],
            _ => world::DOMAINS[self.domains.sample(&mut self.rng)].0,
        };
        let broken = self.chance(0.003);
        for attempt in 0.. {
            let mut local = match self.rng.gen_range(0..10) {
                0..=3 => format!("{f}.{l}"),
                4 => format!("{}{l}", &f[..1]),
                5 => format!("{f}_{l}"),
                6 => format!("{f}.{l}{:02}", self.rng.gen_range(50..=99)),
                7 => format!("{l}.{f}"),
                8 => format!("{f}{l}"),
                _ => format!("{}.{l}", &f[..1]),
            };
            if attempt >= 2 {
                local.push_str(&self.rng.gen_range(1..1000).to_string());
            }
            let email = if broken {
                let host = domain.split('.').next().expect("domain has a name");
                match self.rng.gen_range(0..5) {
                    0..=2 => format!("{local}@{host}"),
                    3 => format!("{local}.{domain}"),
                    _ => format!("{local}@{domain}."),
                }
            } else {
                format!("{local}@{domain}")
            };
            if self.seen.insert(fnv1a(&email)) {
                return (email, !broken);
            }
        }
        unreachable!("the attempt loop only ends by returning")
    }

    pub fn person(&mut self) -> Person {
        let r = &mut self.rng;
        let female = r.gen_bool(0.53);
        let first = if female { world::FEMALE } else { world::MALE };
        let first = first[r.gen_range(0..first.len())];
        let last_name = world::LAST[r.gen_range(0..world::LAST.len())];
        // Some back offices type surnames in capitals.
        let last = if r.gen_bool(0.08) { last_name.to_uppercase() } else { last_name.to_string() };
        let place = self.places.sample(r);
        let country = PLACES[place].country;
        let lang_weights = world::language_weights(country);
        let language = WeightedIndex::new(lang_weights).expect("positive weights").sample(r) as u32;
        let device = self.devices.sample(r) as u32;

        let as_of = ymd(world::AS_OF);
        let (birth, age) = match r.gen_range(0..1000) {
            0..=69 => (DateCell::Missing, None),
            70..=71 => (DateCell::Zero, None),
            _ => {
                // Ages 16 to 85, most between 25 and 55.
                let age = (16.0 + 69.0 * (r.gen::<f64>() + r.gen::<f64>() + r.gen::<f64>()) / 3.0) as i32;
                let day = ymd((as_of.year() - age - 1, 12, 1)) - TimeDelta::days(r.gen_range(0..330));
                (DateCell::Date(day), Some(age))
            }
        };

        let class = match r.gen_range(0..1000) {
            0..=249 => Class::NeverBought,
            250..=587 => Class::OneTime,
            588..=850 => Class::Occasional,
            851..=955 => Class::Regular,
            _ => Class::Loyal,
        };
        let last_day = ymd(world::LAST_DAY);
        let start = ymd(world::FIRST_SIGNUP);
        let signup = match class {
            Class::Loyal => self.day_between(start, ymd((2023, 5, 31))),
            Class::Regular => self.day_between(start, ymd((2024, 12, 31))),
            _ => {
                // More recent signups than old ones: the list grows.
                let span = (last_day - TimeDelta::days(5) - start).num_days() as f64;
                start + TimeDelta::days((span * self.rng.gen::<f64>().powf(0.6)) as i64)
            }
        };
        let lapse = match class {
            Class::NeverBought | Class::OneTime => 0.45,
            Class::Occasional => 0.3,
            Class::Regular => 0.15,
            Class::Loyal => 0.0,
        };
        let mut lapsed = signup < ymd((2024, 8, 31)) && self.chance(lapse);
        let mut active_until = last_day;
        if lapsed {
            let end = signup + TimeDelta::days(self.rng.gen_range(90..900));
            active_until = end.clamp(ymd((2023, 3, 15)), ymd((2024, 11, 15)));
            lapsed = active_until < ymd((2024, 11, 29));
        }
        let (first_name_slug, country_name) = (first, country);
        let (email, valid) = self.email(first_name_slug, last_name, country_name);
        let shown_email = Some(match self.rng.gen_range(0..1000) {
            0..=29 => case_variant(&mut self.rng, &email),
            30..=39 => space_variant(&mut self.rng, &email),
            _ => email.clone(),
        });
        let p_oui = match class {
            Class::NeverBought => 0.5,
            Class::OneTime => 0.56,
            Class::Occasional => 0.63,
            Class::Regular => 0.72,
            Class::Loyal => 0.85,
        };
        let newsletter = if self.chance(0.06) { None } else { Some(self.chance(p_oui)) };
        let engaged = self.chance(if class == Class::Loyal { 0.75 } else { 0.4 });
        Person {
            email,
            shown_email,
            valid,
            first,
            last,
            female,
            birth,
            age,
            place,
            language,
            device,
            newsletter,
            class,
            signup,
            active_until,
            lapsed,
            engaged,
            last_activity: signup.and_hms_opt(12, 0, 0).expect("noon"),
            mail: MailFate::Fine,
        }
    }

    /// Sets what depends on the contact's orders: last activity, and the
    /// mailing-list history.
    pub fn finish(&mut self, p: &mut Person, last_order: Option<NaiveDateTime>) {
        let last_day = ymd(world::LAST_DAY);
        let year_ago = ymd((2024, 11, 15));
        let floor = last_order.map_or(p.signup, |t| t.date()).max(p.signup);
        let asleep = p.lapsed || (p.class == Class::NeverBought && p.signup < year_ago && self.chance(0.35));
        let day = if asleep {
            let until = p.active_until.min(year_ago);
            self.day_between(floor, until)
        } else {
            let back = (self.expo() * 45.0).min(330.0) as i64;
            (last_day - TimeDelta::days(back)).max(floor)
        };
        let mut at = self.time_on(day, false);
        if let Some(t) = last_order {
            at = at.max(t);
        }
        p.last_activity = at;

        // Who was on the list at some point: today's opt-ins, plus people
        // who unsubscribed since (the export still says `oui` for most).
        if p.newsletter != Some(true) {
            return;
        }
        let first_campaign = CAMPAIGNS.iter().position(|c| ymd(c.sent) >= p.signup);
        let Some(first_campaign) = first_campaign else { return };
        let received = first_campaign..CAMPAIGNS.len();
        if !p.valid {
            p.mail = MailFate::Bounced { campaign: first_campaign, reason: world::HARD };
        } else if self.chance(0.025) {
            let campaign = self.rng.gen_range(received);
            let reason = WeightedIndex::new([55, 35, 10]).expect("weights").sample(&mut self.rng);
            p.mail = MailFate::Bounced { campaign, reason };
        } else if self.chance(0.018) {
            let campaign = self.rng.gen_range(received);
            let day = ymd(CAMPAIGNS[campaign].sent) + TimeDelta::days(self.rng.gen_range(0..4));
            let at = self.time_on(day.min(last_day), false);
            p.mail = MailFate::Unsubscribed { campaign, at };
            p.last_activity = p.last_activity.max(at);
            if self.chance(0.35) {
                p.newsletter = Some(false);
            }
        }
    }

    /// A second row for an existing contact: same address in another case,
    /// entered again later with partly different answers.
    pub fn duplicate_of(&mut self, p: &Person) -> Person {
        let mut d = p.clone();
        let shown = p.shown_email.as_deref().unwrap_or(&p.email);
        let mut email = case_variant(&mut self.rng, &p.email);
        if email == shown {
            email = p.email.to_uppercase();
        }
        d.shown_email = Some(email);
        d.signup = self.day_between(p.signup, ymd(world::LAST_DAY));
        d.newsletter = Some(self.chance(0.5));
        d.device = self.devices.sample(&mut self.rng) as u32;
        let day = self.day_between(d.signup, ymd(world::LAST_DAY));
        d.last_activity = self.time_on(day, false);
        d
    }

    /// A participants row nobody can write to: the e-mail cell is empty.
    pub fn without_email(&mut self) -> Person {
        let mut p = self.person();
        p.shown_email = None;
        p.class = Class::NeverBought;
        self.finish(&mut p, None);
        p
    }
}

/// participants.csv, column by column.
pub struct Participants {
    email: Vec<Option<String>>,
    first_name: Vec<Option<String>>,
    last_name: Vec<Option<String>>,
    civility: Vec<Option<u32>>,
    birth_date: Vec<DateCell>,
    place: Vec<u32>,
    region: Vec<Option<u32>>,
    language: Vec<Option<u32>>,
    device: Vec<Option<u32>>,
    newsletter: Vec<Option<u32>>,
    signup_date: Vec<DateCell>,
    last_activity: Vec<NaiveDateTime>,
    mobile: Vec<Option<String>>,
    sms_optin: Vec<Option<String>>,
}

/// A person's phone number and SMS opt-in, derived from a hash of the
/// address rather than drawn from the generator's random stream, so that
/// adding them left every other column of the sample as it was. About half
/// have a mobile, written the four ways exports write French numbers; some
/// give a landline, a few share a family mobile, the rest give none.
fn phone_of(email: &str) -> (Option<String>, Option<String>) {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(email.as_bytes());
    let h = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
    let digits = |n: u64| format!("{:08}", n % 100_000_000);
    let pairs = |s: &str| s.as_bytes().chunks(2).map(|c| std::str::from_utf8(c).expect("digits")).collect::<Vec<_>>().join(" ");
    let mobile = |prefix: &str, rest: String, style: u64| match style % 4 {
        0 => format!("0{prefix} {}", pairs(&rest)),
        1 => format!("+33{prefix}{rest}"),
        2 => format!("0033 {prefix} {}", pairs(&rest)),
        _ => format!("0{prefix}{rest}"),
    };
    let phone = match h % 100 {
        0..=54 => Some(mobile(if h % 7 == 0 { "7" } else { "6" }, digits(h >> 20), h >> 12)),
        55..=61 => Some(format!("04 78 {}", pairs(&format!("{:06}", (h >> 20) % 1_000_000)))),
        62..=64 => Some(mobile("6", format!("{:08}", 12_345_670 + (h >> 20) % 8), h >> 12)),
        _ => None,
    };
    let optin = phone.as_ref().map(|_| if (h >> 40) % 100 < 45 { "oui" } else { "non" }.to_string());
    (phone, optin)
}

impl Participants {
    pub fn new() -> Participants {
        Participants {
            email: Vec::new(),
            first_name: Vec::new(),
            last_name: Vec::new(),
            civility: Vec::new(),
            birth_date: Vec::new(),
            place: Vec::new(),
            region: Vec::new(),
            language: Vec::new(),
            device: Vec::new(),
            newsletter: Vec::new(),
            signup_date: Vec::new(),
            last_activity: Vec::new(),
            mobile: Vec::new(),
            sms_optin: Vec::new(),
        }
    }

    pub fn push(&mut self, p: &Person) {
        self.email.push(p.shown_email.clone());
        self.first_name.push(Some(p.first.to_string()));
        self.last_name.push(Some(p.last.clone()));
        self.civility.push(Some(u32::from(p.female)));
        self.birth_date.push(p.birth);
        self.place.push(p.place as u32);
        self.region.push((!PLACES[p.place].region.is_empty()).then_some(p.place as u32));
        self.language.push(Some(p.language));
        self.device.push(Some(p.device));
        self.newsletter.push(p.newsletter.map(|yes| if yes { 0 } else { 1 }));
        self.signup_date.push(DateCell::Date(p.signup));
        self.last_activity.push(p.last_activity);
        let (mobile, optin) = phone_of(&p.email);
        self.mobile.push(mobile);
        self.sms_optin.push(optin);
    }

    pub fn into_table(self) -> Table {
        let place_col = |f: fn(&world::Place) -> &'static str, codes: Vec<Option<u32>>| Column::Cat { dict: PLACES.iter().map(f).collect(), codes };
        let places: Vec<Option<u32>> = self.place.iter().map(|&i| Some(i)).collect();
        Table {
            name: "participants",
            headers: vec![
                "email",
                "first_name",
                "last_name",
                "civility",
                "birth_date",
                "postal_code",
                "city",
                "region",
                "country",
                "language",
                "device",
                "newsletter",
                "signup_date",
                "last_activity",
                "mobile",
                "sms_optin",
            ],
            columns: vec![
                Column::Text(self.email),
                Column::Text(self.first_name),
                Column::Text(self.last_name),
                Column::cat(world::CIVILITIES, self.civility),
                Column::Date { fmt: DateFmt::French, cells: self.birth_date },
                place_col(|p| p.postal, places.clone()),
                place_col(|p| p.city, places.clone()),
                place_col(|p| p.region, self.region),
                place_col(|p| p.country, places),
                Column::cat(world::LANGUAGES, self.language),
                Column::cat(world::DEVICES, self.device),
                Column::cat(world::NEWSLETTER, self.newsletter),
                Column::Date { fmt: DateFmt::Iso, cells: self.signup_date },
                Column::DateTime { fmt: TimeFmt::Minutes, values: self.last_activity },
                Column::Text(self.mobile),
                Column::Text(self.sms_optin),
            ],
            csv: CsvDialect { ..PLAIN_CSV },
        }
    }
}
