//! "Link endpoints of the right kind": a reference must name a record of the expected
//! type, and for organizations of an accepted organization kind.
//!
//! The domain cannot read rows, so each draft lists its [`Reference`]s
//! (`draft.references()`); the service looks each up in its transaction (an archived
//! record counts as not found) and passes what it found, as an [`Endpoint`], to
//! [`check_references`].

use uuid::Uuid;

use super::error::{ErrorCode, FieldError, Invalid};
use crate::kinds::OrganizationKind;

/// Organization kinds that count as enterprises (incubatees, designated firms, located firms).
pub(crate) const ENTERPRISE: &[OrganizationKind] = &[OrganizationKind::Enterprise];
/// Any organization kind.
pub(crate) const ANY_ORGANIZATION: &[OrganizationKind] = OrganizationKind::ALL;

/// What a referenced id turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// An organization, with its kind.
    Organization(OrganizationKind),
    /// A park.
    Park,
    /// An incubator.
    Incubator,
    /// A national innovation center.
    InnovationCenter,
    /// A second headquarters.
    SecondHeadquarters,
}

impl Endpoint {
    fn describe(self) -> String {
        match self {
            Self::Organization(kind) => format!("an organization of kind {kind}"),
            Self::Park => "a park".to_string(),
            Self::Incubator => "an incubator".to_string(),
            Self::InnovationCenter => "an innovation center".to_string(),
            Self::SecondHeadquarters => "a second headquarters".to_string(),
        }
    }
}

/// What a reference must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// An organization of one of these kinds.
    Organization(&'static [OrganizationKind]),
    /// A park.
    Park,
    /// An incubator.
    Incubator,
    /// A national innovation center.
    InnovationCenter,
}

impl Expected {
    fn accepts(self, found: Endpoint) -> bool {
        match (self, found) {
            (Self::Organization(kinds), Endpoint::Organization(kind)) => kinds.contains(&kind),
            (Self::Park, Endpoint::Park)
            | (Self::Incubator, Endpoint::Incubator)
            | (Self::InnovationCenter, Endpoint::InnovationCenter) => true,
            _ => false,
        }
    }

    fn describe(self) -> String {
        match self {
            Self::Organization(kinds) if kinds == ANY_ORGANIZATION => "an organization".to_string(),
            Self::Organization(kinds) => {
                let codes: Vec<&str> = kinds.iter().map(|k| k.code()).collect();
                format!("an organization of kind {}", codes.join(" or "))
            }
            Self::Park => "a park".to_string(),
            Self::Incubator => "an incubator".to_string(),
            Self::InnovationCenter => "an innovation center".to_string(),
        }
    }
}

/// One id a draft refers to, where it sits in the input, and what it must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    /// The input field (`organizationId`).
    pub field: &'static str,
    /// The id given.
    pub id: Uuid,
    /// What it must name.
    pub expected: Expected,
}

impl Reference {
    /// A reference from `field` to `id`, which must be `expected`.
    pub fn new(field: &'static str, id: Uuid, expected: Expected) -> Self {
        Self { field, id, expected }
    }

    /// Checks what the service found for this reference (`None`: no live record).
    pub fn check(&self, found: Option<Endpoint>) -> Result<(), FieldError> {
        match found {
            None => Err(FieldError::new(
                self.field,
                ErrorCode::NotFound,
                format!("No live record has id {}; it must be {}.", self.id, self.expected.describe()),
            )),
            Some(endpoint) if !self.expected.accepts(endpoint) => Err(FieldError::new(
                self.field,
                ErrorCode::WrongKind,
                format!("{} is {}, but this must be {}.", self.id, endpoint.describe(), self.expected.describe()),
            )),
            Some(_) => Ok(()),
        }
    }
}

/// Checks every reference against what the service found, collecting all problems.
pub fn check_references(found: impl IntoIterator<Item = (Reference, Option<Endpoint>)>) -> Result<(), Invalid> {
    let mut errors = super::Errors::new();
    for (reference, endpoint) in found {
        if let Err(e) = reference.check(endpoint) {
            errors.add(e);
        }
    }
    errors.finish(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::test_support::codes;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn an_incubatee_must_be_an_enterprise() {
        let incubatee = Reference::new("organizationId", id(1), Expected::Organization(ENTERPRISE));
        assert_eq!(incubatee.check(Some(Endpoint::Organization(OrganizationKind::Enterprise))), Ok(()));
        let err = incubatee.check(Some(Endpoint::Organization(OrganizationKind::University))).expect_err("wrong");
        assert_eq!(err.code, ErrorCode::WrongKind);
        assert!(err.message.contains("UNIVERSITY") && err.message.contains("ENTERPRISE"), "{}", err.message);
    }

    #[test]
    fn a_park_id_given_where_an_organization_belongs_is_the_wrong_kind() {
        let member = Reference::new("organizationId", id(2), Expected::Organization(ANY_ORGANIZATION));
        assert_eq!(member.check(Some(Endpoint::Organization(OrganizationKind::Government))), Ok(()));
        assert_eq!(member.check(Some(Endpoint::Park)).map_err(|e| e.code), Err(ErrorCode::WrongKind));
    }

    #[test]
    fn missing_references_are_all_reported() {
        let invalid = check_references([
            (Reference::new("organizationId", id(1), Expected::Organization(ENTERPRISE)), None),
            (Reference::new("incubatorId", id(2), Expected::Incubator), Some(Endpoint::Incubator)),
            (Reference::new("parkId", id(3), Expected::Park), Some(Endpoint::Incubator)),
        ])
        .expect_err("two problems");
        assert_eq!(
            codes(&invalid),
            [("organizationId".to_string(), ErrorCode::NotFound), ("parkId".to_string(), ErrorCode::WrongKind)]
        );
    }
}
