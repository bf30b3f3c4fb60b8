//! Provenance: where a fact came from and as of when it was true.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The source of a record: every record in ParkGraph carries one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// Name of the source (publication, report, registry, announcement).
    pub source_name: Option<String>,
    /// Where the source can be read.
    pub source_url: Option<String>,
    /// The date the fact was true or reported.
    pub as_of: Option<NaiveDate>,
}
