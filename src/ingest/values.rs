//! Cell-level parsing shared by every format: money, timestamps, emails, phones, text.
//!
//! Money never passes through floating point: amounts are parsed digit by digit into cents.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// An amount of money in cents (hundredths of the currency unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Money(i64);

/// The largest amount accepted: DECIMAL(18,2) holds 16 integer digits.
const MAX_CENTS: i64 = 9_999_999_999_999_999;

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_cents(cents: i64) -> Money {
        Money(cents)
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// `cents` as an amount, when it fits DECIMAL(18,2).
    pub fn checked(cents: i64) -> Option<Money> {
        (-MAX_CENTS..=MAX_CENTS).contains(&cents).then_some(Money(cents))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// How amounts are written in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NumberStyle {
    /// `1.234,56` instead of `1,234.56`.
    pub decimal_comma: bool,
}

/// Parses an amount such as `1234.00`, `1,234.5`, `-3`, `$12.00`, `(5.00)`, `1.0`, or with
/// `decimal_comma` `1.234,56`. Empty cells are `Ok(None)`. More than two decimals are accepted only
/// when the extra digits are zeros: scudo stores cents and does not round silently.
pub fn parse_money(raw: &str, style: NumberStyle) -> Result<Option<Money>, String> {
    let mut s = raw.trim().trim_start_matches('\'').trim();
    if s.is_empty() {
        return Ok(None);
    }
    let mut negative = false;
    if s.starts_with('(') && s.ends_with(')') {
        negative = true;
        s = s[1..s.len() - 1].trim();
    }
    if let Some(rest) = s.strip_prefix('-') {
        negative = !negative;
        s = rest.trim();
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest.trim();
    }
    s = s.trim_start_matches(['$', '€', '£', '¥', '₹']).trim();
    s = s.trim_end_matches(['$', '€', '£', '¥', '₹']).trim();
    if let Some(rest) = s.strip_prefix('-') {
        negative = !negative;
        s = rest;
    }
    let (group, point) = if style.decimal_comma { ('.', ',') } else { (',', '.') };
    let mut int_part: i64 = 0;
    let mut frac: i64 = 0;
    let mut frac_digits = 0;
    let mut seen_point = false;
    let mut digits = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            let d = i64::from(c as u8 - b'0');
            digits += 1;
            if seen_point {
                frac_digits += 1;
                if frac_digits <= 2 {
                    frac = frac * 10 + d;
                } else if d != 0 {
                    return Err(format!("`{raw}` has more than 2 decimals; scudo stores cents and will not round"));
                }
            } else {
                int_part = int_part
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(d))
                    .filter(|v| *v <= MAX_CENTS / 100)
                    .ok_or_else(|| format!("`{raw}` is too large for an amount"))?;
            }
        } else if c == point && !seen_point {
            seen_point = true;
        } else if (c == group || c == ' ' || c == '\u{a0}' || c == '\'') && !seen_point {
            continue;
        } else {
            return Err(format!("`{raw}` is not an amount"));
        }
    }
    if digits == 0 {
        return Err(format!("`{raw}` is not an amount"));
    }
    if frac_digits == 1 {
        frac *= 10;
    }
    let cents = int_part * 100 + frac;
    Ok(Some(Money(if negative { -cents } else { cents })))
}

/// Parses a whole quantity such as `2`, `2.0` (HubSpot writes integers as floats) or `'3`.
pub fn parse_int(raw: &str) -> Result<Option<i64>, String> {
    let s = raw.trim().trim_start_matches('\'');
    if s.is_empty() {
        return Ok(None);
    }
    let int_text = match s.split_once('.') {
        Some((i, f)) if f.chars().all(|c| c == '0') => i,
        Some(_) => return Err(format!("`{raw}` is not a whole number")),
        None => s,
    };
    int_text.parse::<i64>().map(Some).map_err(|_| format!("`{raw}` is not a whole number"))
}

/// A timestamp resolved to UTC, with the offset it was written in when the file said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant {
    pub utc: NaiveDateTime,
    pub offset_minutes: Option<i16>,
}

const WITH_OFFSET: &[&str] =
    &["%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%z"];
const NAIVE: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
];
const DATES: &[&str] = &["%Y-%m-%d", "%Y/%m/%d"];

/// Parses the ISO-like timestamps exports use: with a numeric offset (`2024-03-10 09:15:00 -0500`,
/// converted to UTC), with `Z`, or naive (taken as UTC, which is what Stripe writes), or a bare date.
pub fn parse_timestamp(raw: &str) -> Result<Option<Instant>, String> {
    let s = raw.trim().trim_start_matches('\'');
    if s.is_empty() {
        return Ok(None);
    }
    let zulu = s.strip_suffix('Z').or_else(|| s.strip_suffix(" UTC"));
    for f in WITH_OFFSET {
        if let Ok(dt) = DateTime::parse_from_str(s, f) {
            let minutes = dt.offset().local_minus_utc() / 60;
            return Ok(Some(Instant { utc: dt.naive_utc(), offset_minutes: i16::try_from(minutes).ok() }));
        }
    }
    let naive_text = zulu.unwrap_or(s);
    for f in NAIVE {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive_text, f) {
            return Ok(Some(Instant { utc: dt, offset_minutes: zulu.map(|_| 0) }));
        }
    }
    for f in DATES {
        if let Ok(d) = NaiveDate::parse_from_str(naive_text, f) {
            return Ok(Some(Instant { utc: d.and_hms_opt(0, 0, 0).expect("midnight"), offset_minutes: None }));
        }
    }
    Err(format!("`{raw}` is not a date or timestamp (expected e.g. 2024-03-10 09:15:00 -0500)"))
}

/// A naive timestamp (no offset in the file) read as local time in `zone`, converted to UTC; one
/// with an offset, or no zone, is returned as it is. A local time that a DST change skips is read
/// an hour later; one it repeats, as the first of the two.
pub fn in_zone(t: Instant, zone: Option<chrono_tz::Tz>) -> Instant {
    use chrono::{Offset, TimeZone};
    let Some(tz) = zone.filter(|_| t.offset_minutes.is_none()) else { return t };
    let local = match tz.from_local_datetime(&t.utc) {
        chrono::LocalResult::Single(d) | chrono::LocalResult::Ambiguous(d, _) => Some(d),
        chrono::LocalResult::None => tz.from_local_datetime(&(t.utc + chrono::Duration::hours(1))).earliest(),
    };
    match local {
        Some(d) => {
            Instant { utc: d.naive_utc(), offset_minutes: i16::try_from(d.offset().fix().local_minus_utc() / 60).ok() }
        }
        None => t,
    }
}

/// Parses with an explicit chrono format (from a mapping file): a timestamp format, or a date
/// format taken at midnight UTC.
pub fn parse_with_format(raw: &str, format: &str) -> Result<Option<Instant>, String> {
    let s = raw.trim().trim_start_matches('\'');
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(dt) = DateTime::parse_from_str(s, format) {
        let minutes = dt.offset().local_minus_utc() / 60;
        return Ok(Some(Instant { utc: dt.naive_utc(), offset_minutes: i16::try_from(minutes).ok() }));
    }
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, format) {
        return Ok(Some(Instant { utc: dt, offset_minutes: None }));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, format) {
        return Ok(Some(Instant { utc: d.and_hms_opt(0, 0, 0).expect("midnight"), offset_minutes: None }));
    }
    Err(format!("`{raw}` does not match the date format `{format}`"))
}

/// Trims a text cell and a leading spreadsheet apostrophe; collapses runs of spaces. Empty → `None`.
pub fn text(raw: &str) -> Option<String> {
    let s = raw.trim().strip_prefix('\'').unwrap_or(raw.trim()).trim();
    if s.is_empty() {
        return None;
    }
    if s.contains("  ") { Some(s.split_whitespace().collect::<Vec<_>>().join(" ")) } else { Some(s.to_string()) }
}

/// Lower-cased, trimmed email; `None` unless it looks like `local@domain`.
pub fn norm_email(raw: &str) -> Option<String> {
    let s = raw.trim().trim_start_matches('\'').trim().to_lowercase();
    let (local, domain) = s.split_once('@')?;
    if local.is_empty() || domain.is_empty() || s.contains(char::is_whitespace) || domain.contains('@') {
        return None;
    }
    Some(s)
}

/// Digits with an optional leading `+`; `(+44)7309…` becomes `+447309…`. `None` for text that is
/// not a phone number (usernames, emails) or has fewer than 7 digits.
pub fn norm_phone(raw: &str) -> Option<String> {
    let s = raw.trim().trim_start_matches('\'').trim();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '0'..='9' => out.push(c),
            '+' if out.is_empty() => out.push('+'),
            '(' | ')' | '-' | '.' | ' ' | '/' | '\u{a0}' => {}
            _ => return None,
        }
    }
    let digits = out.chars().filter(char::is_ascii_digit).count();
    (digits >= 7).then_some(out)
}

/// `yes`/`true`/`1` and `no`/`false`/`0` (any case); anything else is `None`.
pub fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" | "1.0" | "y" | "t" => Some(true),
        "no" | "false" | "0" | "0.0" | "n" | "f" => Some(false),
        _ => None,
    }
}

/// Splits a tag cell (`"Login with Shop, Shop"`) into trimmed, non-empty tags.
pub fn split_tags(raw: &str) -> Vec<String> {
    raw.split([',', ';']).filter_map(text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(s: &str) -> i64 {
        parse_money(s, NumberStyle::default()).unwrap().unwrap().cents()
    }

    #[test]
    fn money_shapes() {
        assert_eq!(m("1234.00"), 123_400);
        assert_eq!(m("1,234.5"), 123_450);
        assert_eq!(m("-3"), -300);
        assert_eq!(m("$12.00"), 1200);
        assert_eq!(m("(5.00)"), -500);
        assert_eq!(m("1.0"), 100);
        assert_eq!(m("'19.99"), 1999);
        assert_eq!(m("2.500"), 250);
        let comma = NumberStyle { decimal_comma: true };
        assert_eq!(parse_money("1.234,56", comma).unwrap().unwrap().cents(), 123_456);
        assert_eq!(parse_money("", NumberStyle::default()).unwrap(), None);
        assert!(parse_money("1.234", NumberStyle::default()).is_err());
        assert!(parse_money("abc", NumberStyle::default()).is_err());
        assert!(parse_money("1e5", NumberStyle::default()).is_err());
        assert!(parse_money("99999999999999999999", NumberStyle::default()).is_err());
    }

    #[test]
    fn money_display_round_trips() {
        for c in [0, 1, -1, 99, 100, -12345, 123_456_789] {
            let s = Money::from_cents(c).to_string();
            assert_eq!(m(&s), c, "{s}");
        }
    }

    #[test]
    fn timestamps() {
        let t = parse_timestamp("2024-03-10 09:15:00 -0500").unwrap().unwrap();
        assert_eq!(t.utc.to_string(), "2024-03-10 14:15:00");
        assert_eq!(t.offset_minutes, Some(-300));
        let t = parse_timestamp("2023-08-28 20:18").unwrap().unwrap();
        assert_eq!(t.utc.to_string(), "2023-08-28 20:18:00");
        let t = parse_timestamp("2023-03-14T10:21:33.000Z").unwrap().unwrap();
        assert_eq!(t.utc.to_string(), "2023-03-14 10:21:33");
        assert!(parse_timestamp("31/02/2024").is_err());
        assert_eq!(parse_timestamp(" ").unwrap(), None);
        let t = parse_with_format("19970101", "%Y%m%d").unwrap().unwrap();
        assert_eq!(t.utc.to_string(), "1997-01-01 00:00:00");
    }

    #[test]
    fn identities() {
        assert_eq!(norm_email(" HARIBEDIA007@GMAIL.COM ").as_deref(), Some("haribedia007@gmail.com"));
        assert_eq!(norm_email("not an email"), None);
        assert_eq!(norm_phone("(+44)7309085092").as_deref(), Some("+447309085092"));
        assert_eq!(norm_phone("'+919871966979").as_deref(), Some("+919871966979"));
        assert_eq!(norm_phone(" +30 694 308 2996").as_deref(), Some("+306943082996"));
        assert_eq!(norm_phone("(310) 849-3009").as_deref(), Some("3108493009"));
        assert_eq!(norm_phone("john_doe"), None);
        assert_eq!(text("  Anthony  Gattoni ").as_deref(), Some("Anthony Gattoni"));
        assert_eq!(text("'751021").as_deref(), Some("751021"));
        assert_eq!(split_tags("Login with Shop, Shop"), vec!["Login with Shop", "Shop"]);
    }

    proptest! {
        #[test]
        fn money_parser_never_panics(s in "\\PC{0,24}") {
            let _ = parse_money(&s, NumberStyle::default());
            let _ = parse_money(&s, NumberStyle { decimal_comma: true });
            let _ = parse_int(&s);
            let _ = parse_timestamp(&s);
            let _ = norm_phone(&s);
            let _ = norm_email(&s);
        }

        #[test]
        fn money_round_trips(c in -MAX_CENTS..MAX_CENTS) {
            let s = Money::from_cents(c).to_string();
            prop_assert_eq!(parse_money(&s, NumberStyle::default()).unwrap().unwrap().cents(), c);
        }
    }
}
