//! Figures (a park's, a city's or an organization's numbers) and designations of parks and
//! cities.

use chrono::NaiveDate;
use uuid::Uuid;

use super::error::{ErrorCode, Errors, Invalid};
use super::fields::{MAX_NAME_LEN, MAX_SHORT_TEXT_LEN, not_in_future, optional_text, provenance, required_text};
use super::reference::{ANY_ORGANIZATION, Expected, Reference};
use super::{Valid, draft_and_patch};
use crate::date::PartialDate;
use crate::kinds::FigureQualifier;

/// Longest indicator code (`national_incubators`), in characters.
pub const MAX_INDICATOR_LEN: usize = 64;

draft_and_patch! {
    /// What creating a figure carries: a number about a park, a city or an organization.
    FigureDraft,
    /// What updating a figure carries.
    FigurePatch {
        required {
            /// What is measured, as a `snake_case` code (`unicorns`, `area_km2`).
            indicator: String => "indicator",
            /// Chinese label.
            name_zh: String => "nameZh",
            /// The value: finite; not negative unless the unit is a percentage.
            value: f64 => "value",
            /// The unit (`enterprises`, `CNY`, `km2`, `%`).
            unit: String => "unit",
            /// How the value relates to the true number.
            qualifier: FigureQualifier => "qualifier",
        }
        optional {
            /// The park it is about (a park); this, the city or the organization is required.
            park_id: Uuid,
            /// The city it is about; this, the park or the organization is required.
            city: String,
            /// The organization it is about (an organization); this, the park or the city is
            /// required.
            organization_id: Uuid,
            /// English label.
            name_en: String,
            /// Source name.
            source_name: String,
            /// Source URL: http or https.
            source_url: String,
            /// When the figure was true.
            as_of: PartialDate,
        }
    }
}

fn is_percentage(unit: &str) -> bool {
    matches!(unit.to_ascii_lowercase().as_str(), "%" | "percent" | "pct" | "pp" | "percentage_points")
}

impl FigureDraft {
    /// A draft with the required fields and nothing else (no park or city yet).
    pub fn new(
        indicator: impl Into<String>,
        name_zh: impl Into<String>,
        value: f64,
        unit: impl Into<String>,
        qualifier: FigureQualifier,
    ) -> Self {
        Self {
            indicator: indicator.into(),
            name_zh: name_zh.into(),
            value,
            unit: unit.into(),
            qualifier,
            park_id: None,
            city: None,
            organization_id: None,
            name_en: None,
            source_name: None,
            source_url: None,
            as_of: None,
        }
    }

    /// Validates a new figure, collecting every problem. Counts, amounts and areas cannot
    /// be negative; a percentage (a growth rate) can.
    pub fn validate(self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        let mut e = Errors::new();
        let indicator = required_text(&mut e, "indicator", &self.indicator, MAX_INDICATOR_LEN);
        if !indicator.is_empty()
            && !indicator.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            e.push(
                "indicator",
                ErrorCode::InvalidFormat,
                "Write the indicator as a snake_case code of lower-case letters, digits and underscores (area_km2).",
            );
        }
        let name_zh = required_text(&mut e, "nameZh", &self.name_zh, MAX_NAME_LEN);
        let unit = required_text(&mut e, "unit", &self.unit, MAX_SHORT_TEXT_LEN);
        if !self.value.is_finite() {
            e.push("value", ErrorCode::OutOfRange, "Give a finite number.");
        } else if self.value < 0.0 && !is_percentage(&unit) {
            e.push(
                "value",
                ErrorCode::OutOfRange,
                format!("A count, amount or area cannot be negative; {} is (only percentages may be).", self.value),
            );
        }
        let city = optional_text(&mut e, "city", self.city, MAX_SHORT_TEXT_LEN);
        if self.park_id.is_none() && city.is_none() && self.organization_id.is_none() {
            e.push("city", ErrorCode::Required, "Give the park, the city or the organization this figure is about.");
        }
        let name_en = optional_text(&mut e, "nameEn", self.name_en, MAX_NAME_LEN);
        let (source_name, source_url) = provenance(&mut e, self.source_name, self.source_url, self.as_of, today);
        e.finish(Valid(Self { indicator, name_zh, unit, city, name_en, source_name, source_url, ..self }))
    }

    /// The references the service must look up: the park and the organization, if any.
    pub fn references(&self) -> Vec<Reference> {
        let park = self.park_id.map(|id| Reference::new("parkId", id, Expected::Park));
        let organization = self
            .organization_id
            .map(|id| Reference::new("organizationId", id, Expected::Organization(ANY_ORGANIZATION)));
        park.into_iter().chain(organization).collect()
    }

    fn validate_update(self, _current: &Self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        self.validate(today)
    }
}

draft_and_patch! {
    /// What adding a designation of a park (a national base, a demonstration zone) carries.
    ParkDesignationDraft,
    /// What updating a park designation carries.
    ParkDesignationPatch {
        required {
            /// The park.
            park_id: Uuid => "parkId",
            /// Chinese name of the designation.
            name_zh: String => "nameZh",
        }
        optional {
            /// English name.
            name_en: String,
            /// When it was designated, at its precision; not in the future.
            designated_on: PartialDate,
            /// Source name.
            source_name: String,
            /// Source URL: http or https.
            source_url: String,
            /// When the source's facts were true.
            as_of: PartialDate,
        }
    }
}

impl ParkDesignationDraft {
    /// A draft with the required fields and nothing else.
    pub fn new(park_id: Uuid, name_zh: impl Into<String>) -> Self {
        Self {
            park_id,
            name_zh: name_zh.into(),
            name_en: None,
            designated_on: None,
            source_name: None,
            source_url: None,
            as_of: None,
        }
    }

    /// Validates a new park designation, collecting every problem.
    pub fn validate(self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        let mut e = Errors::new();
        let name_zh = required_text(&mut e, "nameZh", &self.name_zh, MAX_NAME_LEN);
        let name_en = optional_text(&mut e, "nameEn", self.name_en, MAX_NAME_LEN);
        not_in_future(&mut e, "designatedOn", self.designated_on, today);
        let (source_name, source_url) = provenance(&mut e, self.source_name, self.source_url, self.as_of, today);
        e.finish(Valid(Self { name_zh, name_en, source_name, source_url, ..self }))
    }

    /// The references the service must look up: the park.
    pub fn references(&self) -> Vec<Reference> {
        vec![Reference::new("parkId", self.park_id, Expected::Park)]
    }

    fn validate_update(self, _current: &Self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        self.validate(today)
    }
}

draft_and_patch! {
    /// What adding a designation of a city carries.
    CityDesignationDraft,
    /// What updating a city designation carries.
    CityDesignationPatch {
        required {
            /// The city.
            city: String => "city",
            /// Chinese name of the designation.
            name_zh: String => "nameZh",
        }
        optional {
            /// English name.
            name_en: String,
            /// Who awarded it.
            issuer: String,
            /// When it was designated, at its precision; not in the future.
            designated_on: PartialDate,
            /// Source name.
            source_name: String,
            /// Source URL: http or https.
            source_url: String,
            /// When the source's facts were true.
            as_of: PartialDate,
        }
    }
}

impl CityDesignationDraft {
    /// A draft with the required fields and nothing else.
    pub fn new(city: impl Into<String>, name_zh: impl Into<String>) -> Self {
        Self {
            city: city.into(),
            name_zh: name_zh.into(),
            name_en: None,
            issuer: None,
            designated_on: None,
            source_name: None,
            source_url: None,
            as_of: None,
        }
    }

    /// Validates a new city designation, collecting every problem.
    pub fn validate(self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        let mut e = Errors::new();
        let city = required_text(&mut e, "city", &self.city, MAX_SHORT_TEXT_LEN);
        let name_zh = required_text(&mut e, "nameZh", &self.name_zh, MAX_NAME_LEN);
        let name_en = optional_text(&mut e, "nameEn", self.name_en, MAX_NAME_LEN);
        let issuer = optional_text(&mut e, "issuer", self.issuer, MAX_NAME_LEN);
        not_in_future(&mut e, "designatedOn", self.designated_on, today);
        let (source_name, source_url) = provenance(&mut e, self.source_name, self.source_url, self.as_of, today);
        e.finish(Valid(Self { city, name_zh, name_en, issuer, source_name, source_url, ..self }))
    }

    /// The references the service must look up: none.
    pub fn references(&self) -> Vec<Reference> {
        Vec::new()
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

    fn area() -> FigureDraft {
        FigureDraft {
            city: Some("武汉".into()),
            ..FigureDraft::new("area_km2", "面积", 518.0, "km2", FigureQualifier::About)
        }
    }

    #[test]
    fn a_valid_figure_is_accepted() {
        assert!(area().validate(today()).is_ok());
        let growth = FigureDraft { value: -2.5, unit: "%".into(), ..area() };
        assert!(growth.validate(today()).is_ok());
    }

    #[test]
    fn a_negative_area_or_count_is_rejected() {
        let invalid = FigureDraft { value: -1.0, ..area() }.validate(today()).expect_err("negative area");
        assert_eq!(codes(&invalid), [("value".to_string(), ErrorCode::OutOfRange)]);
        let invalid = FigureDraft { value: f64::INFINITY, ..area() }.validate(today()).expect_err("infinite");
        assert_eq!(codes(&invalid), [("value".to_string(), ErrorCode::OutOfRange)]);
    }

    #[test]
    fn every_problem_of_a_figure_is_reported_at_once() {
        let draft = FigureDraft { indicator: "Area km²".into(), unit: " ".into(), city: None, ..area() };
        let invalid = draft.validate(today()).expect_err("invalid");
        assert_eq!(
            codes(&invalid),
            [
                ("indicator".to_string(), ErrorCode::InvalidFormat),
                ("unit".to_string(), ErrorCode::Required),
                ("city".to_string(), ErrorCode::Required),
            ]
        );
    }

    #[test]
    fn a_figure_about_a_park_needs_no_city() {
        let current = area();
        let moved = FigurePatch { park_id: Patch::Set(Uuid::from_u128(1)), city: Patch::Clear, ..Default::default() }
            .apply(&current, today())
            .expect("valid");
        assert_eq!(moved.references().len(), 1);
    }

    #[test]
    fn park_and_city_designations_need_a_name_and_a_past_date() {
        let park = ParkDesignationDraft {
            designated_on: Some(date("2030")),
            ..ParkDesignationDraft::new(Uuid::from_u128(1), " ")
        };
        let invalid = park.validate(today()).expect_err("invalid");
        assert_eq!(
            codes(&invalid),
            [("nameZh".to_string(), ErrorCode::Required), ("designatedOn".to_string(), ErrorCode::DateOrder)]
        );
        let city = CityDesignationDraft {
            designated_on: Some(date("2009-03")),
            issuer: Some("国务院".into()),
            ..CityDesignationDraft::new("武汉", "国家自主创新示范区")
        };
        assert!(city.validate(today()).is_ok());
        let invalid = CityDesignationDraft::new("", "x").validate(today()).expect_err("no city");
        assert_eq!(codes(&invalid), [("city".to_string(), ErrorCode::Required)]);
    }
}
