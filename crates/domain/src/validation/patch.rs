//! What an update command says about one field: leave it, set it, or clear it.

use super::error::{ErrorCode, Errors};

/// One field of an update.
///
/// GraphQL inputs distinguish an absent field (leave it) from an explicit `null` (clear
/// it); this keeps that distinction in domain terms. The default is [`Patch::Unchanged`],
/// so a patch built with `..Default::default()` touches only the fields it names.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Patch<T> {
    /// Keep the stored value.
    #[default]
    Unchanged,
    /// Replace the stored value.
    Set(T),
    /// Remove the stored value (a `REQUIRED` error on a required field).
    Clear,
}

impl<T> Patch<T> {
    /// From an optional input where absence means "unchanged" and `Some(None)` means
    /// "clear" (the shape of `async_graphql::MaybeUndefined` once converted).
    pub fn from_option(value: Option<Option<T>>) -> Self {
        match value {
            None => Self::Unchanged,
            Some(None) => Self::Clear,
            Some(Some(v)) => Self::Set(v),
        }
    }

    /// True unless the field is left unchanged.
    pub fn is_change(&self) -> bool {
        !matches!(self, Self::Unchanged)
    }

    /// Applies the patch to an optional field.
    pub fn apply_optional(self, slot: &mut Option<T>) {
        match self {
            Self::Unchanged => {}
            Self::Set(v) => *slot = Some(v),
            Self::Clear => *slot = None,
        }
    }

    /// Applies the patch to a required field; clearing it is recorded as `REQUIRED` on
    /// `field` and leaves the value as it was.
    pub fn apply_required(self, slot: &mut T, field: &str, errors: &mut Errors) {
        match self {
            Self::Unchanged => {}
            Self::Set(v) => *slot = v,
            Self::Clear => errors.push(field, ErrorCode::Required, "This field cannot be cleared; give a new value."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_set_and_clear_apply_to_an_optional_field() {
        let mut slot = Some(1);
        Patch::Unchanged.apply_optional(&mut slot);
        assert_eq!(slot, Some(1));
        Patch::Set(2).apply_optional(&mut slot);
        assert_eq!(slot, Some(2));
        Patch::Clear.apply_optional(&mut slot);
        assert_eq!(slot, None);
    }

    #[test]
    fn clearing_a_required_field_is_rejected_and_keeps_the_value() {
        let mut errors = Errors::new();
        let mut slot = "光谷".to_string();
        Patch::Clear.apply_required(&mut slot, "nameZh", &mut errors);
        assert_eq!(slot, "光谷");
        let invalid = errors.finish(()).expect_err("required");
        assert_eq!(invalid.errors()[0].code, ErrorCode::Required);
    }

    #[test]
    fn graphql_absence_and_null_map_to_unchanged_and_clear() {
        assert_eq!(Patch::<i32>::from_option(None), Patch::Unchanged);
        assert_eq!(Patch::<i32>::from_option(Some(None)), Patch::Clear);
        assert_eq!(Patch::from_option(Some(Some(3))), Patch::Set(3));
        assert!(!Patch::<i32>::default().is_change());
    }
}
