//! The shop's calendar. Timestamps are stored in UTC; every date scudo computes (as-of, periods,
//! cohorts, days since) is a date in the workspace's time zone. The zone is kept in the database
//! as a table of its UTC offsets (`tz_offsets`, one row per transition), so that SQL derives each
//! order's local time with one ASOF join, and a zone can be guessed from the offsets that exports
//! such as Shopify's state beside each timestamp.

use chrono::{Duration, NaiveDate, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;

/// The zone's offset from UTC at instant `utc`, in whole minutes.
pub fn offset_minutes(tz: Tz, utc: NaiveDateTime) -> i32 {
    let secs = tz.offset_from_utc_datetime(&utc).fix().local_minus_utc();
    (f64::from(secs) / 60.0).round() as i32
}

fn midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// The zone's offsets from 1900 to 2100: `(None, offset)` for everything before the first
/// transition, then `(Some(utc instant), offset)` from each transition on, to the minute.
pub fn transitions(tz: Tz) -> Vec<(Option<NaiveDateTime>, i32)> {
    let start = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    let end = NaiveDate::from_ymd_opt(2100, 1, 1).unwrap_or_default();
    let mut out = vec![(None, offset_minutes(tz, midnight(start)))];
    let mut day = start;
    let mut last = out[0].1;
    while day < end {
        let next = day + Duration::days(1);
        let now = offset_minutes(tz, midnight(next));
        if now != last {
            // The change happened in (day, next]: find its first minute.
            let (mut lo, mut hi) = (0i64, 24 * 60);
            while lo + 1 < hi {
                let mid = (lo + hi) / 2;
                if offset_minutes(tz, midnight(day) + Duration::minutes(mid)) == last {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let at = midnight(day) + Duration::minutes(hi);
            out.push((Some(at), offset_minutes(tz, at)));
            last = now;
        }
        day = next;
    }
    out
}

/// Zones preferred when several fit the data equally well: the ones most shops are in.
const PREFERRED: &[&str] = &[
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Toronto",
    "America/Vancouver",
    "America/Mexico_City",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "America/Bogota",
    "America/Lima",
    "America/Santiago",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Europe/Moscow",
    "Africa/Johannesburg",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Manila",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Pacific/Auckland",
];

/// The zone that best explains `samples` (UTC instants with the offset the source stated at
/// each): the one matching the most, preferring common zones on a tie. `None` without samples.
pub fn guess(samples: &[(NaiveDateTime, i32)]) -> Option<(Tz, usize)> {
    if samples.is_empty() {
        return None;
    }
    let candidates = chrono_tz::TZ_VARIANTS.iter().filter(|tz| {
        let name = tz.name();
        name.contains('/')
            && !["Etc/", "US/", "SystemV/", "Canada/", "Brazil/", "Chile/", "Mexico/"]
                .iter()
                .any(|p| name.starts_with(p))
    });
    let mut best: Option<(Tz, usize, usize)> = None;
    for tz in candidates {
        let hits = samples.iter().filter(|(utc, off)| offset_minutes(*tz, *utc) == *off).count();
        let rank = PREFERRED.iter().position(|p| *p == tz.name()).unwrap_or(PREFERRED.len());
        let better = match &best {
            None => true,
            Some((b, bh, br)) => hits > *bh || (hits == *bh && (rank < *br || (rank == *br && tz.name() < b.name()))),
        };
        if better {
            best = Some((*tz, hits, rank));
        }
    }
    best.filter(|(_, hits, _)| *hits > 0).map(|(tz, hits, _)| (tz, hits))
}

/// Reads an IANA zone name (`Europe/Rome`, `UTC`).
pub fn parse_zone(name: &str) -> Option<Tz> {
    name.trim().parse::<Tz>().ok()
}

/// Today's date in `tz`.
pub fn today(tz: Tz) -> NaiveDate {
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn transitions_are_exact_to_the_minute() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let t = transitions(tz);
        // 2022-03-13 02:00 EST = 07:00 UTC: the spring-forward instant.
        let spring =
            t.iter().find(|(a, _)| a.is_some_and(|a| a.date() == NaiveDate::from_ymd_opt(2022, 3, 13).unwrap()));
        assert_eq!(spring, Some(&(Some(at("2022-03-13 07:00")), -240)));
        let fall = t.iter().find(|(a, _)| a.is_some_and(|a| a.date() == NaiveDate::from_ymd_opt(2022, 11, 6).unwrap()));
        assert_eq!(fall, Some(&(Some(at("2022-11-06 06:00")), -300)));
        // Every instant's offset is the one of the last transition at or before it.
        for probe in ["2022-04-07 01:52", "2022-12-31 23:59", "1999-07-01 12:00", "2030-01-15 05:00"] {
            let u = at(probe);
            let from_table = t.iter().rev().find(|(a, _)| a.is_none_or(|a| a <= u)).unwrap().1;
            assert_eq!(from_table, offset_minutes(tz, u), "{probe}");
        }
        let utc: Tz = "UTC".parse().unwrap();
        assert_eq!(transitions(utc), vec![(None, 0)]);
    }

    #[test]
    fn guesses_the_zone_from_stated_offsets() {
        let ny = [(at("2022-04-07 01:52"), -240), (at("2022-01-10 15:00"), -300), (at("2022-06-30 22:00"), -240)];
        assert_eq!(guess(&ny).map(|g| g.0.name()), Some("America/New_York"));
        let london = [(at("2025-03-01 10:00"), 0), (at("2025-07-01 10:00"), 60)];
        assert_eq!(guess(&london).map(|g| g.0.name()), Some("Europe/London"));
        let india = [(at("2026-01-05 10:00"), 330)];
        assert_eq!(guess(&india).map(|g| g.0.name()), Some("Asia/Kolkata"));
        assert!(guess(&[]).is_none());
    }
}
