//! ParkGraph's domain: the types and rules of a city's innovation economy.
//!
//! This crate owns what a park, an incubator, an organization, a designation, a second
//! headquarters and a national innovation center *are*, and which values are valid for
//! them. It knows nothing of storage, GraphQL or HTTP (CI checks that with `cargo tree`),
//! so the rules here hold whichever way data enters: the API, an import, or the seed.
//!
//! [`validation`] checks every create and update command (drafts, patches, field errors
//! with stable codes) and says which rules the service must check against the database.

pub mod access;
pub mod date;
pub mod kinds;
pub mod provenance;
pub mod rules;
pub mod uscc;
pub mod validation;

pub use access::{Role, Scope, ScopeCeiling, grant};
pub use date::{PartialDate, PartialDateError};
pub use kinds::*;
pub use provenance::Provenance;
pub use rules::{DateOrderError, PartialDateOrderError, check_date_order, check_partial_date_order};
pub use uscc::{Uscc, UsccError, UsccWarning};
