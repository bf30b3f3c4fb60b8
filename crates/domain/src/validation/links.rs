//! Links between records: an enterprise's location in a park, an incubation, a membership
//! of an innovation center, a designation.

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use super::error::{ErrorCode, Errors, Invalid};
use super::fields::{MAX_NOTE_LEN, date_order, non_negative, not_in_future, optional_text, provenance};
use super::reference::{ANY_ORGANIZATION, ENTERPRISE, Expected, Reference};
use super::{Valid, draft_and_patch};
use crate::date::PartialDate;
use crate::kinds::{DesignationKind, IncubationStatus, LocationRole, MembershipRole};

/// The earliest year a designation can be for.
pub const FIRST_DESIGNATION_YEAR: i32 = 1949;

draft_and_patch! {
    /// What adding an enterprise's location in a park carries.
    EnterpriseLocationDraft,
    /// What updating an enterprise location carries.
    EnterpriseLocationPatch {
        required {
            /// The firm: an organization of kind `ENTERPRISE`.
            organization_id: Uuid => "organizationId",
            /// The park.
            park_id: Uuid => "parkId",
            /// Registered, operating, R&D or factory.
            role: LocationRole => "role",
        }
        optional {
            /// Since when, at its precision; not in the future.
            since: PartialDate,
            /// Source name.
            source_name: String,
            /// Source URL: http or https.
            source_url: String,
            /// When the source's facts were true.
            as_of: PartialDate,
        }
    }
}

impl EnterpriseLocationDraft {
    /// A draft with the required fields and nothing else.
    pub fn new(organization_id: Uuid, park_id: Uuid, role: LocationRole) -> Self {
        Self { organization_id, park_id, role, since: None, source_name: None, source_url: None, as_of: None }
    }

    /// Validates a new location, collecting every problem.
    pub fn validate(self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        let mut e = Errors::new();
        not_in_future(&mut e, "since", self.since, today);
        let (source_name, source_url) = provenance(&mut e, self.source_name, self.source_url, self.as_of, today);
        e.finish(Valid(Self { source_name, source_url, ..self }))
    }

    /// The references the service must look up: the enterprise and the park.
    pub fn references(&self) -> Vec<Reference> {
        vec![
            Reference::new("organizationId", self.organization_id, Expected::Organization(ENTERPRISE)),
            Reference::new("parkId", self.park_id, Expected::Park),
        ]
    }

    fn validate_update(self, _current: &Self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        self.validate(today)
    }
}

draft_and_patch! {
    /// What adding an incubation (an enterprise in an incubator) carries.
    IncubationDraft,
    /// What updating an incubation carries.
    IncubationPatch {
        required {
            /// The incubatee: an organization of kind `ENTERPRISE`.
            organization_id: Uuid => "organizationId",
            /// The incubator.
            incubator_id: Uuid => "incubatorId",
            /// Incubating, graduated or exited.
            status: IncubationStatus => "status",
        }
        optional {
            /// Entry date, at its precision; not in the future.
            entered_on: PartialDate,
            /// Graduation date, at its precision; not before entry, not in the future, not
            /// while still incubating.
            graduated_on: PartialDate,
            /// Source name.
            source_name: String,
            /// Source URL: http or https.
            source_url: String,
            /// When the source's facts were true.
            as_of: PartialDate,
        }
    }
}

impl IncubationDraft {
    /// A draft with the required fields and nothing else.
    pub fn new(organization_id: Uuid, incubator_id: Uuid, status: IncubationStatus) -> Self {
        Self {
            organization_id,
            incubator_id,
            status,
            entered_on: None,
            graduated_on: None,
            source_name: None,
            source_url: None,
            as_of: None,
        }
    }

    /// Validates a new incubation, collecting every problem.
    pub fn validate(self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        let mut e = Errors::new();
        not_in_future(&mut e, "enteredOn", self.entered_on, today);
        not_in_future(&mut e, "graduatedOn", self.graduated_on, today);
        date_order(&mut e, "enteredOn", self.entered_on, "graduatedOn", self.graduated_on);
        if self.graduated_on.is_some() && self.status == IncubationStatus::Incubating {
            e.push(
                "graduatedOn",
                ErrorCode::Inconsistent,
                "A firm still incubating has no graduation date; set the status to GRADUATED or clear the date.",
            );
        }
        let (source_name, source_url) = provenance(&mut e, self.source_name, self.source_url, self.as_of, today);
        e.finish(Valid(Self { source_name, source_url, ..self }))
    }

    /// The references the service must look up: the enterprise and the incubator.
    pub fn references(&self) -> Vec<Reference> {
        vec![
            Reference::new("organizationId", self.organization_id, Expected::Organization(ENTERPRISE)),
            Reference::new("incubatorId", self.incubator_id, Expected::Incubator),
        ]
    }

    fn validate_update(self, _current: &Self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        self.validate(today)
    }
}

draft_and_patch! {
    /// What adding an organization to an innovation center carries.
    InnovationCenterMembershipDraft,
    /// What updating a membership carries.
    InnovationCenterMembershipPatch {
        required {
            /// The innovation center.
            innovation_center_id: Uuid => "innovationCenterId",
            /// The member: any organization (firms, universities and institutes all join).
            organization_id: Uuid => "organizationId",
            /// Lead, founding shareholder or member.
            role: MembershipRole => "role",
        }
        optional {
            /// Joining date, at its precision; not in the future.
            joined_on: PartialDate,
            /// Source name.
            source_name: String,
            /// Source URL: http or https.
            source_url: String,
            /// When the source's facts were true.
            as_of: PartialDate,
        }
    }
}

impl InnovationCenterMembershipDraft {
    /// A draft with the required fields and nothing else.
    pub fn new(innovation_center_id: Uuid, organization_id: Uuid, role: MembershipRole) -> Self {
        Self {
            innovation_center_id,
            organization_id,
            role,
            joined_on: None,
            source_name: None,
            source_url: None,
            as_of: None,
        }
    }

    /// Validates a new membership, collecting every problem.
    pub fn validate(self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        let mut e = Errors::new();
        not_in_future(&mut e, "joinedOn", self.joined_on, today);
        let (source_name, source_url) = provenance(&mut e, self.source_name, self.source_url, self.as_of, today);
        e.finish(Valid(Self { source_name, source_url, ..self }))
    }

    /// The references the service must look up: the center and the organization.
    pub fn references(&self) -> Vec<Reference> {
        vec![
            Reference::new("innovationCenterId", self.innovation_center_id, Expected::InnovationCenter),
            Reference::new("organizationId", self.organization_id, Expected::Organization(ANY_ORGANIZATION)),
        ]
    }

    fn validate_update(self, _current: &Self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        self.validate(today)
    }
}

draft_and_patch! {
    /// What adding a designation (unicorn, gazelle, …) to an enterprise carries.
    DesignationDraft,
    /// What updating a designation carries.
    DesignationPatch {
        required {
            /// The designated firm: an organization of kind `ENTERPRISE`.
            organization_id: Uuid => "organizationId",
            /// Unicorn, gazelle, high-tech enterprise, …
            kind: DesignationKind => "kind",
            /// The year it is for: from 1949 to this year.
            year: i32 => "year",
        }
        optional {
            /// Valuation in US dollars; not negative.
            valuation_usd: i64,
            /// A note.
            note: String,
            /// Source name.
            source_name: String,
            /// Source URL: http or https.
            source_url: String,
            /// When the source's facts were true.
            as_of: PartialDate,
        }
    }
}

impl DesignationDraft {
    /// A draft with the required fields and nothing else.
    pub fn new(organization_id: Uuid, kind: DesignationKind, year: i32) -> Self {
        Self {
            organization_id,
            kind,
            year,
            valuation_usd: None,
            note: None,
            source_name: None,
            source_url: None,
            as_of: None,
        }
    }

    /// Validates a new designation, collecting every problem.
    pub fn validate(self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        let mut e = Errors::new();
        let this_year = today.year();
        if !(FIRST_DESIGNATION_YEAR..=this_year).contains(&self.year) {
            e.push(
                "year",
                ErrorCode::OutOfRange,
                format!(
                    "Give the year the designation is for, from {FIRST_DESIGNATION_YEAR} to {this_year}; {} is not.",
                    self.year
                ),
            );
        }
        non_negative(&mut e, "valuationUsd", self.valuation_usd);
        let note = optional_text(&mut e, "note", self.note, MAX_NOTE_LEN);
        let (source_name, source_url) = provenance(&mut e, self.source_name, self.source_url, self.as_of, today);
        e.finish(Valid(Self { note, source_name, source_url, ..self }))
    }

    /// The references the service must look up: the enterprise.
    pub fn references(&self) -> Vec<Reference> {
        vec![Reference::new("organizationId", self.organization_id, Expected::Organization(ENTERPRISE))]
    }

    fn validate_update(self, _current: &Self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        self.validate(today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::OrganizationKind;
    use crate::validation::test_support::{codes, date, has, today};
    use crate::validation::{Endpoint, Patch, check_references};

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn incubated() -> IncubationDraft {
        IncubationDraft {
            entered_on: Some(date("2015-03")),
            graduated_on: Some(date("2018")),
            ..IncubationDraft::new(id(1), id(2), IncubationStatus::Graduated)
        }
    }

    #[test]
    fn graduated_before_entered_is_rejected() {
        let draft = IncubationDraft { graduated_on: Some(date("2014-12-31")), ..incubated() };
        let invalid = draft.validate(today()).expect_err("graduated before entering");
        assert_eq!(codes(&invalid), [("graduatedOn".to_string(), ErrorCode::DateOrder)]);
    }

    #[test]
    fn graduated_in_the_month_of_entry_is_in_order_at_month_precision() {
        let draft = IncubationDraft {
            entered_on: Some(date("2015-03-20")),
            graduated_on: Some(date("2015-03")),
            ..incubated()
        };
        assert!(draft.validate(today()).is_ok());
    }

    #[test]
    fn a_patch_setting_graduation_before_the_stored_entry_is_rejected() {
        let current = incubated().validate(today()).expect("valid").into_inner();
        let patch = IncubationPatch { graduated_on: Patch::Set(date("2015-02")), ..Default::default() };
        let invalid = patch.apply(&current, today()).expect_err("before stored entry");
        assert_eq!(codes(&invalid), [("graduatedOn".to_string(), ErrorCode::DateOrder)]);
        let fine = IncubationPatch { graduated_on: Patch::Set(date("2015-04")), ..Default::default() };
        assert_eq!(fine.apply(&current, today()).expect("valid").graduated_on, Some(date("2015-04")));
    }

    #[test]
    fn a_firm_still_incubating_has_no_graduation_date() {
        let current = incubated();
        let patch = IncubationPatch { status: Patch::Set(IncubationStatus::Incubating), ..Default::default() };
        let invalid = patch.apply(&current, today()).expect_err("inconsistent");
        assert!(has(&invalid, "graduatedOn", ErrorCode::Inconsistent));
    }

    #[test]
    fn an_incubatee_that_is_a_university_is_the_wrong_kind() {
        let draft = incubated();
        let found = draft.references().into_iter().map(|r| {
            let endpoint = match r.field {
                "organizationId" => Endpoint::Organization(OrganizationKind::University),
                _ => Endpoint::Incubator,
            };
            (r, Some(endpoint))
        });
        let invalid = check_references(found).expect_err("wrong kind");
        assert_eq!(codes(&invalid), [("organizationId".to_string(), ErrorCode::WrongKind)]);
    }

    #[test]
    fn a_university_may_lead_an_innovation_center() {
        let draft = InnovationCenterMembershipDraft::new(id(1), id(2), MembershipRole::Lead);
        let found = draft.references().into_iter().map(|r| {
            let endpoint = match r.field {
                "organizationId" => Endpoint::Organization(OrganizationKind::University),
                _ => Endpoint::InnovationCenter,
            };
            (r, Some(endpoint))
        });
        assert_eq!(check_references(found), Ok(()));
    }

    #[test]
    fn a_membership_or_location_dated_in_the_future_is_rejected() {
        let membership = InnovationCenterMembershipDraft {
            joined_on: Some(date("2027")),
            ..InnovationCenterMembershipDraft::new(id(1), id(2), MembershipRole::Member)
        };
        assert!(has(&membership.validate(today()).expect_err("future"), "joinedOn", ErrorCode::DateOrder));
        let location = EnterpriseLocationDraft {
            since: Some(date("2026-12")),
            source_url: Some("https://example.cn/report".into()),
            ..EnterpriseLocationDraft::new(id(1), id(2), LocationRole::Registered)
        };
        let invalid = location.validate(today()).expect_err("future");
        assert_eq!(codes(&invalid), [("since".to_string(), ErrorCode::DateOrder)]);
    }

    #[test]
    fn a_location_refers_to_an_enterprise_and_a_park() {
        let draft = EnterpriseLocationDraft::new(id(1), id(2), LocationRole::RAndD);
        let expected: Vec<(&str, Expected)> = draft.references().iter().map(|r| (r.field, r.expected)).collect();
        assert_eq!(expected, [("organizationId", Expected::Organization(ENTERPRISE)), ("parkId", Expected::Park)]);
    }

    #[test]
    fn a_unicorn_with_a_valuation_in_a_sensible_year_is_accepted() {
        let draft = DesignationDraft {
            valuation_usd: Some(1_000_000_000),
            note: Some("  2017 national report ".into()),
            ..DesignationDraft::new(id(1), DesignationKind::Unicorn, 2017)
        };
        let valid = draft.validate(today()).expect("valid");
        assert_eq!(valid.note.as_deref(), Some("2017 national report"));
    }

    #[test]
    fn a_designation_with_a_negative_valuation_or_an_odd_year_is_rejected() {
        for year in [1948, 2027, 20170] {
            let draft = DesignationDraft {
                valuation_usd: Some(-1),
                ..DesignationDraft::new(id(1), DesignationKind::Unicorn, year)
            };
            let invalid = draft.validate(today()).expect_err("invalid");
            assert_eq!(
                codes(&invalid),
                [("year".to_string(), ErrorCode::OutOfRange), ("valuationUsd".to_string(), ErrorCode::OutOfRange)],
                "{year}"
            );
        }
    }
}
