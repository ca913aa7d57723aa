//! The e-mail side: campaign activity as the mailer reports it, and the
//! bounce and unsubscribe lists it exports.

use chrono::{NaiveDate, NaiveDateTime};
use rand::Rng;

use crate::contacts::{case_variant, Gen, MailFate, Person};
use crate::table::{Column, DateCell, DateFmt, Table, TimeFmt, PLAIN_CSV};
use crate::world::{self, ymd, CAMPAIGNS};

/// Chance to open a mail, for engaged and other readers; clicks need an open.
const OPEN_ENGAGED: f64 = 0.8;
const OPEN_OTHER: f64 = 0.22;
const CLICK_GIVEN_OPEN: f64 = 0.17;

#[derive(Default)]
pub struct Mailing {
    // campaigns.csv
    c_emails: Vec<String>,
    c_email: Vec<u32>,
    c_campaign: Vec<Option<u32>>,
    c_sent: Vec<DateCell>,
    c_opened: Vec<bool>,
    c_clicked: Vec<bool>,
    // bounces.csv
    b_email: Vec<Option<String>>,
    b_reason: Vec<Option<u32>>,
    b_at: Vec<DateCell>,
    // unsubscribed.csv
    u_email: Vec<Option<String>>,
    u_at: Vec<NaiveDateTime>,
}

/// The campaigns the contact received, and the one (if any) where it ended.
fn received(p: &Person) -> Option<(std::ops::Range<usize>, Option<usize>)> {
    let was_on_list = p.newsletter == Some(true) || matches!(p.mail, MailFate::Unsubscribed { .. });
    if p.shown_email.is_none() || !was_on_list {
        return None;
    }
    let first = CAMPAIGNS.iter().position(|c| ymd(c.sent) >= p.signup)?;
    let last = match p.mail {
        MailFate::Unsubscribed { campaign, .. } => campaign,
        MailFate::Bounced { campaign, reason } if reason != world::SOFT => campaign,
        _ => CAMPAIGNS.len() - 1,
    };
    let special = match p.mail {
        MailFate::Fine => None,
        MailFate::Unsubscribed { campaign, .. } | MailFate::Bounced { campaign, .. } => Some(campaign),
    };
    Some((first..last + 1, special))
}

impl Mailing {
    /// Adds the mailing history of a chunk of contacts, one campaign after the other.
    pub fn add(&mut self, g: &mut Gen, people: &[Person]) {
        let lists: Vec<_> = people.iter().map(received).collect();
        // Each contact's address is stored once, at its first mail.
        let mut pooled: Vec<Option<u32>> = vec![None; people.len()];
        for (c, campaign) in CAMPAIGNS.iter().enumerate() {
            let sent = ymd(campaign.sent);
            for (i, (p, list)) in people.iter().zip(&lists).enumerate() {
                let Some((range, special)) = list else { continue };
                if !range.contains(&c) {
                    continue;
                }
                let (opened, clicked) = match (p.mail, *special == Some(c)) {
                    (MailFate::Bounced { .. }, true) => (false, false),
                    // The unsubscribe link is in the mail they opened.
                    (MailFate::Unsubscribed { .. }, true) => (true, false),
                    _ => self.reaction(g, p, sent, campaign.click_factor),
                };
                let email =
                    if g.chance(0.01) { self.pool(case_variant(&mut g.rng, &p.email)) } else { *pooled[i].get_or_insert_with(|| self.pool(p.email.clone())) };
                self.c_email.push(email);
                self.c_campaign.push(Some(c as u32));
                self.c_sent.push(DateCell::Date(sent));
                self.c_opened.push(opened);
                self.c_clicked.push(clicked);
            }
        }
        for p in people {
            match p.mail {
                MailFate::Fine => {}
                MailFate::Bounced { campaign, reason } => {
                    let email = if g.chance(0.1) { case_variant(&mut g.rng, &p.email) } else { p.email.clone() };
                    self.b_email.push(Some(email));
                    self.b_reason.push(Some(reason as u32));
                    self.b_at.push(DateCell::Date(ymd(CAMPAIGNS[campaign].sent)));
                }
                MailFate::Unsubscribed { at, .. } => {
                    self.u_email.push(Some(p.email.clone()));
                    self.u_at.push(at);
                }
            }
        }
    }

    fn pool(&mut self, email: String) -> u32 {
        self.c_emails.push(email);
        u32::try_from(self.c_emails.len() - 1).expect("fewer than 4 billion addresses per chunk")
    }

    /// Whether the contact opened and clicked a mail sent on `sent`. Nobody
    /// opens after their last recorded activity.
    fn reaction(&self, g: &mut Gen, p: &Person, sent: NaiveDate, click_factor: f64) -> (bool, bool) {
        if sent > p.last_activity.date() {
            return (false, false);
        }
        let open = if p.engaged { OPEN_ENGAGED } else { OPEN_OTHER };
        let opened = g.rng.gen_bool(open);
        let clicked = opened && g.chance(CLICK_GIVEN_OPEN * click_factor);
        (opened, clicked)
    }

    pub fn into_tables(self) -> [Table; 3] {
        let campaigns: Vec<&'static str> = CAMPAIGNS.iter().map(|c| c.name).collect();
        [
            Table {
                name: "campaigns",
                headers: vec!["email", "campaign", "sent_at", "opened", "clicked"],
                columns: vec![
                    Column::Shared { pool: self.c_emails, idx: self.c_email },
                    Column::Cat { dict: campaigns, codes: self.c_campaign },
                    Column::Date { fmt: DateFmt::Iso, cells: self.c_sent },
                    Column::Flag(self.c_opened),
                    Column::Flag(self.c_clicked),
                ],
                csv: PLAIN_CSV,
            },
            Table {
                name: "bounces",
                headers: vec!["email", "reason", "bounced_at"],
                columns: vec![
                    Column::Text(self.b_email),
                    Column::Cat { dict: world::BOUNCE_REASONS.to_vec(), codes: self.b_reason },
                    Column::Date { fmt: DateFmt::Iso, cells: self.b_at },
                ],
                csv: PLAIN_CSV,
            },
            Table {
                name: "unsubscribed",
                headers: vec!["email", "unsubscribed_at"],
                columns: vec![Column::Text(self.u_email), Column::DateTime { fmt: TimeFmt::Seconds, values: self.u_at }],
                csv: PLAIN_CSV,
            },
        ]
    }
}
