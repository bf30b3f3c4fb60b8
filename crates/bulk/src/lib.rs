//! Spreadsheets in and out of the registry.
//!
//! - [`sheet`] reads a CSV (any encoding Excel writes) or XLSX file into typed cells;
//! - [`import`] turns a sheet into the rows of an organization import (the column
//!   headers in Chinese or English, the values as people type them) for the registry's
//!   import use-case, and writes its error report;
//! - [`out`] writes tables as CSV (with a BOM, for Excel), XLSX (typed cells) or NDJSON.

pub mod import;
pub mod out;
pub mod sheet;
