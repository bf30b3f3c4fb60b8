//! Rules that span several fields of a record.

use chrono::NaiveDate;

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

#[cfg(test)]
mod tests {
    use super::*;

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
