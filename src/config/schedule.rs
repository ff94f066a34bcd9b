//! What a cron line means in a time zone: the next runs, the period a moment belongs to, the runs
//! missed between two moments. croner (the parser tokio-cron-scheduler runs on) applies the
//! daylight-saving rules: a job whose local time is skipped (02:30 on spring-forward day) runs
//! once at the first time after the gap (03:00); a job whose local time happens twice (01:30 on
//! fall-back day) runs once, at the first. Every time here is computed from a given instant, so
//! tests inject the clock.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};

/// A parsed cron line in its time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    pub tz: Tz,
    /// As written (5 fields, or 6 with seconds first).
    pub text: String,
}

impl Schedule {
    /// Parses a 5-field line (minute hour day month weekday) or a 6-field one with seconds first.
    /// When both day-of-month and weekday are restricted, both must match (as the scheduler does).
    pub fn parse(text: &str, tz: Tz) -> Result<Schedule, String> {
        let fields = text.split_whitespace().count();
        if !(fields == 5 || fields == 6) {
            return Err(format!(
                "cron = `{text}` has {fields} fields: write 5 (minute hour day month weekday, e.g. \"0 9 * * MON\") \
                 or 6 with seconds first"
            ));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .dom_and_dow(true)
            .build()
            .parse(text)
            .map_err(|e| format!("cron = `{text}`: {e}"))?;
        Ok(Schedule { cron, tz, text: text.to_string() })
    }

    /// The line with seconds first (what tokio-cron-scheduler reads).
    pub fn with_seconds(&self) -> String {
        if self.text.split_whitespace().count() == 5 { format!("0 {}", self.text) } else { self.text.clone() }
    }

    /// The first run strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Tz>> {
        // Whole seconds: croner keeps the fraction of the instant it starts from.
        let t = DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t);
        self.cron.find_next_occurrence(&t.with_timezone(&self.tz), false).ok()
    }

    /// The next `n` runs strictly after `t`.
    pub fn upcoming(&self, t: DateTime<Utc>, n: usize) -> Vec<DateTime<Tz>> {
        let mut out = Vec::with_capacity(n);
        let mut at = t;
        while out.len() < n {
            let Some(next) = self.next_after(at) else { break };
            at = next.with_timezone(&Utc);
            out.push(next);
        }
        out
    }

    /// The period `t` belongs to: the latest run at or before `t` (searched back a year).
    pub fn period_of(&self, t: DateTime<Utc>) -> Option<DateTime<Tz>> {
        // Forward from the nearest window that holds a run: the occurrences croner finds going
        // forward are the ones the scheduler runs (its backward search treats the gap differently).
        for back in [
            Duration::minutes(1),
            Duration::hours(1),
            Duration::days(1),
            Duration::days(8),
            Duration::days(32),
            Duration::days(366),
        ] {
            let runs = self.missed(t - back, t, usize::MAX);
            if let Some(last) = runs.last() {
                return Some(*last);
            }
        }
        None
    }

    /// The runs after `from` and at or before `until` (the ones missed while nothing ran), at most `cap`.
    pub fn missed(&self, from: DateTime<Utc>, until: DateTime<Utc>, cap: usize) -> Vec<DateTime<Tz>> {
        let mut out = Vec::new();
        let mut at = from;
        while out.len() < cap {
            match self.next_after(at) {
                Some(n) if n.with_timezone(&Utc) <= until => {
                    at = n.with_timezone(&Utc);
                    out.push(n);
                }
                _ => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn runs(cron: &str, tz: Tz, from: &str, n: usize) -> Vec<String> {
        Schedule::parse(cron, tz).unwrap().upcoming(utc(from), n).iter().map(|d| d.to_rfc3339()).collect()
    }

    #[test]
    fn monday_nine_in_rome() {
        assert_eq!(
            runs("0 9 * * MON", chrono_tz::Europe::Rome, "2024-10-01T12:00:00Z", 3),
            ["2024-10-07T09:00:00+02:00", "2024-10-14T09:00:00+02:00", "2024-10-21T09:00:00+02:00"]
        );
        // Across the end of summer time (27 October 2024): still 09:00 local, one hour later in UTC.
        assert_eq!(
            runs("0 9 * * MON", chrono_tz::Europe::Rome, "2024-10-22T00:00:00Z", 2),
            ["2024-10-28T09:00:00+01:00", "2024-11-04T09:00:00+01:00"]
        );
    }

    #[test]
    fn spring_forward_runs_a_skipped_time_once_at_the_end_of_the_gap() {
        // New York, 10 March 2024: 02:00 EST jumps to 03:00 EDT.
        assert_eq!(
            runs("30 2 * * *", chrono_tz::America::New_York, "2024-03-08T12:00:00Z", 4),
            [
                "2024-03-09T02:30:00-05:00",
                "2024-03-10T03:00:00-04:00",
                "2024-03-11T02:30:00-04:00",
                "2024-03-12T02:30:00-04:00"
            ]
        );
        // Berlin, 31 March 2024: 02:00 CET jumps to 03:00 CEST.
        assert_eq!(
            runs("30 2 * * *", chrono_tz::Europe::Berlin, "2024-03-29T12:00:00Z", 4),
            [
                "2024-03-30T02:30:00+01:00",
                "2024-03-31T03:00:00+02:00",
                "2024-04-01T02:30:00+02:00",
                "2024-04-02T02:30:00+02:00"
            ]
        );
    }

    #[test]
    fn fall_back_runs_a_repeated_time_once() {
        // New York, 3 November 2024: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
        assert_eq!(
            runs("30 1 * * *", chrono_tz::America::New_York, "2024-11-01T12:00:00Z", 4),
            [
                "2024-11-02T01:30:00-04:00",
                "2024-11-03T01:30:00-04:00",
                "2024-11-04T01:30:00-05:00",
                "2024-11-05T01:30:00-05:00"
            ]
        );
        // Berlin, 27 October 2024: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
        assert_eq!(
            runs("30 2 * * *", chrono_tz::Europe::Berlin, "2024-10-25T12:00:00Z", 4),
            [
                "2024-10-26T02:30:00+02:00",
                "2024-10-27T02:30:00+02:00",
                "2024-10-28T02:30:00+01:00",
                "2024-10-29T02:30:00+01:00"
            ]
        );
        // An hourly job runs at each wall-clock hour once: 23 runs on the short day, and 24 on the
        // long one (the repeated 01:00 runs once, like a fixed time).
        let hourly = Schedule::parse("0 * * * *", chrono_tz::America::New_York).unwrap();
        let day = |d: u32, m: u32| {
            let start = chrono_tz::America::New_York.with_ymd_and_hms(2024, m, d, 0, 0, 0).unwrap().with_timezone(&Utc);
            let end =
                chrono_tz::America::New_York.with_ymd_and_hms(2024, m, d + 1, 0, 0, 0).unwrap().with_timezone(&Utc);
            hourly.missed(start - Duration::seconds(1), end - Duration::seconds(1), 100).len()
        };
        assert_eq!((day(9, 3), day(10, 3), day(3, 11)), (24, 23, 24));
    }

    #[test]
    fn a_moment_belongs_to_the_latest_run_at_or_before_it() {
        let s = Schedule::parse("0 9 * * MON", chrono_tz::Europe::Rome).unwrap();
        let p = |t: &str| s.period_of(utc(t)).map(|d| d.to_rfc3339());
        assert_eq!(p("2024-10-01T21:59:59Z").as_deref(), Some("2024-09-30T09:00:00+02:00"));
        assert_eq!(p("2024-10-07T07:00:00Z").as_deref(), Some("2024-10-07T09:00:00+02:00"));
        assert_eq!(p("2024-10-07T06:59:59Z").as_deref(), Some("2024-09-30T09:00:00+02:00"));
        let ny = Schedule::parse("30 2 * * *", chrono_tz::America::New_York).unwrap();
        assert_eq!(
            ny.period_of(utc("2024-03-10T08:00:00Z")).map(|d| d.to_rfc3339()).as_deref(),
            Some("2024-03-10T03:00:00-04:00")
        );
    }

    #[test]
    fn missed_runs_are_listed_in_order() {
        let s = Schedule::parse("0 * * * *", chrono_tz::Tz::UTC).unwrap();
        let m = s.missed(utc("2024-01-01T00:30:00Z"), utc("2024-01-01T03:00:00Z"), 10);
        assert_eq!(m.len(), 3);
        assert_eq!(s.missed(utc("2024-01-01T00:30:00Z"), utc("2024-01-01T03:00:00Z"), 1).len(), 1);
    }

    #[test]
    fn runs_fall_on_whole_seconds() {
        let s = Schedule::parse("*/2 * * * * *", chrono_tz::Tz::UTC).unwrap();
        let p = s.period_of(utc("2024-01-01T00:00:03.456789Z")).unwrap();
        assert_eq!(p.to_rfc3339(), "2024-01-01T00:00:02+00:00");
        assert_eq!(s.next_after(utc("2024-01-01T00:00:03.5Z")).unwrap().to_rfc3339(), "2024-01-01T00:00:04+00:00");
    }

    #[test]
    fn bad_lines_say_why() {
        assert!(Schedule::parse("0 9 * *", chrono_tz::Tz::UTC).unwrap_err().contains("4 fields"));
        assert!(Schedule::parse("0 25 * * *", chrono_tz::Tz::UTC).is_err());
        assert_eq!(Schedule::parse("*/2 * * * * *", chrono_tz::Tz::UTC).unwrap().with_seconds(), "*/2 * * * * *");
        assert_eq!(Schedule::parse("0 9 * * MON", chrono_tz::Tz::UTC).unwrap().with_seconds(), "0 0 9 * * MON");
    }
}
