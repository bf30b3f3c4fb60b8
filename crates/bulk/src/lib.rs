//! ParkGraph's bulk data in and out: spreadsheets people hand in and the exports they take
//! away.
//!
//! [`sheet`] reads a CSV (UTF-8, UTF-16, or GBK/GB18030 as Excel on Chinese Windows saves
//! it, detected rather than guessed) or an Excel workbook into typed cells with Excel's row
//! numbers, and turns anything else into one clear error. [`import`] reads such a sheet as
//! an organization import (headers in Chinese or English, values as people type them) for
//! the registry's import use-case, and lays out its error report. [`out`] writes rows of
//! cells as CSV for Excel (UTF-8 with a byte-order mark), XLSX with typed cells, or NDJSON
//! for programs, and writes the importer's row-level error report.

pub mod import;
pub mod out;
pub mod sheet;
