//! Incubators, makerspaces and accelerators.

use chrono::NaiveDate;
use uuid::Uuid;

use super::error::{Errors, Invalid};
use super::fields::{MAX_NAME_LEN, not_in_future, optional_text, provenance, required_text};
use super::reference::{ANY_ORGANIZATION, Expected, Reference};
use super::{Valid, draft_and_patch};
use crate::date::PartialDate;
use crate::kinds::{IncubatorKind, IncubatorLevel};

draft_and_patch! {
    /// What creating an incubator carries.
    IncubatorDraft,
    /// What updating an incubator carries.
    IncubatorPatch {
        required {
            /// Incubator, makerspace or accelerator.
            kind: IncubatorKind => "kind",
            /// Chinese name.
            name_zh: String => "nameZh",
        }
        optional {
            /// English name.
            name_en: String,
            /// National, provincial or municipal recognition.
            level: IncubatorLevel,
            /// The park it is in: a park.
            park_id: Uuid,
            /// The organization that runs it: any organization.
            operator_id: Uuid,
            /// Founding date, at its precision; not in the future.
            founded_on: PartialDate,
            /// Source name.
            source_name: String,
            /// Source URL: http or https.
            source_url: String,
            /// When the source's facts were true.
            as_of: PartialDate,
        }
    }
}

impl IncubatorDraft {
    /// A draft with the required fields and nothing else.
    pub fn new(kind: IncubatorKind, name_zh: impl Into<String>) -> Self {
        Self {
            kind,
            name_zh: name_zh.into(),
            name_en: None,
            level: None,
            park_id: None,
            operator_id: None,
            founded_on: None,
            source_name: None,
            source_url: None,
            as_of: None,
        }
    }

    /// Validates a new incubator, collecting every problem.
    pub fn validate(self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        let mut e = Errors::new();
        let name_zh = required_text(&mut e, "nameZh", &self.name_zh, MAX_NAME_LEN);
        let name_en = optional_text(&mut e, "nameEn", self.name_en, MAX_NAME_LEN);
        not_in_future(&mut e, "foundedOn", self.founded_on, today);
        let (source_name, source_url) = provenance(&mut e, self.source_name, self.source_url, self.as_of, today);
        e.finish(Valid(Self { name_zh, name_en, source_name, source_url, ..self }))
    }

    /// The references the service must look up: the park and the operator.
    pub fn references(&self) -> Vec<Reference> {
        let park = self.park_id.map(|id| Reference::new("parkId", id, Expected::Park));
        let operator =
            self.operator_id.map(|id| Reference::new("operatorId", id, Expected::Organization(ANY_ORGANIZATION)));
        park.into_iter().chain(operator).collect()
    }

    fn validate_update(self, _current: &Self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        self.validate(today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::test_support::{codes, date, today};
    use crate::validation::{ErrorCode, Patch};

    fn chuangye() -> IncubatorDraft {
        IncubatorDraft {
            level: Some(IncubatorLevel::National),
            founded_on: Some(date("1987")),
            park_id: Some(Uuid::from_u128(1)),
            operator_id: Some(Uuid::from_u128(2)),
            ..IncubatorDraft::new(IncubatorKind::Incubator, "武汉东湖新技术创业中心")
        }
    }

    #[test]
    fn a_valid_incubator_refers_to_its_park_and_operator() {
        let valid = chuangye().validate(today()).expect("valid");
        let fields: Vec<&str> = valid.references().iter().map(|r| r.field).collect();
        assert_eq!(fields, ["parkId", "operatorId"]);
    }

    #[test]
    fn every_problem_of_an_incubator_is_reported_at_once() {
        let draft = IncubatorDraft {
            name_zh: " ".into(),
            founded_on: Some(date("2030")),
            source_url: Some("mailto:a@b.cn".into()),
            ..chuangye()
        };
        let invalid = draft.validate(today()).expect_err("invalid");
        assert_eq!(
            codes(&invalid),
            [
                ("nameZh".to_string(), ErrorCode::Required),
                ("foundedOn".to_string(), ErrorCode::DateOrder),
                ("sourceUrl".to_string(), ErrorCode::InvalidFormat),
            ]
        );
    }

    #[test]
    fn an_incubator_patch_can_change_its_level_and_clear_its_park() {
        let current = chuangye().validate(today()).expect("valid").into_inner();
        let patch = IncubatorPatch {
            level: Patch::Set(IncubatorLevel::Provincial),
            park_id: Patch::Clear,
            ..Default::default()
        };
        let next = patch.apply(&current, today()).expect("valid");
        assert_eq!((next.level, next.park_id), (Some(IncubatorLevel::Provincial), None));
    }
}
