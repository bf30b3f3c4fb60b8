//! Placeholder: replaced by the spreadsheet reader.
use std::borrow::Cow;

/// A cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Empty.
    Empty,
    /// Text.
    Text(String),
    /// Integer.
    Int(i64),
    /// Float.
    Float(f64),
    /// Bool.
    Bool(bool),
    /// Date.
    Date(chrono::NaiveDate),
    /// Date and time.
    DateTime(chrono::NaiveDateTime),
}

impl Cell {
    /// Empty?
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }
    /// Text.
    pub fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Cell::Empty => None,
            Cell::Text(t) if t.trim().is_empty() => None,
            Cell::Text(t) => Some(Cow::Borrowed(t.trim())),
            Cell::Int(i) => Some(Cow::Owned(i.to_string())),
            Cell::Float(f) => Some(Cow::Owned(f.to_string())),
            Cell::Bool(b) => Some(Cow::Owned(b.to_string())),
            Cell::Date(d) => Some(Cow::Owned(d.to_string())),
            Cell::DateTime(d) => Some(Cow::Owned(d.to_string())),
        }
    }
}

/// A sheet.
#[derive(Clone, Debug)]
pub struct Sheet {
    /// Format.
    pub format: SourceFormat,
    /// Headers.
    pub headers: Vec<String>,
    /// Rows.
    pub rows: Vec<SheetRow>,
}

/// A row.
#[derive(Clone, Debug)]
pub struct SheetRow {
    /// Line.
    pub line: usize,
    /// Cells.
    pub cells: Vec<Cell>,
}

/// Format.
#[derive(Clone, Debug)]
pub enum SourceFormat {
    /// CSV.
    Csv {
        /// Encoding.
        encoding: &'static str,
        /// BOM.
        bom: bool,
    },
    /// XLSX.
    Xlsx {
        /// Sheet.
        sheet: String,
    },
}

/// Error.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    /// Not a spreadsheet.
    #[error("{reason}")]
    NotASpreadsheet {
        /// Why.
        reason: String,
    },
}

/// Read.
pub fn read(_bytes: &[u8], _file_name: Option<&str>) -> Result<Sheet, SheetError> {
    Err(SheetError::NotASpreadsheet { reason: "placeholder".into() })
}
