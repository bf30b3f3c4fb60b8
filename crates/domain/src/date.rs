//! Dates known to a year, a month or a day.
//!
//! Sources often give only a year ("founded in 1988") or a month ("approved in November
//! 2017"). A [`PartialDate`] keeps what is known and no more: it is stored as the first
//! day of its period plus a [`DatePrecision`], and shown at its precision (`1988`,
//! `2017-11`, `2018-05-16`), never as an invented day.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

use crate::kinds::DatePrecision;

/// A date known to a year, a month or a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartialDate {
    date: NaiveDate,
    precision: DatePrecision,
}

/// Text that is not a date at year, month or day precision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a date; expected YYYY, YYYY-MM or YYYY-MM-DD")]
pub struct PartialDateError(pub String);

impl PartialDate {
    /// The period of `precision` that contains `date` (a year's or month's date is moved
    /// to the period's first day).
    pub fn new(date: NaiveDate, precision: DatePrecision) -> Self {
        let date = match precision {
            DatePrecision::Year => NaiveDate::from_ymd_opt(date.year(), 1, 1).unwrap_or(date),
            DatePrecision::Month => date.with_day(1).unwrap_or(date),
            DatePrecision::Day => date,
        };
        Self { date, precision }
    }

    /// A date known to the day.
    pub fn day(date: NaiveDate) -> Self {
        Self { date, precision: DatePrecision::Day }
    }

    /// From a stored date and its stored precision code; no precision (rows written before
    /// precision was recorded) means the day. An unknown code is an error.
    pub fn from_stored(date: NaiveDate, precision: Option<&str>) -> Result<Self, crate::UnknownCode> {
        let precision = precision.map(DatePrecision::from_str).transpose()?.unwrap_or(DatePrecision::Day);
        Ok(Self::new(date, precision))
    }

    /// The first day of the period (the stored date).
    pub fn first_day(self) -> NaiveDate {
        self.date
    }

    /// The last day of the period.
    pub fn last_day(self) -> NaiveDate {
        let next = match self.precision {
            DatePrecision::Year => NaiveDate::from_ymd_opt(self.date.year() + 1, 1, 1),
            DatePrecision::Month => self.date.checked_add_months(chrono::Months::new(1)),
            DatePrecision::Day => return self.date,
        };
        next.and_then(|d| d.pred_opt()).unwrap_or(self.date)
    }

    /// How much of the date is known.
    pub fn precision(self) -> DatePrecision {
        self.precision
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.date.year()
    }

    /// The day, when the date is known to the day.
    pub fn exact_day(self) -> Option<NaiveDate> {
        (self.precision == DatePrecision::Day).then_some(self.date)
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.precision {
            DatePrecision::Year => write!(f, "{:04}", self.date.year()),
            DatePrecision::Month => write!(f, "{:04}-{:02}", self.date.year(), self.date.month()),
            DatePrecision::Day => write!(f, "{}", self.date.format("%Y-%m-%d")),
        }
    }
}

impl FromStr for PartialDate {
    type Err = PartialDateError;

    /// Parses `2017`, `2017-11` or `2017-11-18`; nothing else (no padding, no other order).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || PartialDateError(s.to_string());
        let parts: Vec<&str> = s.split('-').collect();
        let number = |part: &str, len: usize| -> Result<u32, PartialDateError> {
            if part.len() == len && part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().map_err(|_| err())
            } else {
                Err(err())
            }
        };
        let (year, month, day, precision) = match parts.as_slice() {
            [y] => (number(y, 4)?, 1, 1, DatePrecision::Year),
            [y, m] => (number(y, 4)?, number(m, 2)?, 1, DatePrecision::Month),
            [y, m, d] => (number(y, 4)?, number(m, 2)?, number(d, 2)?, DatePrecision::Day),
            _ => return Err(err()),
        };
        let year = i32::try_from(year).map_err(|_| err())?;
        let date = NaiveDate::from_ymd_opt(year, month, day).ok_or_else(err)?;
        Ok(Self { date, precision })
    }
}

impl serde::Serialize for PartialDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PartialDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> PartialDate {
        s.parse().expect("parses")
    }

    #[test]
    fn each_precision_parses_and_prints_as_written() {
        for text in ["1988", "2017-11", "2017-11-18", "2000-02-29"] {
            assert_eq!(parse(text).to_string(), text);
        }
        assert_eq!(parse("2017").precision(), DatePrecision::Year);
        assert_eq!(parse("2017-11").precision(), DatePrecision::Month);
        assert_eq!(parse("2017-11-18").exact_day(), NaiveDate::from_ymd_opt(2017, 11, 18));
    }

    #[test]
    fn a_year_or_month_is_stored_as_its_first_day_and_never_shown_as_one() {
        let year = parse("1991");
        assert_eq!(year.first_day(), NaiveDate::from_ymd_opt(1991, 1, 1).expect("date"));
        assert_eq!(year.last_day(), NaiveDate::from_ymd_opt(1991, 12, 31).expect("date"));
        assert_eq!(year.exact_day(), None);
        let month = parse("2020-02");
        assert_eq!(month.last_day(), NaiveDate::from_ymd_opt(2020, 2, 29).expect("date"));
        assert_eq!(month.to_string(), "2020-02");
    }

    #[test]
    fn malformed_or_impossible_dates_are_rejected() {
        for text in ["", "17", "2017-1", "2017-13", "2017-02-30", "2017/11/18", "2017-11-18T00:00", "２０１７", "-2017"]
        {
            assert!(text.parse::<PartialDate>().is_err(), "{text:?}");
        }
    }

    #[test]
    fn stored_rows_without_a_precision_are_days() {
        let d = NaiveDate::from_ymd_opt(2019, 5, 16).expect("date");
        assert_eq!(PartialDate::from_stored(d, None).expect("ok"), PartialDate::day(d));
        let y = PartialDate::from_stored(d, Some("YEAR")).expect("ok");
        assert_eq!(y.to_string(), "2019");
        assert!(PartialDate::from_stored(d, Some("WEEK")).is_err());
    }
}
