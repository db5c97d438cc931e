use crate::error::{Error, Result};
use chrono::{Datelike, Days, NaiveDate, Weekday};

/// Trading days per year: the convention that maps year fractions onto
/// business days (and daily returns onto annualised figures).
pub const TRADING_DAYS_PER_YEAR: f64 = 252.0;

/// Parses a strict ISO-8601 calendar date `YYYY-MM-DD` (exactly ten
/// characters, zero-padded). Returns a message on failure.
pub fn parse_iso_date(s: &str) -> std::result::Result<NaiveDate, String> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return Err(format!("`{s}` is not an ISO date (expected YYYY-MM-DD)"));
    }
    // The shape is checked, so the digits convert directly (chrono's
    // format-string parser costs about as much as the rest of a CSV row).
    let num = |r: std::ops::Range<usize>| {
        b[r].iter()
            .fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'))
    };
    NaiveDate::from_ymd_opt(num(0..4) as i32, num(5..7), num(8..10))
        .ok_or_else(|| format!("`{s}` is not a valid calendar date"))
}

/// A Monday–Friday business-day calendar (no holidays) anchored at a start
/// date. Grid time `t` (years) falls on business day `round(t·252)` after the
/// start, so with `dt = 1/252` step `k` is the `k`-th business day after the
/// start; with intraday steps several steps share a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessCalendar {
    start: NaiveDate,
}

impl BusinessCalendar {
    /// A calendar starting on `start`, which must be a weekday.
    pub fn new(start: NaiveDate) -> Result<Self> {
        if matches!(start.weekday(), Weekday::Sat | Weekday::Sun) {
            return Err(Error::parameter(
                "start",
                start,
                format!(
                    "falls on a {}; the calendar is Monday–Friday, so start on a business day",
                    if start.weekday() == Weekday::Sat {
                        "Saturday"
                    } else {
                        "Sunday"
                    }
                ),
            ));
        }
        Ok(BusinessCalendar { start })
    }

    /// The first date.
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// The date `n` business days after the start.
    pub fn add_business_days(&self, n: u64) -> NaiveDate {
        // Whole weeks first, then the remainder day by day (at most 4 days).
        let weeks = n / 5;
        let mut date = self.start + Days::new(weeks * 7);
        let mut rest = n % 5;
        while rest > 0 {
            date = date + Days::new(1);
            if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                rest -= 1;
            }
        }
        date
    }

    /// Number of Monday–Friday days in `(from, to]` (0 if `to ≤ from`).
    pub fn business_days_between(from: NaiveDate, to: NaiveDate) -> u64 {
        if to <= from {
            return 0;
        }
        let days = (to - from).num_days() as u64;
        let (weeks, rest) = (days / 7, days % 7);
        let mut n = weeks * 5;
        let mut d = from + Days::new(weeks * 7);
        for _ in 0..rest {
            d = d + Days::new(1);
            if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
                n += 1;
            }
        }
        n
    }

    /// The third Friday of a month: the standard monthly equity-option
    /// expiry (holidays are not modelled).
    pub fn third_friday(year: i32, month: u32) -> Option<NaiveDate> {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let offset =
            (Weekday::Fri.num_days_from_monday() + 7 - first.weekday().num_days_from_monday()) % 7;
        Some(first + Days::new(u64::from(offset) + 14))
    }

    /// The next `n` monthly (third-Friday) expiries strictly after `date`.
    pub fn monthly_expiries_after(date: NaiveDate, n: usize) -> Vec<NaiveDate> {
        let (mut y, mut m) = (date.year(), date.month());
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            if let Some(f) = Self::third_friday(y, m) {
                if f > date {
                    out.push(f);
                }
            }
            m += 1;
            if m == 13 {
                m = 1;
                y += 1;
            }
        }
        out
    }

    /// The date of grid time `t` years.
    pub fn date_at(&self, t: f64) -> NaiveDate {
        self.add_business_days((t * TRADING_DAYS_PER_YEAR).round().max(0.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_days_skip_weekends() {
        // 2025-01-03 is a Friday.
        let cal = BusinessCalendar::new(NaiveDate::from_ymd_opt(2025, 1, 3).unwrap()).unwrap();
        assert_eq!(cal.add_business_days(1).to_string(), "2025-01-06");
        assert_eq!(cal.add_business_days(5).to_string(), "2025-01-10");
        assert_eq!(cal.add_business_days(6).to_string(), "2025-01-13");
        // 252 Mon–Fri days after 2025-01-02 (Thu) is 2025-12-22 (counted
        // independently with Python's datetime, stepping one day at a time).
        let cal = BusinessCalendar::new(NaiveDate::from_ymd_opt(2025, 1, 2).unwrap()).unwrap();
        assert_eq!(cal.date_at(1.0).to_string(), "2025-12-22");
    }

    #[test]
    fn third_fridays_and_business_day_counts() {
        // Third Fridays of 2025 (checked against a printed calendar).
        let fridays: Vec<String> = (1..=3)
            .map(|m| BusinessCalendar::third_friday(2025, m).unwrap().to_string())
            .collect();
        assert_eq!(fridays, ["2025-01-17", "2025-02-21", "2025-03-21"]);
        let d = NaiveDate::from_ymd_opt(2025, 1, 17).unwrap();
        let next: Vec<String> = BusinessCalendar::monthly_expiries_after(d, 2)
            .iter()
            .map(|x| x.to_string())
            .collect();
        assert_eq!(
            next,
            ["2025-02-21", "2025-03-21"],
            "an expiry on the date itself has expired"
        );
        let mon = NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
        assert_eq!(BusinessCalendar::business_days_between(mon, d), 9);
        assert_eq!(BusinessCalendar::business_days_between(d, mon), 0);
        // Consistent with the calendar's own stepping.
        let cal = BusinessCalendar::new(mon).unwrap();
        for n in [1, 4, 5, 6, 17, 252] {
            assert_eq!(
                BusinessCalendar::business_days_between(mon, cal.add_business_days(n)),
                n
            );
        }
    }

    #[test]
    fn rejects_weekend_start_and_loose_dates() {
        let sat = NaiveDate::from_ymd_opt(2025, 1, 4).unwrap();
        let err = BusinessCalendar::new(sat).unwrap_err().to_string();
        assert!(err.contains("start") && err.contains("Saturday"), "{err}");
        assert!(parse_iso_date("2025-1-02").is_err());
        assert!(parse_iso_date("2025/01/02").is_err());
        assert!(parse_iso_date("2025-02-30").is_err());
        assert_eq!(
            parse_iso_date("2024-02-29").unwrap().to_string(),
            "2024-02-29"
        );
    }
}
