//! Reading only the columns a response needs.
//!
//! A page of fifty organizations that shows their names reads two of their twenty-eight
//! columns; the rest (contacts, staff notes, provenance …) cost the database the work of
//! sending them, and the server that of decoding, copying and freeing them, for nothing.
//! The API works out from a query's selection which columns its fields read and asks for
//! a [`Columns`] set: those columns are read, the others come back as NULL. The record is
//! still its model, so the code that reads it is the same; a caller looks only at the
//! columns it asked for.
//!
//! Columns that cannot be null (the id, the kind, the Chinese name, the version, the
//! timestamps) are always read: they are small, and a model cannot hold them empty.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, IdenStatic, Iterable, QuerySelect, Select};

/// A set of the columns of record kind `E` that a read needs (see the module docs).
pub struct Columns<E: EntityTrait> {
    /// Bit `i` stands for the `i`-th column in the kind's column order; the columns that
    /// cannot be null are always set, so that equal sets have equal bits (a loader hashes
    /// and compares its keys many times per request).
    bits: u64,
    kind: PhantomData<fn() -> E>,
}

impl<E: EntityTrait> Columns<E> {
    /// Every column: the record as stored.
    pub fn all() -> Self {
        Self::of(E::Column::iter().enumerate().fold(0, |bits, (i, _)| bits | position_bit(i)))
    }

    /// The columns that are always read, and no other.
    pub fn required() -> Self {
        let bits = E::Column::iter()
            .enumerate()
            .filter(|(_, column)| !column.def().is_null())
            .fold(0, |bits, (i, _)| bits | position_bit(i));
        Self::of(bits)
    }

    fn of(bits: u64) -> Self {
        Self { bits, kind: PhantomData }
    }

    /// This set and `column`.
    #[must_use]
    pub fn with(self, column: E::Column) -> Self {
        Self::of(self.bits | bit::<E>(column))
    }

    /// Every column in either set.
    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self::of(self.bits | other.bits)
    }

    /// True when a read with this set returns `column` as stored.
    pub fn contains(&self, column: E::Column) -> bool {
        self.bits & bit::<E>(column) != 0
    }

    /// True when the set holds every column of the kind.
    pub fn is_all(&self) -> bool {
        self.bits == Self::all().bits
    }

    /// `select` reading the columns of this set, and NULL in place of the others.
    pub(crate) fn project(&self, select: Select<E>) -> Select<E> {
        if self.is_all() {
            return select;
        }
        let mut select = select.select_only();
        for (i, column) in E::Column::iter().enumerate() {
            select = if self.bits & position_bit(i) != 0 {
                select.column(column)
            } else {
                select.column_as(Expr::cust("NULL"), column.as_str())
            };
        }
        select
    }
}

/// The bit of the `i`-th column (none past the 64th: such a column is always read).
fn position_bit(i: usize) -> u64 {
    u32::try_from(i).ok().and_then(|i| 1u64.checked_shl(i)).unwrap_or(0)
}

/// The bit of `column` in a [`Columns`] of its kind.
fn bit<E: EntityTrait>(column: E::Column) -> u64 {
    let name = column.as_str();
    E::Column::iter().position(|c| c.as_str() == name).map_or(0, position_bit)
}

// By hand rather than derived: a derive would ask the same of `E`.
impl<E: EntityTrait> Clone for Columns<E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E: EntityTrait> Copy for Columns<E> {}

impl<E: EntityTrait> PartialEq for Columns<E> {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
    }
}

impl<E: EntityTrait> Eq for Columns<E> {}

impl<E: EntityTrait> Hash for Columns<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bits.hash(state);
    }
}

impl<E: EntityTrait> fmt::Debug for Columns<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(E::Column::iter().filter(|c| self.contains(*c)).map(|c| c.as_str())).finish()
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, QueryTrait};

    use super::*;
    use crate::entity::organization::{Column, Entity};

    #[test]
    fn a_set_reads_its_columns_and_those_that_cannot_be_null() {
        let set = Columns::<Entity>::required().with(Column::Industry);
        assert!(set.contains(Column::Industry));
        assert!(set.contains(Column::NameZh), "not null: always read");
        assert!(set.contains(Column::Id));
        assert!(!set.contains(Column::StaffNotes));
        assert!(!set.is_all());
        assert!(Columns::<Entity>::all().is_all());
        assert_eq!(set, Columns::required().with(Column::Industry).with(Column::NameZh), "the same columns read");
        assert_ne!(set, Columns::required());

        let sql = set.project(Entity::find()).build(DbBackend::Postgres).to_string();
        assert!(sql.contains(r#""organization"."industry""#), "{sql}");
        assert!(sql.contains(r#""organization"."name_zh""#), "{sql}");
        assert!(sql.contains(r#"NULL AS "staff_notes""#), "{sql}");
        assert!(!sql.contains(r#""organization"."staff_notes""#), "{sql}");
        let all = Columns::<Entity>::all().project(Entity::find()).build(DbBackend::Postgres).to_string();
        assert!(all.contains(r#""organization"."staff_notes""#) && !all.contains("NULL AS"), "{all}");
    }
}
