//! The validation error types: one problem ([`FieldError`]) and all of a command's
//! problems ([`Invalid`]), plus the collector ([`Errors`]) validators write into.
//!
//! Error policy: these are *user* errors, caused by the input and fixable by whoever sent
//! it. They are safe to show to any caller allowed to send the command (they name only
//! the caller's own input and, for a duplicate USCC, the id of the record that holds it).
//! Authorization failures, stale versions and internal faults are not validation errors
//! and never appear here.

use std::fmt;
use std::str::FromStr;

use crate::date::PartialDate;
use crate::kinds::UnknownCode;

/// What kind of problem a field has. [`ErrorCode::code`] is the stable string clients
/// match on (the `code` of a GraphQL `userError`); never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// A required value is missing or blank.
    Required,
    /// Text longer than the field allows.
    TooLong,
    /// Text that is not in the expected shape (a date, a URL, a code).
    InvalidFormat,
    /// A code whose check character is wrong (a USCC without an override).
    InvalidChecksum,
    /// A number outside its allowed range (coordinates, negative amounts, years).
    OutOfRange,
    /// A date that is before the date it must follow, or in the future.
    DateOrder,
    /// A code that names no value of its vocabulary.
    UnknownValue,
    /// A parent that would make a record its own ancestor.
    Cycle,
    /// A hierarchy deeper than the registry allows.
    TooDeep,
    /// A value that must be unique and is already used.
    Duplicate,
    /// A reference to a record of the wrong kind.
    WrongKind,
    /// A reference to a record that does not exist (or is archived).
    NotFound,
    /// Values that cannot hold together (an override without a reason, a half coordinate).
    Inconsistent,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: &'static [Self] = &[
        Self::Required,
        Self::TooLong,
        Self::InvalidFormat,
        Self::InvalidChecksum,
        Self::OutOfRange,
        Self::DateOrder,
        Self::UnknownValue,
        Self::Cycle,
        Self::TooDeep,
        Self::Duplicate,
        Self::WrongKind,
        Self::NotFound,
        Self::Inconsistent,
    ];

    /// The stable code.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Required => "REQUIRED",
            Self::TooLong => "TOO_LONG",
            Self::InvalidFormat => "INVALID_FORMAT",
            Self::InvalidChecksum => "INVALID_CHECKSUM",
            Self::OutOfRange => "OUT_OF_RANGE",
            Self::DateOrder => "DATE_ORDER",
            Self::UnknownValue => "UNKNOWN_VALUE",
            Self::Cycle => "CYCLE",
            Self::TooDeep => "TOO_DEEP",
            Self::Duplicate => "DUPLICATE",
            Self::WrongKind => "WRONG_KIND",
            Self::NotFound => "NOT_FOUND",
            Self::Inconsistent => "INCONSISTENT",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One problem with one field of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The input path as the API spells it: `uscc`, `foundedOn`, `locations[0].parkId`.
    pub field: String,
    /// What kind of problem.
    pub code: ErrorCode,
    /// A sentence a member of staff can act on.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { field: field.into(), code, message: message.into() }
    }

    /// The same problem, with its path placed under `prefix` (`locations[0]` + `parkId`
    /// gives `locations[0].parkId`).
    pub fn under(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() { prefix.to_string() } else { format!("{prefix}.{}", self.field) };
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.code)
    }
}

impl std::error::Error for FieldError {}

/// Every problem found in a command; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(Vec<FieldError>);

impl Invalid {
    /// The problems, in the order they were found (fields in input order).
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// The problems, owned.
    pub fn into_errors(self) -> Vec<FieldError> {
        self.0
    }

    /// The same problems with every path placed under `prefix` (for nested inputs).
    pub fn under(self, prefix: &str) -> Self {
        Self(self.0.into_iter().map(|e| e.under(prefix)).collect())
    }
}

impl From<FieldError> for Invalid {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let problems: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "invalid input: {}", problems.join("; "))
    }
}

impl std::error::Error for Invalid {}

/// Collects problems while a command is checked; [`Errors::finish`] turns them into a
/// result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    /// No problems yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem.
    pub fn push(&mut self, field: impl Into<String>, code: ErrorCode, message: impl Into<String>) {
        self.0.push(FieldError::new(field, code, message));
    }

    /// Records a problem already built.
    pub fn add(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Records the problems of a result, if any (to merge a nested draft's or the service's
    /// own checks), and returns its value.
    pub fn extend<T>(&mut self, result: Result<T, Invalid>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(invalid) => {
                self.0.extend(invalid.0);
                None
            }
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was recorded, otherwise every problem.
    pub fn finish<T>(self, value: T) -> Result<T, Invalid> {
        if self.0.is_empty() { Ok(value) } else { Err(Invalid(self.0)) }
    }

    /// Like [`Errors::finish`], after adding the problems of `result` (a nested check).
    pub fn finish_with<T>(mut self, result: Result<T, Invalid>) -> Result<T, Invalid> {
        match result {
            Ok(value) => self.finish(value),
            Err(invalid) => {
                self.0.extend(invalid.0);
                Err(Invalid(self.0))
            }
        }
    }

    /// Parses a vocabulary code typed as text (an import column, a CLI flag); an unknown
    /// code is recorded as `UNKNOWN_VALUE` naming the accepted codes.
    pub fn parse_code<T: FromStr<Err = UnknownCode>>(&mut self, field: &str, text: &str) -> Option<T> {
        match text.parse() {
            Ok(value) => Some(value),
            Err(UnknownCode { vocabulary, value, expected }) => {
                self.push(
                    field,
                    ErrorCode::UnknownValue,
                    format!("\"{value}\" is not a {vocabulary}; use one of: {expected}."),
                );
                None
            }
        }
    }

    /// Parses a date typed as text at year, month or day precision; anything else is
    /// recorded as `INVALID_FORMAT`.
    pub fn parse_date(&mut self, field: &str, text: &str) -> Option<PartialDate> {
        match text.trim().parse() {
            Ok(date) => Some(date),
            Err(_) => {
                self.push(
                    field,
                    ErrorCode::InvalidFormat,
                    format!("\"{text}\" is not a date; write it as YYYY, YYYY-MM or YYYY-MM-DD."),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::ParkKind;

    #[test]
    fn every_code_is_upper_snake_case_and_distinct() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            let text = code.code();
            assert!(text.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'), "{text}");
            assert!(seen.insert(text), "{text} twice");
        }
        assert_eq!(ErrorCode::InvalidChecksum.to_string(), "INVALID_CHECKSUM");
    }

    #[test]
    fn nested_errors_are_placed_under_their_input_path() {
        let invalid =
            Invalid::from(FieldError::new("parkId", ErrorCode::NotFound, "No such park.")).under("locations[0]");
        assert_eq!(invalid.errors()[0].field, "locations[0].parkId");
    }

    #[test]
    fn errors_collect_every_problem_and_finish_with_all_of_them() {
        let mut errors = Errors::new();
        assert_eq!(errors.parse_code::<ParkKind>("kind", "CASTLE"), None);
        assert_eq!(errors.parse_date("establishedOn", "18/11/2017"), None);
        assert_eq!(errors.parse_date("asOf", " 2017-11 ").map(|d| d.to_string()), Some("2017-11".to_string()));
        let invalid = errors.finish(()).expect_err("two problems");
        let codes: Vec<_> = invalid.errors().iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(codes, [("kind", ErrorCode::UnknownValue), ("establishedOn", ErrorCode::InvalidFormat)]);
        assert!(invalid.errors()[0].message.contains("NATIONAL_HIGH_TECH_ZONE"));
    }

    #[test]
    fn no_problems_finish_with_the_value() {
        assert_eq!(Errors::new().finish(7), Ok(7));
    }
}
