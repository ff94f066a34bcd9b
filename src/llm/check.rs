//! The number checker: every number a model writes must be one of the facts scudo computed,
//! within the rounding the text shows.
//!
//! Takes the facts (any JSON document: every number in it, and every number or date written
//! inside its strings, is a fact with its path) and a text; gives each number of the text with the
//! fact it matched, or none. Integers, decimals, money (`$1,200.50`), percents (`25%`, which also
//! match a probability of 0.25), abbreviations (`$28K`, `1.2M`) and dates (`2024-10-01`,
//! `October 1, 2024`, `Oct 2024`) are understood. Signs are ignored: "fell 12%" is checked
//! against a change of -12. Numbers glued to letters (`cust-000007`, `Q4`) are names, not
//! claims, nor are order numbers (`#1047`) or list markers (`1.` at the start of a line).

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// One fact a number may match: its path in the facts document and its value.
#[derive(Debug, Clone)]
pub struct Fact {
    pub path: String,
    pub value: FactValue,
}

/// A fact's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FactValue {
    Number(f64),
    Date(NaiveDate),
}

/// Every fact of a JSON document, strings included.
pub fn facts_of(doc: &serde_json::Value) -> Vec<Fact> {
    let mut out = Vec::new();
    walk(doc, "", &mut out);
    out
}

fn walk(v: &serde_json::Value, path: &str, out: &mut Vec<Fact>) {
    use serde_json::Value as J;
    match v {
        J::Number(n) => {
            if let Some(x) = n.as_f64() {
                out.push(Fact { path: path.to_string(), value: FactValue::Number(x) });
            }
        }
        J::String(s) => {
            for m in scan(s) {
                let value = match m.kind {
                    Kind::Date(d) => FactValue::Date(d),
                    Kind::Period { year, month: None } => FactValue::Number(f64::from(year)),
                    Kind::Period { .. } => continue,
                    _ => FactValue::Number(m.value),
                };
                out.push(Fact { path: path.to_string(), value });
            }
        }
        J::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk(x, &format!("{path}[{i}]"), out);
            }
        }
        J::Object(o) => {
            for (k, x) in o {
                walk(x, &if path.is_empty() { k.clone() } else { format!("{path}.{k}") }, out);
            }
        }
        _ => {}
    }
}

/// What kind of number a piece of text is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Plain,
    Money,
    Percent,
    Date(NaiveDate),
    /// A year or a month and year: matches any fact date in it.
    Period {
        year: i32,
        month: Option<u32>,
    },
}

/// One number found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The text as written (`$28K`).
    pub text: String,
    /// Byte offset in the text.
    pub at: usize,
    /// Its value in units (`28000` for `$28K`).
    pub value: f64,
    /// Half the last unit the text shows (`500` for `$28K`, `0.005` for `3.14`): the rounding.
    pub tolerance: f64,
    pub kind: Kind,
}

/// One checked number, for the JSON output.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub text: String,
    pub value: f64,
    /// The path of the fact it matched (`kpis[0].current`), or null: it matches none.
    pub fact: Option<String>,
}

/// The verdict on a text.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub numbers: Vec<Checked>,
}

impl Verdict {
    /// The numbers that match no fact, each once, in order.
    pub fn unmatched(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in self.numbers.iter().filter(|c| c.fact.is_none()) {
            if !out.contains(&c.text.as_str()) {
                out.push(&c.text);
            }
        }
        out
    }

    pub fn passed(&self) -> bool {
        self.numbers.iter().all(|c| c.fact.is_some())
    }
}

/// Checks every number of `text` against `facts`.
pub fn check(text: &str, facts: &[Fact]) -> Verdict {
    let numbers = scan(text)
        .into_iter()
        .map(|f| Checked { fact: matching(&f, facts).map(|x| x.path.clone()), text: f.text, value: f.value })
        .collect();
    Verdict { numbers }
}

/// The first fact `f` matches.
pub fn matching<'a>(f: &Found, facts: &'a [Fact]) -> Option<&'a Fact> {
    let near = |x: f64, y: f64| (x.abs() - y.abs()).abs() <= f.tolerance * (1.0 + 1e-9) + 1e-9;
    facts.iter().find(|fact| match (f.kind, fact.value) {
        // A date written without its year (`Oct 1`) matches that day of any year.
        (Kind::Date(d), FactValue::Date(e)) => {
            d == e || (d.year() == 1 && (d.month(), d.day()) == (e.month(), e.day()))
        }
        (Kind::Period { year, month }, FactValue::Date(e)) => e.year() == year && month.is_none_or(|m| m == e.month()),
        (Kind::Period { year, month: None }, FactValue::Number(x)) => x == f64::from(year),
        (Kind::Percent, FactValue::Number(x)) => near(x, f.value) || (x.abs() <= 1.0 && near(x * 100.0, f.value)),
        (Kind::Plain | Kind::Money, FactValue::Number(x)) => near(x, f.value),
        _ => false,
    })
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// The month a word names (`Oct`, `October`, `Sept`), 1-based.
fn month(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    (0..12).find(|&i| full[i] == w || MONTHS[i] == w || (w == "sept" && i == 8)).map(|i| i as u32 + 1)
}

/// Every number in `text`, in order.
pub fn scan(text: &str) -> Vec<Found> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            // A month name followed by a day and/or a year: `October 1, 2024`, `Oct 2024`.
            if b[i].is_ascii_alphabetic() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
                let end = i + b[i..].iter().take_while(|c| c.is_ascii_alphabetic() || **c == b'.').count();
                if let Some(m) = month(&text[i..end])
                    && let Some((found, next)) = month_date(text, i, end, m)
                {
                    out.push(found);
                    i = next;
                    continue;
                }
                i = end;
                continue;
            }
            i += 1;
            continue;
        }
        // Digits glued to a name (`cust-000007`, `Q4`, `H2O`) are part of it.
        let glued = i > 0
            && (b[i - 1].is_ascii_alphabetic()
                || matches!(b[i - 1], b'_' | b'#')
                || (b[i - 1] == b'-' && i > 1 && b[i - 2].is_ascii_alphanumeric()));
        let start = i;
        let j = start + 10;
        // ISO date: 2024-10-01.
        if j <= b.len()
            && b[start..j]
                .iter()
                .enumerate()
                .all(|(k, c)| if k == 4 || k == 7 { *c == b'-' } else { c.is_ascii_digit() })
            && b.get(j).is_none_or(|c| !c.is_ascii_digit())
            && let Ok(d) = NaiveDate::parse_from_str(&text[start..j], "%Y-%m-%d")
        {
            if !glued {
                out.push(Found {
                    text: text[start..j].into(),
                    at: start,
                    value: 0.0,
                    tolerance: 0.0,
                    kind: Kind::Date(d),
                });
            }
            i = j;
            continue;
        }
        let (found, next) = number(text, start);
        let list_marker = {
            let line_start = text[..start].rfind('\n').map_or(0, |p| p + 1);
            text[line_start..start].trim().is_empty()
                && text[next..].starts_with(['.', ')'])
                && text[next + 1..].starts_with([' ', '\t'])
                && found.text.chars().all(|c| c.is_ascii_digit())
        };
        let suffix_word = b.get(next).is_some_and(|c| c.is_ascii_alphabetic());
        // `1 October 2024`: a day before a month name.
        if !glued && found.kind == Kind::Plain && (1.0..=31.0).contains(&found.value) && found.text.len() <= 2 {
            let rest = &text[next..];
            let word_at = next + (rest.len() - rest.trim_start().len());
            let word_end = word_at + b[word_at..].iter().take_while(|c| c.is_ascii_alphabetic()).count();
            if word_at == next + 1
                && let Some(m) = month(&text[word_at..word_end])
                && let Some((mut date, after)) =
                    month_date(&format!("{} {}", &text[word_at..word_end], found.text), 0, word_end - word_at, m)
            {
                // Reuse the `Month D` reader, then look for a year after the month.
                let tail = &text[word_end..];
                let year_text = tail.trim_start();
                let _ = after;
                let mut end = word_end;
                if let Kind::Date(d) = date.kind
                    && year_text.len() >= 4
                    && tail.len() - year_text.len() == 1
                    && year_text.as_bytes()[..4].iter().all(u8::is_ascii_digit)
                    && let Ok(y) = year_text[..4].parse::<i32>()
                    && let Some(full) = NaiveDate::from_ymd_opt(y, d.month(), d.day())
                {
                    date.kind = Kind::Date(full);
                    end = word_end + 5;
                }
                date.text = text[start..end].to_string();
                date.at = start;
                out.push(date);
                i = end;
                continue;
            }
        }
        if !glued && !list_marker && !suffix_word {
            out.push(found);
        }
        i = next.max(start + 1);
        // Skip the rest of a glued run (`cust-000007-b`).
        while glued && i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
    }
    out
}

/// The number starting at `start` (a digit): digits with thousands commas, a decimal part, then
/// K/M/B or `%`; a currency sign just before it.
fn number(text: &str, start: usize) -> (Found, usize) {
    let b = text.as_bytes();
    let mut j = start;
    let mut digits = String::new();
    while j < b.len() {
        if b[j].is_ascii_digit() {
            digits.push(b[j] as char);
            j += 1;
        } else if b[j] == b','
            && b.len() >= j + 4
            && b[j + 1..j + 4].iter().all(u8::is_ascii_digit)
            && b.get(j + 4).is_none_or(|c| !c.is_ascii_digit())
        {
            j += 1;
        } else {
            break;
        }
    }
    let mut decimals = 0;
    if j + 1 < b.len() && b[j] == b'.' && b[j + 1].is_ascii_digit() {
        digits.push('.');
        j += 1;
        while j < b.len() && b[j].is_ascii_digit() {
            digits.push(b[j] as char);
            decimals += 1;
            j += 1;
        }
    }
    let mut value: f64 = digits.parse().unwrap_or(0.0);
    let mut tolerance = 0.5 * 10f64.powi(-decimals);
    let mut kind = Kind::Plain;
    let money_sign =
        start > 0 && matches!(&text[..start], t if t.ends_with('$') || t.ends_with('€') || t.ends_with('£'));
    if money_sign {
        kind = Kind::Money;
    }
    // Abbreviations: 28K, 1.2M, 3B, 2bn; and "thousand"/"million" spelt out.
    let rest = &text[j..];
    let scale = [("bn", 1e9), ("K", 1e3), ("k", 1e3), ("M", 1e6), ("B", 1e9)]
        .into_iter()
        .find(|(s, _)| rest.starts_with(s) && rest[s.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric()))
        .map(|(s, x)| (s.len(), x))
        .or_else(|| {
            [(" thousand", 1e3), (" million", 1e6), (" billion", 1e9)]
                .into_iter()
                .find(|(s, _)| rest.starts_with(s))
                .map(|(s, x)| (s.len(), x))
        });
    if let Some((len, x)) = scale {
        value *= x;
        tolerance *= x;
        j += len;
    } else if rest.starts_with('%') {
        kind = Kind::Percent;
        j += 1;
    } else if rest.starts_with(" percent") || rest.starts_with(" per cent") {
        kind = Kind::Percent;
        j += if rest.starts_with(" percent") { 8 } else { 9 };
    } else if let Some(o) = ["st", "nd", "rd", "th"]
        .iter()
        .find(|o| rest.starts_with(*o) && rest[2..].chars().next().is_none_or(|c| !c.is_alphanumeric()))
    {
        j += o.len();
    }
    let from = if money_sign { start - text[..start].chars().next_back().map_or(0, char::len_utf8) } else { start };
    let found = Found { text: text[from..j].to_string(), at: from, value, tolerance, kind };
    // A bare four-digit year in a plausible range is a period, checked against the facts' dates too.
    let found = if kind == Kind::Plain
        && decimals == 0
        && scale.is_none()
        && digits.len() == 4
        && (1990..=2100).contains(&(value as i32))
    {
        Found { kind: Kind::Period { year: value as i32, month: None }, ..found }
    } else {
        found
    };
    (found, j)
}

/// `October 1, 2024`, `Oct 1`, `October 2024`, `1 October 2024` (the day before is read as a
/// plain number first, then this turns the pair into a date; see `scan`).
fn month_date(text: &str, from: usize, end: usize, m: u32) -> Option<(Found, usize)> {
    let rest = &text[end..];
    let trimmed = rest.trim_start();
    let skip = rest.len() - trimmed.len();
    if skip == 0 || skip > 2 {
        return None;
    }
    let digits: String = trimmed.chars().take_while(char::is_ascii_digit).collect();
    let after = &trimmed[digits.len()..];
    if digits.len() == 4 {
        let year: i32 = digits.parse().ok()?;
        let next = end + skip + 4;
        return Some((
            Found {
                text: text[from..next].into(),
                at: from,
                value: 0.0,
                tolerance: 0.0,
                kind: Kind::Period { year, month: Some(m) },
            },
            next,
        ));
    }
    if digits.is_empty()
        || digits.len() > 2
        || after.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() && !"snrt".contains(c))
    {
        return None;
    }
    let day: u32 = digits.parse().ok()?;
    let mut next = end + skip + digits.len();
    let tail = &text[next..];
    let tail = tail.strip_prefix(|c| c == ',').unwrap_or(tail);
    let year_text = tail.trim_start();
    let year: Option<i32> = (year_text.len() >= 4 && year_text.as_bytes()[..4].iter().all(u8::is_ascii_digit))
        .then(|| year_text[..4].parse().ok())
        .flatten();
    let kind = match year {
        Some(y) => {
            next = text.len() - year_text.len() + 4;
            Kind::Date(NaiveDate::from_ymd_opt(y, m, day)?)
        }
        // A month and day without a year: any fact date on that day of that month.
        None => Kind::Date(NaiveDate::from_ymd_opt(1, m, day)?),
    };
    Some((Found { text: text[from..next].into(), at: from, value: 0.0, tolerance: 0.0, kind }, next))
}

#[cfg(test)]
mod tests;
