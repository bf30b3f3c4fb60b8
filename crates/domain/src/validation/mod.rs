//! Validation of write commands: every problem of a command, in terms a client can act on.
//!
//! # How the service layer uses this
//!
//! Every create or update command of the registry (a GraphQL mutation, the CLI, the seed,
//! an import) goes through the same three steps, so the rules hold whichever way data
//! enters:
//!
//! 1. **Build a draft.** The transport turns its input into a draft in domain types
//!    ([`OrganizationDraft`], [`ParkDraft`], [`IncubationDraft`], …). Text that must still
//!    be parsed (a kind code or a date typed into an import file) goes through
//!    [`Errors::parse_code`] and [`Errors::parse_date`], which record an `UNKNOWN_VALUE` or
//!    `INVALID_FORMAT` problem instead of stopping.
//! 2. **Validate, purely.** A create calls `draft.validate(today)`; an update calls
//!    `patch.apply(current, today)` where `current` is the stored record as a draft and each
//!    field of the patch is [`Patch::Unchanged`], [`Patch::Set`] or [`Patch::Clear`]. Both
//!    check the *whole* resulting record, so a patch that only sets `graduatedOn` is
//!    checked against the stored `enteredOn`. Both return either a [`Valid`] record
//!    (trimmed, empty optional text turned into "none") or [`Invalid`], which lists *every*
//!    problem found, not just the first.
//! 3. **Check what needs the database, inside the write transaction.** The domain cannot
//!    see other rows, so the service, in the same transaction that writes the row:
//!    - looks up each reference the draft names (`draft.references()`) and passes what it
//!      found to [`check_references`] (missing → `NOT_FOUND`, wrong kind of record or of
//!      organization → `WRONG_KIND`);
//!    - for a park's parent, calls [`check_no_cycle`] with a lookup of parent ids;
//!    - for an organization's USCC, looks for another live (not archived) organization with
//!      the same code and, if one exists, returns [`UsccTaken`] as a `DUPLICATE` error on
//!      `uscc`. A unique index on live codes backs this up: a violation that races past
//!      the check must map to the same [`UsccTaken`] error, never a 500.
//!
//! All problems of steps 2 and 3 are merged (see [`Errors::extend`]) and, if any, the
//! command changes nothing and the API returns them as `userErrors { field message code }`:
//! [`FieldError::field`] is the input path as the API spells it (`uscc`,
//! `locations[0].parkId`; use [`Invalid::under`] for nested inputs), [`ErrorCode::code`] the
//! stable code, and [`FieldError::message`] a sentence a member of staff can act on.
//!
//! A USCC that fails only its checksum (an early pilot code) is accepted when the draft
//! carries a [`UsccOverride`] saying who accepted it and why; the valid record then has a
//! [`Valid::uscc_warning`](Valid#method.uscc_warning) the service stores with the code.
//!
//! Validating an update re-checks the whole record, so a stored record that breaks a rule
//! added later must be corrected in the same update (except a stored USCC, whose earlier
//! acceptance is not re-litigated while the update leaves it unchanged).
//!
//! `today` is the current date in the registry's time zone (Asia/Shanghai for Wuhan), taken
//! once per command by the service, so validation stays pure and testable.
//!
//! # The rules
//!
//! - **Text**: trimmed; names required and at most [`MAX_NAME_LEN`] characters; short texts
//!   [`MAX_SHORT_TEXT_LEN`], notes [`MAX_NOTE_LEN`]; blank optional text is stored as none.
//! - **URLs** (`website`, `sourceUrl`): absolute `http`/`https` with a host, no credentials
//!   ([`check_http_url`]). E-mail and phone numbers are checked for shape.
//! - **Numbers**: money, headcounts, areas and valuations not negative; coordinates in
//!   −90..90 / −180..180 and given in pairs; a figure's value finite and not negative
//!   unless it is a percentage; a designation's year from [`FIRST_DESIGNATION_YEAR`] to
//!   this year.
//! - **Dates** are [`PartialDate`](crate::PartialDate)s. Founding, establishment, approval,
//!   announcement, entry, joining, designation and as-of dates are not in the future (a
//!   period is in the future only if it starts after today). Ranges are compared at their
//!   precisions by overlap ([`check_partial_date_order`](crate::check_partial_date_order)):
//!   `graduatedOn ≥ enteredOn`, `openedOn ≥ announcedOn`; the error is on the later field.
//! - **USCC**: [`Uscc::parse`](crate::Uscc::parse); a checksum failure needs a
//!   [`UsccOverride`] (who and why, both required); length and alphabet are never waived.
//! - **References** ([`Reference`]): a park's parent, an incubator's park, an innovation
//!   center's host park, a figure's or a park designation's park, a location's park: a
//!   park. An incubator's operator, a second HQ's parent, a membership's member: any
//!   organization. A location's firm, an incubatee, a designated firm and a second HQ's
//!   local entity: an organization of kind `ENTERPRISE`. An incubation's incubator: an
//!   incubator; a membership's center: an innovation center.
//! - **Consistency**: a firm still `INCUBATING` has no `graduatedOn`; a second HQ's local
//!   entity is not its parent; its functions are not repeated; a figure names a park or a
//!   city.
//! - **Database rules** (service, in its transaction): references exist and are live;
//!   no park its own ancestor ([`check_no_cycle`]); no two live organizations with one
//!   USCC ([`UsccTaken`]; on update, the organization itself does not count).
//!
//! # Example: an update, as the service runs it
//!
//! ```
//! use chrono::NaiveDate;
//! use parkgraph_domain::IncubationStatus;
//! use parkgraph_domain::validation::{IncubationDraft, IncubationPatch, Patch};
//! use uuid::Uuid;
//!
//! let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
//! // The stored record, read in the transaction and turned into a draft.
//! let stored = IncubationDraft {
//!     entered_on: Some("2015-03".parse().unwrap()),
//!     ..IncubationDraft::new(Uuid::nil(), Uuid::max(), IncubationStatus::Incubating)
//! };
//! // The command: graduate the firm in 2014, which is before it entered.
//! let patch = IncubationPatch {
//!     status: Patch::Set(IncubationStatus::Graduated),
//!     graduated_on: Patch::Set("2014".parse().unwrap()),
//!     ..Default::default()
//! };
//! let invalid = patch.apply(&stored, today).unwrap_err();
//! let error = &invalid.errors()[0];
//! assert_eq!((error.field.as_str(), error.code.code()), ("graduatedOn", "DATE_ORDER"));
//! assert_eq!(error.message, "graduatedOn (2014) is before enteredOn (2015-03); correct one of them.");
//! ```

mod error;
mod fields;
mod figure;
mod incubator;
mod innovation_center;
mod links;
mod organization;
mod park;
mod patch;
mod reference;
mod second_headquarters;

pub use error::{ErrorCode, Errors, FieldError, Invalid};
pub use fields::{
    MAX_CODE_LEN, MAX_EMAIL_LEN, MAX_NAME_LEN, MAX_NOTE_LEN, MAX_SHORT_TEXT_LEN, MAX_URL_LEN, check_http_url,
};
pub use figure::{
    CityDesignationDraft, CityDesignationPatch, FigureDraft, FigurePatch, MAX_INDICATOR_LEN, ParkDesignationDraft,
    ParkDesignationPatch,
};
pub use incubator::{IncubatorDraft, IncubatorPatch};
pub use innovation_center::{InnovationCenterDraft, InnovationCenterPatch};
pub use links::{
    DesignationDraft, DesignationPatch, EnterpriseLocationDraft, EnterpriseLocationPatch, FIRST_DESIGNATION_YEAR,
    IncubationDraft, IncubationPatch, InnovationCenterMembershipDraft, InnovationCenterMembershipPatch,
};
pub use organization::{OrganizationDraft, OrganizationPatch, RecordedUsccWarning, UsccOverride, UsccTaken};
pub use park::{MAX_PARK_DEPTH, ParkDraft, ParkPatch, check_no_cycle};
pub use patch::Patch;
pub use reference::{Endpoint, Expected, Reference, check_references};
pub use second_headquarters::{SecondHeadquartersDraft, SecondHeadquartersPatch};

use std::ops::Deref;

/// A draft that passed validation: normalised (text trimmed, empty optional text removed)
/// and satisfying every rule the domain can check on its own.
///
/// Only this module constructs one, so a `Valid<OrganizationDraft>` in a signature proves
/// the value was validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Valid<T>(T);

impl<T> Valid<T> {
    /// The validated value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Valid<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> AsRef<T> for Valid<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}

/// Declares a draft (the fields a create command carries) and its patch (the same fields,
/// each unchanged / set / cleared), with `Patch::apply` merging a patch into a draft.
///
/// Required fields are plain in the draft; clearing one is a `REQUIRED` error.
macro_rules! draft_and_patch {
    (
        $(#[$dmeta:meta])* $draft:ident,
        $(#[$pmeta:meta])* $patch:ident {
            required { $( $(#[$rmeta:meta])* $rfield:ident : $rty:ty => $rname:literal ),* $(,)? }
            optional { $( $(#[$ometa:meta])* $ofield:ident : $oty:ty ),* $(,)? }
        }
    ) => {
        $(#[$dmeta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $draft {
            $( $(#[$rmeta])* pub $rfield: $rty, )*
            $( $(#[$ometa])* pub $ofield: Option<$oty>, )*
        }

        $(#[$pmeta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $patch {
            $( $(#[$rmeta])* pub $rfield: $crate::validation::Patch<$rty>, )*
            $( $(#[$ometa])* pub $ofield: $crate::validation::Patch<$oty>, )*
        }

        impl $patch {
            /// The record `current` (as stored, in draft form) with this patch applied,
            /// validated as a whole: a field the patch leaves alone is still checked
            /// against the fields it changes.
            pub fn apply(
                self,
                current: &$draft,
                today: chrono::NaiveDate,
            ) -> Result<$crate::validation::Valid<$draft>, $crate::validation::Invalid> {
                let mut errors = $crate::validation::Errors::new();
                let next = self.merge(current, &mut errors);
                errors.finish_with(next.validate_update(current, today))
            }

            /// The current record with this patch's changes, before validation; clearing a
            /// required field is recorded in `errors` (and leaves the field as it was).
            fn merge(self, current: &$draft, errors: &mut $crate::validation::Errors) -> $draft {
                let mut next = current.clone();
                $( self.$rfield.apply_required(&mut next.$rfield, $rname, errors); )*
                $( self.$ofield.apply_optional(&mut next.$ofield); )*
                next
            }
        }
    };
}
pub(crate) use draft_and_patch;

#[cfg(test)]
pub(crate) mod test_support {
    use chrono::NaiveDate;

    use super::{ErrorCode, Invalid};
    use crate::PartialDate;

    /// The day the tests run "on".
    pub fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).expect("date")
    }

    pub fn date(s: &str) -> PartialDate {
        s.parse().expect("partial date")
    }

    /// The (field, code) pairs of an `Invalid`, in order.
    pub fn codes(invalid: &Invalid) -> Vec<(String, ErrorCode)> {
        invalid.errors().iter().map(|e| (e.field.clone(), e.code)).collect()
    }

    /// True when `invalid` has an error on `field` with `code`.
    pub fn has(invalid: &Invalid, field: &str, code: ErrorCode) -> bool {
        invalid.errors().iter().any(|e| e.field == field && e.code == code)
    }
}
