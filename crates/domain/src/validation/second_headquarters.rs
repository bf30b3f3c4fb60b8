//! Second headquarters: a parent group's base in the city.

use chrono::NaiveDate;
use uuid::Uuid;

use super::error::{ErrorCode, Errors, Invalid};
use super::fields::{
    MAX_NAME_LEN, MAX_NOTE_LEN, MAX_SHORT_TEXT_LEN, date_order, non_negative, non_negative_measure, not_in_future,
    optional_text, provenance, required_text,
};
use super::reference::{ANY_ORGANIZATION, ENTERPRISE, Expected, Reference};
use super::{Valid, draft_and_patch};
use crate::date::PartialDate;
use crate::kinds::{SecondHqFunction, SecondHqStatus};

draft_and_patch! {
    /// What creating a second headquarters carries.
    SecondHeadquartersDraft,
    /// What updating a second headquarters carries.
    SecondHeadquartersPatch {
        required {
            /// The parent group: an organization.
            parent_id: Uuid => "parentId",
            /// Chinese name.
            name_zh: String => "nameZh",
            /// Stage: announced, signed, under construction, operating, suspended, cancelled.
            status: SecondHqStatus => "status",
            /// What it does for the group; may be empty, never repeats a function.
            functions: Vec<SecondHqFunction> => "functions",
        }
        optional {
            /// The park it is in: a park.
            park_id: Uuid,
            /// The local legal entity: an enterprise, not the parent itself.
            local_entity_id: Uuid,
            /// City.
            city: String,
            /// English name.
            name_en: String,
            /// Announcement date, at its precision; not in the future.
            announced_on: PartialDate,
            /// Opening date, at its precision; not before the announcement.
            opened_on: PartialDate,
            /// Planned investment in yuan; not negative.
            planned_investment_cny: i64,
            /// Planned staff; not negative.
            planned_headcount: i32,
            /// Planned floor area in square metres; not negative.
            planned_floor_area_m2: f64,
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

impl SecondHeadquartersDraft {
    /// A draft with the required fields and nothing else.
    pub fn new(parent_id: Uuid, name_zh: impl Into<String>, status: SecondHqStatus) -> Self {
        Self {
            parent_id,
            name_zh: name_zh.into(),
            status,
            functions: Vec::new(),
            park_id: None,
            local_entity_id: None,
            city: None,
            name_en: None,
            announced_on: None,
            opened_on: None,
            planned_investment_cny: None,
            planned_headcount: None,
            planned_floor_area_m2: None,
            staff_notes: None,
            source_name: None,
            source_url: None,
            as_of: None,
        }
    }

    /// Validates a new second headquarters, collecting every problem. The opening is
    /// compared with the announcement at their precisions ("2017" does not come before
    /// "2017-11-18"). A planned opening may lie in the future; an announcement may not.
    pub fn validate(self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        let mut e = Errors::new();
        let name_zh = required_text(&mut e, "nameZh", &self.name_zh, MAX_NAME_LEN);
        for (i, function) in self.functions.iter().enumerate() {
            if self.functions[..i].contains(function) {
                e.push(
                    format!("functions[{i}]"),
                    ErrorCode::Duplicate,
                    format!("{function} is listed twice; list each function once."),
                );
            }
        }
        if self.local_entity_id == Some(self.parent_id) {
            e.push(
                "localEntityId",
                ErrorCode::Inconsistent,
                "The local entity is the legal entity set up in the city, not the parent group itself; leave it empty if unknown.",
            );
        }
        let city = optional_text(&mut e, "city", self.city, MAX_SHORT_TEXT_LEN);
        let name_en = optional_text(&mut e, "nameEn", self.name_en, MAX_NAME_LEN);
        not_in_future(&mut e, "announcedOn", self.announced_on, today);
        date_order(&mut e, "announcedOn", self.announced_on, "openedOn", self.opened_on);
        non_negative(&mut e, "plannedInvestmentCny", self.planned_investment_cny);
        non_negative(&mut e, "plannedHeadcount", self.planned_headcount);
        non_negative_measure(&mut e, "plannedFloorAreaM2", self.planned_floor_area_m2);
        let staff_notes = optional_text(&mut e, "staffNotes", self.staff_notes, MAX_NOTE_LEN);
        let (source_name, source_url) = provenance(&mut e, self.source_name, self.source_url, self.as_of, today);
        e.finish(Valid(Self { name_zh, city, name_en, staff_notes, source_name, source_url, ..self }))
    }

    /// The references the service must look up: the parent group (an organization), the
    /// local entity (an enterprise) and the park.
    pub fn references(&self) -> Vec<Reference> {
        let parent = Reference::new("parentId", self.parent_id, Expected::Organization(ANY_ORGANIZATION));
        let park = self.park_id.map(|id| Reference::new("parkId", id, Expected::Park));
        let local =
            self.local_entity_id.map(|id| Reference::new("localEntityId", id, Expected::Organization(ENTERPRISE)));
        std::iter::once(parent).chain(park).chain(local).collect()
    }

    fn validate_update(self, _current: &Self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        self.validate(today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::Patch;
    use crate::validation::test_support::{codes, date, today};

    fn xiaomi() -> SecondHeadquartersDraft {
        SecondHeadquartersDraft {
            functions: vec![SecondHqFunction::RegionalHeadquarters, SecondHqFunction::RAndD],
            park_id: Some(Uuid::from_u128(2)),
            local_entity_id: Some(Uuid::from_u128(3)),
            announced_on: Some(date("2017-11-18")),
            opened_on: Some(date("2019-12-18")),
            planned_headcount: Some(10_000),
            ..SecondHeadquartersDraft::new(Uuid::from_u128(1), "小米武汉总部", SecondHqStatus::Operating)
        }
    }

    #[test]
    fn a_valid_second_headquarters_refers_to_parent_park_and_local_entity() {
        let valid = xiaomi().validate(today()).expect("valid");
        let fields: Vec<&str> = valid.references().iter().map(|r| r.field).collect();
        assert_eq!(fields, ["parentId", "parkId", "localEntityId"]);
    }

    #[test]
    fn opened_in_the_year_of_a_dated_announcement_is_in_order() {
        let draft = SecondHeadquartersDraft { opened_on: Some(date("2017")), ..xiaomi() };
        assert!(draft.validate(today()).is_ok());
        let draft = SecondHeadquartersDraft {
            announced_on: Some(date("2017")),
            opened_on: Some(date("2017-01-02")),
            ..xiaomi()
        };
        assert!(draft.validate(today()).is_ok());
    }

    #[test]
    fn opened_before_announced_is_rejected() {
        let draft = SecondHeadquartersDraft { opened_on: Some(date("2017-10")), ..xiaomi() };
        let invalid = draft.validate(today()).expect_err("opened before announced");
        assert_eq!(codes(&invalid), [("openedOn".to_string(), ErrorCode::DateOrder)]);
        assert!(invalid.errors()[0].message.contains("2017-10") && invalid.errors()[0].message.contains("2017-11-18"));
    }

    #[test]
    fn a_patch_moving_the_announcement_after_the_stored_opening_is_rejected() {
        let current = xiaomi();
        let invalid = SecondHeadquartersPatch { announced_on: Patch::Set(date("2020")), ..Default::default() }
            .apply(&current, today())
            .expect_err("announced after opening");
        assert_eq!(codes(&invalid), [("openedOn".to_string(), ErrorCode::DateOrder)]);
    }

    #[test]
    fn every_problem_of_a_second_headquarters_is_reported_at_once() {
        let draft = SecondHeadquartersDraft {
            functions: vec![SecondHqFunction::RAndD, SecondHqFunction::Other, SecondHqFunction::RAndD],
            local_entity_id: Some(Uuid::from_u128(1)),
            announced_on: Some(date("2027-01-01")),
            planned_investment_cny: Some(-4_000_000_000),
            planned_headcount: Some(-1),
            planned_floor_area_m2: Some(-280_000.0),
            ..xiaomi()
        };
        let invalid = draft.validate(today()).expect_err("invalid");
        assert_eq!(
            codes(&invalid),
            [
                ("functions[2]".to_string(), ErrorCode::Duplicate),
                ("localEntityId".to_string(), ErrorCode::Inconsistent),
                ("announcedOn".to_string(), ErrorCode::DateOrder),
                ("openedOn".to_string(), ErrorCode::DateOrder),
                ("plannedInvestmentCny".to_string(), ErrorCode::OutOfRange),
                ("plannedHeadcount".to_string(), ErrorCode::OutOfRange),
                ("plannedFloorAreaM2".to_string(), ErrorCode::OutOfRange),
            ]
        );
    }
}
