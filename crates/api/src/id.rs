//! Opaque global ids: `base64("Type:uuid")`, as Relay's `Node` interface expects.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::error::ApiError;

/// The node types an id can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    /// `Park`.
    Park,
    /// `Organization`.
    Organization,
    /// `Incubator`.
    Incubator,
    /// `InnovationCenter`.
    InnovationCenter,
    /// `SecondHeadquarters`.
    SecondHeadquarters,
    /// `Designation`.
    Designation,
}

impl NodeType {
    const ALL: [Self; 6] = [
        Self::Park,
        Self::Organization,
        Self::Incubator,
        Self::InnovationCenter,
        Self::SecondHeadquarters,
        Self::Designation,
    ];

    /// The GraphQL type name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Park => "Park",
            Self::Organization => "Organization",
            Self::Incubator => "Incubator",
            Self::InnovationCenter => "InnovationCenter",
            Self::SecondHeadquarters => "SecondHeadquarters",
            Self::Designation => "Designation",
        }
    }
}

/// The global id of a record.
pub fn encode(kind: NodeType, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", kind.name(), id)))
}

/// Decodes any global id.
pub fn decode(id: &str) -> Result<(NodeType, Uuid), ApiError> {
    let bad = || ApiError::BadUserInput(format!("{id:?} is not a ParkGraph id"));
    let bytes = URL_SAFE_NO_PAD.decode(id.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (name, uuid) = text.split_once(':').ok_or_else(bad)?;
    let kind = NodeType::ALL.into_iter().find(|k| k.name() == name).ok_or_else(bad)?;
    let uuid = Uuid::parse_str(uuid).map_err(|_| bad())?;
    Ok((kind, uuid))
}

/// Decodes an id that must name a record of type `kind`.
pub fn decode_as(kind: NodeType, id: &str) -> Result<Uuid, ApiError> {
    let (found, uuid) = decode(id)?;
    if found == kind {
        Ok(uuid)
    } else {
        Err(ApiError::BadUserInput(format!(
            "id {id:?} names a {}, but a {} id is expected here",
            found.name(),
            kind.name()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let uuid = Uuid::now_v7();
        let id = encode(NodeType::Park, uuid);
        assert!(matches!(decode(&id), Ok((NodeType::Park, u)) if u == uuid));
    }

    #[test]
    fn an_id_of_another_type_is_rejected() {
        let id = encode(NodeType::Park, Uuid::now_v7());
        let err = decode_as(NodeType::Organization, &id).expect_err("wrong type");
        assert!(err.to_string().contains("names a Park"), "{err}");
    }

    #[test]
    fn garbage_is_not_an_id() {
        for bad in ["", "!!!", "UGFyazpub3QtYS11dWlk", "Q2FzdGxlOjAxOTM0ZjAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA"] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }
}
