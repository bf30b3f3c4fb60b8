//! Organizations: companies and the institutions beside them.

use std::fmt;

use chrono::NaiveDate;
use uuid::Uuid;

use super::error::{ErrorCode, Errors, FieldError, Invalid};
use super::fields::{
    MAX_NAME_LEN, MAX_NOTE_LEN, MAX_SHORT_TEXT_LEN, non_negative, not_in_future, optional_email, optional_phone,
    optional_text, optional_url, provenance, required_text,
};
use super::reference::Reference;
use super::{Valid, draft_and_patch};
use crate::date::PartialDate;
use crate::kinds::{OrganizationKind, OrganizationStatus};
use crate::uscc::{Uscc, UsccError, UsccWarning};

/// Who accepted a USCC that fails its checksum, and why (an early pilot code confirmed
/// with the registration authority, say). Required for such a code; recorded with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsccOverride {
    /// Who accepts the code: the caller's subject, filled in by the service, not typed.
    pub by: String,
    /// Why the code is right although its checksum fails.
    pub reason: String,
}

draft_and_patch! {
    /// What creating an organization carries.
    OrganizationDraft,
    /// What updating an organization carries.
    OrganizationPatch {
        required {
            /// Company, university, research institute, government body or other.
            kind: OrganizationKind => "kind",
            /// Chinese name.
            name_zh: String => "nameZh",
            /// Whether it still operates.
            status: OrganizationStatus => "status",
        }
        optional {
            /// English name.
            name_en: String,
            /// Registered legal name.
            legal_name: String,
            /// Unified Social Credit Code as typed.
            uscc: String,
            /// Acceptance of a USCC that fails its checksum.
            uscc_override: UsccOverride,
            /// Founding date, at its precision; not in the future.
            founded_on: PartialDate,
            /// Industry (chain) classification.
            industry: String,
            /// Registered capital in yuan; not negative.
            registered_capital_cny: i64,
            /// Staff count; not negative.
            headcount: i32,
            /// Web site: http or https.
            website: String,
            /// City.
            city: String,
            /// District.
            district: String,
            /// Contact person (staff only).
            contact_name: String,
            /// Contact phone (staff only).
            contact_phone: String,
            /// Contact e-mail (staff only).
            contact_email: String,
            /// Staff notes.
            staff_notes: String,
            /// Source name.
            source_name: String,
            /// Source URL: http or https.
            source_url: String,
            /// When the source's facts were true.
            as_of: PartialDate,
        }
    }
}

impl OrganizationDraft {
    /// A draft with the required fields and nothing else.
    pub fn new(kind: OrganizationKind, name_zh: impl Into<String>, status: OrganizationStatus) -> Self {
        Self {
            kind,
            name_zh: name_zh.into(),
            status,
            name_en: None,
            legal_name: None,
            uscc: None,
            uscc_override: None,
            founded_on: None,
            industry: None,
            registered_capital_cny: None,
            headcount: None,
            website: None,
            city: None,
            district: None,
            contact_name: None,
            contact_phone: None,
            contact_email: None,
            staff_notes: None,
            source_name: None,
            source_url: None,
            as_of: None,
        }
    }

    /// Validates a new organization, collecting every problem. A USCC failing only its
    /// checksum needs `uscc_override`; any other USCC problem is never waived.
    ///
    /// Not checked here: that no other live organization has the same USCC (the service
    /// checks it in its transaction and reports [`UsccTaken`]).
    pub fn validate(self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        self.check(today, false)
    }

    /// The references to check: none (an organization refers to no other record).
    pub fn references(&self) -> Vec<Reference> {
        Vec::new()
    }

    /// Validates the result of an update. A stored USCC that the update leaves as it was
    /// is not re-litigated: it was accepted before (perhaps before overrides were recorded).
    ///
    /// An override belongs to the code it was given for: when the update changes the code
    /// but leaves the stored override as it was, that override is not carried over, so a
    /// new pilot code needs its own.
    fn validate_update(mut self, current: &Self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        let uscc_unchanged = self.uscc == current.uscc;
        if !uscc_unchanged && self.uscc_override.is_some() && self.uscc_override == current.uscc_override {
            self.uscc_override = None;
        }
        let accepted_before = uscc_unchanged && self.uscc.is_some();
        self.check(today, accepted_before)
    }

    fn check(self, today: NaiveDate, uscc_accepted_before: bool) -> Result<Valid<Self>, Invalid> {
        let mut e = Errors::new();
        let name_zh = required_text(&mut e, "nameZh", &self.name_zh, MAX_NAME_LEN);
        let name_en = optional_text(&mut e, "nameEn", self.name_en, MAX_NAME_LEN);
        let legal_name = optional_text(&mut e, "legalName", self.legal_name, MAX_NAME_LEN);
        let (uscc, uscc_override) = check_uscc(&mut e, self.uscc, self.uscc_override, uscc_accepted_before);
        not_in_future(&mut e, "foundedOn", self.founded_on, today);
        let industry = optional_text(&mut e, "industry", self.industry, MAX_SHORT_TEXT_LEN);
        non_negative(&mut e, "registeredCapitalCny", self.registered_capital_cny);
        non_negative(&mut e, "headcount", self.headcount);
        let website = optional_url(&mut e, "website", self.website);
        let city = optional_text(&mut e, "city", self.city, MAX_SHORT_TEXT_LEN);
        let district = optional_text(&mut e, "district", self.district, MAX_SHORT_TEXT_LEN);
        let contact_name = optional_text(&mut e, "contactName", self.contact_name, MAX_NAME_LEN);
        let contact_phone = optional_phone(&mut e, "contactPhone", self.contact_phone);
        let contact_email = optional_email(&mut e, "contactEmail", self.contact_email);
        let staff_notes = optional_text(&mut e, "staffNotes", self.staff_notes, MAX_NOTE_LEN);
        let (source_name, source_url) = provenance(&mut e, self.source_name, self.source_url, self.as_of, today);
        e.finish(Valid(Self {
            kind: self.kind,
            name_zh,
            status: self.status,
            name_en,
            legal_name,
            uscc,
            uscc_override,
            founded_on: self.founded_on,
            industry,
            registered_capital_cny: self.registered_capital_cny,
            headcount: self.headcount,
            website,
            city,
            district,
            contact_name,
            contact_phone,
            contact_email,
            staff_notes,
            source_name,
            source_url,
            as_of: self.as_of,
        }))
    }
}

/// The USCC and its override, normalised: the code upper-case, the override kept only
/// when the code needs it.
fn check_uscc(
    e: &mut Errors,
    uscc: Option<String>,
    over: Option<UsccOverride>,
    accepted_before: bool,
) -> (Option<String>, Option<UsccOverride>) {
    let Some(text) = uscc.filter(|t| !t.trim().is_empty()) else {
        return (None, None);
    };
    let over = over.map(|o| UsccOverride { by: o.by.trim().to_string(), reason: o.reason.trim().to_string() });
    match Uscc::parse(&text) {
        Ok(code) => (Some(code.as_str().to_string()), None),
        Err(error) if error.is_checksum() => {
            let normalized = text.trim().to_ascii_uppercase();
            match over {
                Some(over) => {
                    if over.by.is_empty() {
                        e.push("usccOverride.by", ErrorCode::Required, "Say who accepts this USCC.");
                    }
                    if over.reason.is_empty() {
                        e.push(
                            "usccOverride.reason",
                            ErrorCode::Required,
                            "Say why this USCC is right although its check character is wrong.",
                        );
                    } else if over.reason.chars().count() > MAX_NOTE_LEN {
                        e.push(
                            "usccOverride.reason",
                            ErrorCode::TooLong,
                            format!("Shorten the reason to at most {MAX_NOTE_LEN} characters."),
                        );
                    }
                    (Some(normalized), Some(over))
                }
                None if accepted_before => (Some(normalized), None),
                None => {
                    e.push(
                        "uscc",
                        ErrorCode::InvalidChecksum,
                        format!(
                            "The {error}. Check the code; if it is an early pilot code that is right as \
                             registered, accept it with an override giving the reason."
                        ),
                    );
                    (Some(normalized), None)
                }
            }
        }
        Err(error) => {
            let message = match error {
                UsccError::WrongLength(_) | UsccError::BadCharacter { .. } => {
                    let mut m = error.to_string();
                    if let Some(first) = m.get(..1) {
                        m = first.to_uppercase() + &m[1..];
                    }
                    format!("{m}. Copy the code again from the business licence.")
                }
                UsccError::OrganizationCheck { .. } | UsccError::Check { .. } => error.to_string(),
            };
            e.push("uscc", ErrorCode::InvalidFormat, message);
            (Some(text.trim().to_string()), None)
        }
    }
}

/// A warning the service stores with a USCC accepted by override, saying who and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedUsccWarning {
    /// Which checksum fails.
    pub warning: UsccWarning,
    /// Who accepted it and why; `None` for a code stored before overrides were recorded.
    pub accepted: Option<UsccOverride>,
}

impl fmt::Display for RecordedUsccWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.accepted {
            Some(o) => write!(f, "{} (by {}: {})", self.warning, o.by, o.reason),
            None => write!(f, "{}", self.warning),
        }
    }
}

impl Valid<OrganizationDraft> {
    /// The validated code, if any.
    pub fn uscc(&self) -> Option<Uscc> {
        let text = self.0.uscc.as_deref()?;
        Uscc::parse_with_override(text).ok().map(|(code, _)| code)
    }

    /// The warning to store with a code accepted although a checksum fails (the
    /// `uscc_warning` column), with who accepted it and why.
    pub fn uscc_warning(&self) -> Option<RecordedUsccWarning> {
        let text = self.0.uscc.as_deref()?;
        let (_, warning) = Uscc::parse_with_override(text).ok()?;
        Some(RecordedUsccWarning { warning: warning?, accepted: self.0.uscc_override.clone() })
    }
}

/// Another live organization already holds the USCC: what the service reports when its
/// in-transaction look-up (or the unique index on live codes) finds one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsccTaken {
    /// The organization that holds the code.
    pub existing_id: Uuid,
    /// The code.
    pub uscc: Uscc,
}

impl From<UsccTaken> for FieldError {
    fn from(taken: UsccTaken) -> Self {
        FieldError::new(
            "uscc",
            ErrorCode::Duplicate,
            format!(
                "Organization {} already has USCC {}; edit that record instead, or archive it first if this one replaces it.",
                taken.existing_id, taken.uscc
            ),
        )
    }
}

impl From<UsccTaken> for Invalid {
    fn from(taken: UsccTaken) -> Self {
        FieldError::from(taken).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::Patch;
    use crate::validation::test_support::{codes, date, has, today};

    const PILOT: &str = "91350203M0001FUE2P";

    fn douyu() -> OrganizationDraft {
        OrganizationDraft {
            name_en: Some("Douyu".into()),
            uscc: Some(" 91110108551385082q ".into()),
            founded_on: Some(date("2014")),
            website: Some("https://www.douyu.com".into()),
            headcount: Some(2000),
            ..OrganizationDraft::new(OrganizationKind::Enterprise, " 斗鱼 ", OrganizationStatus::Active)
        }
    }

    fn accept(by: &str, reason: &str) -> Option<UsccOverride> {
        Some(UsccOverride { by: by.into(), reason: reason.into() })
    }

    #[test]
    fn a_valid_organization_is_trimmed_and_its_uscc_normalised() {
        let valid = douyu().validate(today()).expect("valid");
        assert_eq!(valid.name_zh, "斗鱼");
        assert_eq!(valid.uscc.as_deref(), Some("91110108551385082Q"));
        assert_eq!(valid.uscc().map(|u| u.to_string()), Some("91110108551385082Q".to_string()));
        assert_eq!(valid.uscc_warning(), None);
    }

    #[test]
    fn every_problem_of_an_organization_is_reported_at_once() {
        let draft = OrganizationDraft {
            name_zh: "  ".into(),
            uscc: Some("91110108551385082A".into()),
            founded_on: Some(date("2030")),
            website: Some("ftp://douyu.com".into()),
            headcount: Some(-5),
            contact_email: Some("nobody".into()),
            source_url: Some("douyu.com".into()),
            ..douyu()
        };
        let invalid = draft.validate(today()).expect_err("invalid");
        let found: Vec<(String, ErrorCode)> = codes(&invalid);
        for (field, code) in [
            ("nameZh", ErrorCode::Required),
            ("uscc", ErrorCode::InvalidChecksum),
            ("foundedOn", ErrorCode::DateOrder),
            ("headcount", ErrorCode::OutOfRange),
            ("website", ErrorCode::InvalidFormat),
            ("contactEmail", ErrorCode::InvalidFormat),
            ("sourceUrl", ErrorCode::InvalidFormat),
        ] {
            assert!(found.contains(&(field.to_string(), code)), "{field} {code}: {found:?}");
        }
        assert_eq!(found.len(), 7, "{found:?}");
    }

    #[test]
    fn a_checksum_failure_without_an_override_is_rejected_and_says_how_to_override() {
        let draft = OrganizationDraft { uscc: Some(PILOT.into()), ..douyu() };
        let invalid = draft.validate(today()).expect_err("needs an override");
        assert!(has(&invalid, "uscc", ErrorCode::InvalidChecksum));
        assert!(invalid.errors()[0].message.contains("override"), "{}", invalid.errors()[0].message);
    }

    #[test]
    fn an_override_accepts_a_pilot_code_and_records_who_and_why() {
        let draft = OrganizationDraft {
            uscc: Some(PILOT.into()),
            uscc_override: accept("editor:wang", "Pilot code, confirmed with the Xiamen AMR"),
            ..douyu()
        };
        let valid = draft.validate(today()).expect("accepted by override");
        let warning = valid.uscc_warning().expect("a warning is recorded");
        assert!(warning.warning.0.is_checksum());
        let text = warning.to_string();
        assert!(text.starts_with("accepted by override although"), "{text}");
        assert!(text.contains("by editor:wang: Pilot code"), "{text}");
    }

    #[test]
    fn an_override_needs_who_and_why() {
        let draft = OrganizationDraft { uscc: Some(PILOT.into()), uscc_override: accept(" ", ""), ..douyu() };
        let invalid = draft.validate(today()).expect_err("override incomplete");
        assert_eq!(
            codes(&invalid),
            [
                ("usccOverride.by".to_string(), ErrorCode::Required),
                ("usccOverride.reason".to_string(), ErrorCode::Required)
            ]
        );
    }

    #[test]
    fn an_override_never_waives_a_malformed_code() {
        let draft = OrganizationDraft {
            uscc: Some("91350203M0001FUEIP".into()),
            uscc_override: accept("editor:wang", "trust me"),
            ..douyu()
        };
        let invalid = draft.validate(today()).expect_err("bad character");
        assert_eq!(codes(&invalid), [("uscc".to_string(), ErrorCode::InvalidFormat)]);
        assert!(
            invalid.errors()[0].message.starts_with("Character 'I' at position 17"),
            "{}",
            invalid.errors()[0].message
        );
    }

    #[test]
    fn an_override_on_a_valid_code_is_dropped() {
        let draft = OrganizationDraft { uscc_override: accept("editor:wang", "unneeded"), ..douyu() };
        let valid = draft.validate(today()).expect("valid");
        assert_eq!(valid.uscc_override, None);
    }

    #[test]
    fn a_patch_is_checked_against_the_stored_record() {
        let current = douyu().validate(today()).expect("valid").into_inner();
        let patch = OrganizationPatch {
            name_zh: Patch::Clear,
            founded_on: Patch::Set(date("2099-01")),
            headcount: Patch::Clear,
            ..Default::default()
        };
        let invalid = patch.apply(&current, today()).expect_err("invalid");
        assert_eq!(
            codes(&invalid),
            [("nameZh".to_string(), ErrorCode::Required), ("foundedOn".to_string(), ErrorCode::DateOrder)]
        );
        let renamed =
            OrganizationPatch { name_en: Patch::Set(" DouYu ".into()), headcount: Patch::Clear, ..Default::default() }
                .apply(&current, today())
                .expect("valid");
        assert_eq!(renamed.name_en.as_deref(), Some("DouYu"));
        assert_eq!(renamed.headcount, None);
        assert_eq!(renamed.name_zh, "斗鱼");
    }

    #[test]
    fn a_patch_that_sets_a_pilot_code_needs_an_override_too() {
        let current = douyu().validate(today()).expect("valid").into_inner();
        let patch = OrganizationPatch { uscc: Patch::Set(PILOT.into()), ..Default::default() };
        let invalid = patch.apply(&current, today()).expect_err("needs an override");
        assert!(has(&invalid, "uscc", ErrorCode::InvalidChecksum));
    }

    #[test]
    fn a_stored_pilot_code_left_unchanged_by_a_patch_is_not_rechecked() {
        let stored = OrganizationDraft { uscc: Some(PILOT.into()), ..douyu() };
        let patch = OrganizationPatch { headcount: Patch::Set(2500), ..Default::default() };
        let valid = patch.apply(&stored, today()).expect("accepted before");
        let warning = valid.uscc_warning().expect("still warned");
        assert_eq!(warning.accepted, None);
    }

    #[test]
    fn a_stored_override_does_not_carry_over_to_a_new_pilot_code() {
        let stored = OrganizationDraft {
            uscc: Some(PILOT.into()),
            uscc_override: accept("editor:wang", "Pilot code, confirmed"),
            ..douyu()
        }
        .validate(today())
        .expect("accepted by override")
        .into_inner();
        let other_pilot = "91350203M0001FUE2A";
        assert!(Uscc::parse(other_pilot).is_err_and(|e| e.is_checksum()));
        let invalid = OrganizationPatch { uscc: Patch::Set(other_pilot.into()), ..Default::default() }
            .apply(&stored, today())
            .expect_err("the old override was for the old code");
        assert!(has(&invalid, "uscc", ErrorCode::InvalidChecksum));
        let with_own = OrganizationPatch {
            uscc: Patch::Set(other_pilot.into()),
            uscc_override: Patch::Set(UsccOverride { by: "editor:li".into(), reason: "Also a pilot code".into() }),
            ..Default::default()
        }
        .apply(&stored, today())
        .expect("its own override");
        assert_eq!(with_own.uscc_warning().and_then(|w| w.accepted).map(|o| o.by), Some("editor:li".to_string()));
    }

    #[test]
    fn a_uscc_held_by_another_live_organization_is_a_duplicate() {
        let uscc = Uscc::parse("914403001922038216").expect("valid");
        let error = FieldError::from(UsccTaken { existing_id: Uuid::from_u128(7), uscc });
        assert_eq!((error.field.as_str(), error.code), ("uscc", ErrorCode::Duplicate));
        assert!(error.message.contains("00000000-0000-0000-0000-000000000007"), "{}", error.message);
        assert!(error.message.contains("914403001922038216"));
    }
}
