//! Rules that span several fields of a record.

use chrono::NaiveDate;

use crate::date::PartialDate;

/// A date range whose end comes before its start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{end_field} ({end}) is before {start_field} ({start})")]
pub struct DateOrderError {
    /// Name of the start field.
    pub start_field: &'static str,
    /// The start date.
    pub start: NaiveDate,
    /// Name of the end field.
    pub end_field: &'static str,
    /// The end date.
    pub end: NaiveDate,
}

/// Checks that `end` (when both are known) is not before `start`.
pub fn check_date_order(
    start_field: &'static str,
    start: Option<NaiveDate>,
    end_field: &'static str,
    end: Option<NaiveDate>,
) -> Result<(), DateOrderError> {
    match (start, end) {
        (Some(start), Some(end)) if end < start => Err(DateOrderError { start_field, start, end_field, end }),
        _ => Ok(()),
    }
}

/// A range of partial dates whose end is wholly before its start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{end_field} ({end}) is before {start_field} ({start})")]
pub struct PartialDateOrderError {
    /// Name of the start field.
    pub start_field: &'static str,
    /// The start date, at its precision.
    pub start: PartialDate,
    /// Name of the end field.
    pub end_field: &'static str,
    /// The end date, at its precision.
    pub end: PartialDate,
}

/// Checks that `end` (when both are known) is not before `start`, comparing the periods
/// the dates stand for rather than their first days.
///
/// A date known to the year or month is a period; the end is "before" the start only when
/// the whole end period ends before the start period begins. So `2017` and `2017-11-18`
/// are in order either way round (they overlap), while `2017-10` is before `2017-11-18`
/// and `2016` is before `2017`. Comparing padded first days instead would wrongly reject
/// an announcement on `2017-11-18` followed by an opening "in 2017".
pub fn check_partial_date_order(
    start_field: &'static str,
    start: Option<PartialDate>,
    end_field: &'static str,
    end: Option<PartialDate>,
) -> Result<(), PartialDateOrderError> {
    match (start, end) {
        (Some(start), Some(end)) if end.last_day() < start.first_day() => {
            Err(PartialDateOrderError { start_field, start, end_field, end })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<PartialDate> {
        Some(s.parse().expect("partial date"))
    }

    #[test]
    fn a_year_and_a_day_inside_it_are_in_order_either_way_round() {
        assert!(check_partial_date_order("announcedOn", p("2017-11-18"), "openedOn", p("2017")).is_ok());
        assert!(check_partial_date_order("announcedOn", p("2017"), "openedOn", p("2017-11-18")).is_ok());
        assert!(check_partial_date_order("announcedOn", p("2017-11"), "openedOn", p("2017-11-01")).is_ok());
    }

    #[test]
    fn a_period_wholly_before_the_start_is_rejected_at_its_precision() {
        let err = check_partial_date_order("announcedOn", p("2017-11-18"), "openedOn", p("2017-10"))
            .expect_err("October is before 18 November");
        assert_eq!(err.to_string(), "openedOn (2017-10) is before announcedOn (2017-11-18)");
        assert!(check_partial_date_order("enteredOn", p("2017"), "graduatedOn", p("2016-12-31")).is_err());
        assert!(check_partial_date_order("enteredOn", p("2017-11-18"), "graduatedOn", p("2017-11-17")).is_err());
    }

    #[test]
    fn partial_ranges_with_an_unknown_end_are_accepted() {
        assert!(check_partial_date_order("a", p("2017"), "b", None).is_ok());
        assert!(check_partial_date_order("a", None, "b", p("2017")).is_ok());
    }

    fn d(s: &str) -> Option<NaiveDate> {
        s.parse().ok()
    }

    #[test]
    fn graduated_before_entered_is_rejected() {
        let err =
            check_date_order("enteredOn", d("2019-05-01"), "graduatedOn", d("2018-01-01")).expect_err("must fail");
        assert_eq!(err.to_string(), "graduatedOn (2018-01-01) is before enteredOn (2019-05-01)");
    }

    #[test]
    fn open_or_ordered_ranges_are_accepted() {
        assert!(check_date_order("a", d("2019-05-01"), "b", d("2019-05-01")).is_ok());
        assert!(check_date_order("a", None, "b", d("2019-05-01")).is_ok());
        assert!(check_date_order("a", d("2019-05-01"), "b", None).is_ok());
    }
}
