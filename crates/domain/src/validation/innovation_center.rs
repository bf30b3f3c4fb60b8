//! National innovation centers.

use chrono::NaiveDate;
use uuid::Uuid;

use super::error::{Errors, Invalid};
use super::fields::{MAX_NAME_LEN, MAX_SHORT_TEXT_LEN, not_in_future, optional_text, provenance, required_text};
use super::reference::{Expected, Reference};
use super::{Valid, draft_and_patch};
use crate::date::PartialDate;
use crate::kinds::InnovationCenterKind;

draft_and_patch! {
    /// What creating an innovation center carries. The approving ministry is not an input:
    /// it follows from the kind ([`InnovationCenterKind::ministry`]).
    InnovationCenterDraft,
    /// What updating an innovation center carries.
    InnovationCenterPatch {
        required {
            /// Manufacturing (MIIT), technology (MOST) or industrial (NDRC).
            kind: InnovationCenterKind => "kind",
            /// Chinese name.
            name_zh: String => "nameZh",
        }
        optional {
            /// English name.
            name_en: String,
            /// Field of technology.
            field: String,
            /// Approval date, at its precision; not in the future.
            approved_on: PartialDate,
            /// City.
            city: String,
            /// The park that hosts it: a park.
            host_park_id: Uuid,
            /// Source name.
            source_name: String,
            /// Source URL: http or https.
            source_url: String,
            /// When the source's facts were true.
            as_of: PartialDate,
        }
    }
}

impl InnovationCenterDraft {
    /// A draft with the required fields and nothing else.
    pub fn new(kind: InnovationCenterKind, name_zh: impl Into<String>) -> Self {
        Self {
            kind,
            name_zh: name_zh.into(),
            name_en: None,
            field: None,
            approved_on: None,
            city: None,
            host_park_id: None,
            source_name: None,
            source_url: None,
            as_of: None,
        }
    }

    /// Validates a new innovation center, collecting every problem.
    pub fn validate(self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        let mut e = Errors::new();
        let name_zh = required_text(&mut e, "nameZh", &self.name_zh, MAX_NAME_LEN);
        let name_en = optional_text(&mut e, "nameEn", self.name_en, MAX_NAME_LEN);
        let field = optional_text(&mut e, "field", self.field, MAX_SHORT_TEXT_LEN);
        not_in_future(&mut e, "approvedOn", self.approved_on, today);
        let city = optional_text(&mut e, "city", self.city, MAX_SHORT_TEXT_LEN);
        let (source_name, source_url) = provenance(&mut e, self.source_name, self.source_url, self.as_of, today);
        e.finish(Valid(Self { name_zh, name_en, field, city, source_name, source_url, ..self }))
    }

    /// The references the service must look up: the host park.
    pub fn references(&self) -> Vec<Reference> {
        self.host_park_id.map(|id| Reference::new("hostParkId", id, Expected::Park)).into_iter().collect()
    }

    fn validate_update(self, _current: &Self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        self.validate(today)
    }
}

impl Valid<InnovationCenterDraft> {
    /// The approving ministry to store (`MIIT`, `MOST`, `NDRC`), from the kind.
    pub fn ministry(&self) -> &'static str {
        self.0.kind.ministry()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::test_support::{codes, date, today};
    use crate::validation::{ErrorCode, Patch};

    fn optoelectronics() -> InnovationCenterDraft {
        InnovationCenterDraft {
            name_en: Some("National Information Optoelectronics Innovation Center".into()),
            approved_on: Some(date("2017-11")),
            city: Some("武汉".into()),
            ..InnovationCenterDraft::new(InnovationCenterKind::Manufacturing, "国家信息光电子创新中心")
        }
    }

    #[test]
    fn a_valid_innovation_center_takes_its_ministry_from_its_kind() {
        let valid = optoelectronics().validate(today()).expect("valid");
        assert_eq!(valid.ministry(), "MIIT");
        assert!(valid.references().is_empty());
    }

    #[test]
    fn an_innovation_center_approved_in_the_future_is_rejected() {
        let current = optoelectronics();
        let invalid = InnovationCenterPatch {
            approved_on: Patch::Set(date("2027")),
            name_zh: Patch::Clear,
            ..Default::default()
        }
        .apply(&current, today())
        .expect_err("invalid");
        assert_eq!(
            codes(&invalid),
            [("nameZh".to_string(), ErrorCode::Required), ("approvedOn".to_string(), ErrorCode::DateOrder)]
        );
    }
}
