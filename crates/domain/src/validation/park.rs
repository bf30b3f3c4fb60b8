//! Parks, and the rule that no park is its own ancestor.

use std::collections::HashSet;

use chrono::NaiveDate;
use uuid::Uuid;

use super::error::{ErrorCode, Errors, FieldError, Invalid};
use super::fields::{
    MAX_NAME_LEN, MAX_SHORT_TEXT_LEN, coordinates, non_negative_measure, not_in_future, optional_text, provenance,
    required_text,
};
use super::reference::{Expected, Reference};
use super::{Valid, draft_and_patch};
use crate::date::PartialDate;
use crate::kinds::ParkKind;

/// How many ancestors a park may have. Real hierarchies have three or four levels (zone,
/// park, sub-park); the bound keeps the walk in [`check_no_cycle`] finite even if stored
/// data already loops.
pub const MAX_PARK_DEPTH: usize = 32;

draft_and_patch! {
    /// What creating a park carries.
    ParkDraft,
    /// What updating a park carries.
    ParkPatch {
        required {
            /// What kind of area the park is.
            kind: ParkKind => "kind",
            /// Chinese name.
            name_zh: String => "nameZh",
        }
        optional {
            /// The park this one lies within (checked with [`check_no_cycle`]).
            parent_id: Uuid,
            /// English name.
            name_en: String,
            /// City.
            city: String,
            /// District.
            district: String,
            /// Street address.
            address: String,
            /// Latitude, −90..90; given with the longitude.
            latitude: f64,
            /// Longitude, −180..180; given with the latitude.
            longitude: f64,
            /// Area in square kilometres; not negative.
            area_km2: f64,
            /// Establishment date, at its precision; not in the future.
            established_on: PartialDate,
            /// Source name.
            source_name: String,
            /// Source URL: http or https.
            source_url: String,
            /// When the source's facts were true.
            as_of: PartialDate,
        }
    }
}

impl ParkDraft {
    /// A draft with the required fields and nothing else.
    pub fn new(kind: ParkKind, name_zh: impl Into<String>) -> Self {
        Self {
            kind,
            name_zh: name_zh.into(),
            parent_id: None,
            name_en: None,
            city: None,
            district: None,
            address: None,
            latitude: None,
            longitude: None,
            area_km2: None,
            established_on: None,
            source_name: None,
            source_url: None,
            as_of: None,
        }
    }

    /// Validates a new park, collecting every problem. The parent is checked by the
    /// service: [`ParkDraft::references`] and, on update, [`check_no_cycle`].
    pub fn validate(self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        let mut e = Errors::new();
        let name_zh = required_text(&mut e, "nameZh", &self.name_zh, MAX_NAME_LEN);
        let name_en = optional_text(&mut e, "nameEn", self.name_en, MAX_NAME_LEN);
        let city = optional_text(&mut e, "city", self.city, MAX_SHORT_TEXT_LEN);
        let district = optional_text(&mut e, "district", self.district, MAX_SHORT_TEXT_LEN);
        let address = optional_text(&mut e, "address", self.address, MAX_NAME_LEN);
        coordinates(&mut e, self.latitude, self.longitude);
        non_negative_measure(&mut e, "areaKm2", self.area_km2);
        not_in_future(&mut e, "establishedOn", self.established_on, today);
        let (source_name, source_url) = provenance(&mut e, self.source_name, self.source_url, self.as_of, today);
        e.finish(Valid(Self {
            kind: self.kind,
            name_zh,
            parent_id: self.parent_id,
            name_en,
            city,
            district,
            address,
            latitude: self.latitude,
            longitude: self.longitude,
            area_km2: self.area_km2,
            established_on: self.established_on,
            source_name,
            source_url,
            as_of: self.as_of,
        }))
    }

    /// The references the service must look up: the parent, a park.
    pub fn references(&self) -> Vec<Reference> {
        self.parent_id.map(|id| Reference::new("parentId", id, Expected::Park)).into_iter().collect()
    }

    fn validate_update(self, _current: &Self, today: NaiveDate) -> Result<Valid<Self>, Invalid> {
        self.validate(today)
    }
}

/// Checks that giving park `id` the parent `proposed_parent` does not make it its own
/// ancestor: walks up from the proposed parent through `parent_of` (the stored parent of
/// a park, `None` for a top-level or unknown park) and fails if the walk reaches `id`.
///
/// The walk is bounded: it stops with `TOO_DEEP` after [`MAX_PARK_DEPTH`] ancestors and
/// with `CYCLE` if the stored chain above the parent already loops, so it ends even on
/// corrupt data. The service calls it in the transaction that writes the parent (with a
/// lookup over parks read in that transaction, e.g. a map of `id → parent_id`), so two
/// concurrent moves cannot each pass and together form a loop (lock or serialise the
/// parent updates).
pub fn check_no_cycle(
    id: Uuid,
    proposed_parent: Option<Uuid>,
    mut parent_of: impl FnMut(Uuid) -> Option<Uuid>,
) -> Result<(), FieldError> {
    const FIELD: &str = "parentId";
    let Some(parent) = proposed_parent else {
        return Ok(());
    };
    if parent == id {
        return Err(FieldError::new(FIELD, ErrorCode::Cycle, "A park cannot be its own parent; choose another park."));
    }
    let mut seen = HashSet::from([parent]);
    let mut current = parent;
    for _ in 0..MAX_PARK_DEPTH {
        let Some(next) = parent_of(current) else {
            return Ok(());
        };
        if next == id {
            return Err(FieldError::new(
                FIELD,
                ErrorCode::Cycle,
                format!(
                    "Park {parent} lies inside this park, so it cannot be its parent (a park cannot be its own \
                     ancestor); choose a park outside this one."
                ),
            ));
        }
        if !seen.insert(next) {
            return Err(FieldError::new(
                FIELD,
                ErrorCode::Cycle,
                format!(
                    "The parks above {parent} already form a loop at park {next}; fix that hierarchy before \
                     attaching parks to it."
                ),
            ));
        }
        current = next;
    }
    Err(FieldError::new(
        FIELD,
        ErrorCode::TooDeep,
        format!("Park {parent} already has {MAX_PARK_DEPTH} parks above it; choose a parent higher up."),
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::validation::Patch;
    use crate::validation::test_support::{codes, date, today};

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn biolake() -> ParkDraft {
        ParkDraft {
            parent_id: Some(id(1)),
            name_en: Some("Biolake".into()),
            latitude: Some(30.48),
            longitude: Some(114.49),
            established_on: Some(date("2008")),
            ..ParkDraft::new(ParkKind::SciencePark, "光谷生物城")
        }
    }

    /// A chain 1 ← 2 ← 3 ← … ← n (each park's parent is the one before).
    fn chain(n: u128) -> HashMap<Uuid, Uuid> {
        (2..=n).map(|i| (id(i), id(i - 1))).collect()
    }

    #[test]
    fn a_valid_park_is_accepted_and_refers_to_its_parent() {
        let valid = biolake().validate(today()).expect("valid");
        assert_eq!(valid.references(), [Reference::new("parentId", id(1), Expected::Park)]);
    }

    #[test]
    fn every_problem_of_a_park_is_reported_at_once() {
        let draft = ParkDraft {
            name_zh: "".into(),
            latitude: Some(130.0),
            longitude: None,
            area_km2: Some(-66.8),
            established_on: Some(date("2027-01")),
            ..biolake()
        };
        let invalid = draft.validate(today()).expect_err("invalid");
        assert_eq!(
            codes(&invalid),
            [
                ("nameZh".to_string(), ErrorCode::Required),
                ("latitude".to_string(), ErrorCode::OutOfRange),
                ("longitude".to_string(), ErrorCode::Required),
                ("areaKm2".to_string(), ErrorCode::OutOfRange),
                ("establishedOn".to_string(), ErrorCode::DateOrder),
            ]
        );
    }

    #[test]
    fn a_patch_clearing_one_coordinate_is_rejected() {
        let current = biolake().validate(today()).expect("valid").into_inner();
        let invalid = ParkPatch { latitude: Patch::Clear, ..Default::default() }
            .apply(&current, today())
            .expect_err("half a coordinate");
        assert_eq!(codes(&invalid), [("latitude".to_string(), ErrorCode::Required)]);
        let cleared = ParkPatch { latitude: Patch::Clear, longitude: Patch::Clear, ..Default::default() }
            .apply(&current, today())
            .expect("both cleared");
        assert_eq!((cleared.latitude, cleared.longitude), (None, None));
    }

    #[test]
    fn a_park_cannot_be_its_own_parent() {
        let err = check_no_cycle(id(5), Some(id(5)), |_| None).expect_err("self-parent");
        assert_eq!((err.field.as_str(), err.code), ("parentId", ErrorCode::Cycle));
    }

    #[test]
    fn a_park_cannot_move_under_its_own_descendant() {
        let parents = chain(10);
        let err = check_no_cycle(id(1), Some(id(10)), |p| parents.get(&p).copied()).expect_err("loop");
        assert_eq!(err.code, ErrorCode::Cycle);
        assert!(err.message.contains(&id(10).to_string()));
    }

    #[test]
    fn moving_a_park_under_an_unrelated_branch_is_accepted() {
        let parents = chain(10);
        assert_eq!(check_no_cycle(id(100), Some(id(10)), |p| parents.get(&p).copied()), Ok(()));
        assert_eq!(check_no_cycle(id(5), Some(id(3)), |p| parents.get(&p).copied()), Ok(()));
        assert_eq!(check_no_cycle(id(5), None, |p| parents.get(&p).copied()), Ok(()));
    }

    #[test]
    fn a_long_chain_within_the_bound_is_walked_to_the_top() {
        let parents = chain(MAX_PARK_DEPTH as u128);
        assert_eq!(check_no_cycle(id(1000), Some(id(MAX_PARK_DEPTH as u128)), |p| parents.get(&p).copied()), Ok(()));
        let top = id(1);
        let err = check_no_cycle(top, Some(id(MAX_PARK_DEPTH as u128)), |p| parents.get(&p).copied())
            .expect_err("the top is an ancestor");
        assert_eq!(err.code, ErrorCode::Cycle);
    }

    #[test]
    fn a_chain_deeper_than_the_bound_stops_the_walk() {
        let parents = chain(10_000);
        let mut steps = 0;
        let err = check_no_cycle(id(1_000_000), Some(id(10_000)), |p| {
            steps += 1;
            parents.get(&p).copied()
        })
        .expect_err("too deep");
        assert_eq!(err.code, ErrorCode::TooDeep);
        assert_eq!(steps, MAX_PARK_DEPTH);
    }

    #[test]
    fn a_loop_already_stored_above_the_parent_ends_the_walk() {
        let parents = HashMap::from([(id(2), id(3)), (id(3), id(4)), (id(4), id(2))]);
        let err = check_no_cycle(id(1), Some(id(2)), |p| parents.get(&p).copied()).expect_err("stored loop");
        assert_eq!(err.code, ErrorCode::Cycle);
        assert!(err.message.contains("already form a loop"));
    }
}
