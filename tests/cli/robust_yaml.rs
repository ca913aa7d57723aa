//! Robustness of the YAML side: odd files, deep nesting, long reference
//! chains, messages in our own words.

use crate::util::Work;

const CONTACTS: &str = "email,city,sms_optin\na@x.io,Lyon,true\nb@x.io,Paris,false\nc@x.io,,\n";
const ORDERS: &str = "order_id,email,ordered_at,amount\n1,a@x.io,2025-06-01,10\n";


#[test]
fn as_of_takes_a_negative_offset_as_a_separate_argument() {
    // The order of 2025-06-01 is before any as_of a month before today.
    let w = Work::project(CONTACTS, ORDERS, &[("before", "name: before\nwhere: {field: last_order_date, op: before, value: today}\n")]);
    let c = w.counts(&["before", "--as-of", "-1m"]);
    assert_eq!(c[0]["members"], 1);
}
