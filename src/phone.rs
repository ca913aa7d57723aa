//! Phone numbers for the SMS channel, read with Google's libphonenumber
//! metadata (the `phonenumber` crate): a number in E.164 when it is a valid
//! mobile, nothing otherwise.

use phonenumber::country::Id;
use phonenumber::{Mode, Type};

/// A region code (`FR`, `BE`) as the library knows it; None when unknown.
pub fn region(code: &str) -> Option<Id> {
    code.trim().to_ascii_uppercase().parse().ok()
}

/// The E.164 form (`+33612345678`) of a valid mobile number, read as
/// written in `region` unless it starts with `+` or an international
/// prefix. Landlines, invalid numbers and empty text give None. Where the
/// metadata cannot tell mobile from fixed line (the United States), the
/// number counts as a mobile.
pub fn mobile_e164(text: &str, region: Id) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let number = phonenumber::parse(Some(region), text).ok()?;
    if !number.is_valid() {
        return None;
    }
    match number.number_type(&phonenumber::metadata::DATABASE) {
        Type::Mobile | Type::FixedLineOrMobile => Some(number.format().mode(Mode::E164).to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_french_mobile_written_four_ways_is_one_number_and_a_landline_is_none() {
        let fr = region("fr").unwrap();
        for written in ["06 12 34 56 78", "+33612345678", "0033 6 12 34 56 78", "+33 (0)6 12 34 56 78"] {
            assert_eq!(mobile_e164(written, fr).as_deref(), Some("+33612345678"), "{written}");
        }
        assert_eq!(mobile_e164("01 42 68 53 00", fr), None, "a Paris landline");
        assert_eq!(mobile_e164("06 12", fr), None);
        assert_eq!(mobile_e164("", fr), None);
        assert!(region("XX").is_none());
    }
}
