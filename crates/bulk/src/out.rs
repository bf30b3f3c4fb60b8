//! Writing a table of [`Cell`]s as CSV, XLSX or NDJSON, one row at a time, and the importer's
//! row-level error report.
//!
//! - **CSV** is for people with Excel: UTF-8 *with* a byte-order mark (without it Excel on a
//!   Chinese Windows reads the file as GBK and shows the Chinese headers as mojibake), CRLF
//!   line ends, the people-facing `header`s, fields quoted only where needed.
//! - **XLSX** is for people too, with typed cells: numbers are numbers, dates are real Excel
//!   dates shown as `yyyy-mm-dd`; a bold, frozen header row; column widths from the header
//!   and the column's type. Rows are streamed to a temporary file as they come (the
//!   writer's constant-memory mode), so a million rows do not sit in memory.
//! - **NDJSON** is for programs: one JSON object per line with the English `keys`, numbers
//!   as numbers, dates as `"YYYY-MM-DD"` strings, empty cells as `null`.
//!
//! Cells are written by their own type; a [`Column`]'s [`ColumnType`] sets how the column
//! looks (its width, and the date format in XLSX), not what its cells are.
//!
//! **Formulas in CSV and XLSX.** A text cell that starts with `=`, `+`, `-` or `@` is written
//! as it is. Spreadsheet programs may treat such a CSV field as a formula when the file is
//! opened ("CSV injection"); the common defence, prefixing a `'`, changes the value, so an
//! export would no longer re-import as a no-op and programs reading the CSV would see values
//! that are not in the registry. ParkGraph keeps values exact instead: XLSX text cells are
//! always strings (never formulas), and whoever opens an export CSV in a spreadsheet program
//! should keep its protected-view or formula warnings on.

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

use crate::sheet::Cell;

/// How a column looks in a spreadsheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Text: a wide column.
    Text,
    /// Whole numbers.
    Int,
    /// Numbers with a fractional part.
    Float,
    /// Dates, shown as `yyyy-mm-dd` in XLSX.
    Date,
}

/// One column of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The header people see in CSV and XLSX, e.g. `企业名称`.
    pub header: &'static str,
    /// How the column looks.
    pub ty: ColumnType,
}

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    /// CSV with a UTF-8 byte-order mark and CRLF line ends, for Excel.
    Csv,
    /// An Excel workbook with typed cells.
    Xlsx,
    /// Newline-delimited JSON, for programs.
    Ndjson,
}

impl OutFormat {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            OutFormat::Csv => "csv",
            OutFormat::Xlsx => "xlsx",
            OutFormat::Ndjson => "ndjson",
        }
    }

    /// The media type to serve the format with.
    pub fn content_type(self) -> &'static str {
        match self {
            OutFormat::Csv => "text/csv; charset=utf-8",
            OutFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            OutFormat::Ndjson => "application/x-ndjson",
        }
    }
}

impl fmt::Display for OutFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// An export format name that is not one of `csv`, `xlsx`, `ndjson`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown export format \"{given}\": expected csv, xlsx or ndjson")]
pub struct UnknownFormat {
    /// The name given.
    pub given: String,
}

impl FromStr for OutFormat {
    type Err = UnknownFormat;

    /// Parses `csv`, `xlsx` or `ndjson`, in any letter case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(OutFormat::Csv),
            "xlsx" => Ok(OutFormat::Xlsx),
            "ndjson" => Ok(OutFormat::Ndjson),
            _ => Err(UnknownFormat { given: s.to_owned() }),
        }
    }
}

/// Why a table could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutError {
    /// Writing to the output failed (a full disk, a closed connection).
    #[error("could not write the export: {0}")]
    Io(#[from] std::io::Error),
    /// The CSV writer failed (it fails only when its output does).
    #[error("could not write the CSV export: {0}")]
    Csv(#[from] csv::Error),
    /// The XLSX writer failed.
    #[error("could not write the XLSX export: {0}")]
    Xlsx(#[from] XlsxError),
    /// A worksheet holds 1,048,576 rows, one of them the header.
    #[error("an XLSX worksheet holds at most {max} data rows; export this many rows as csv or ndjson")]
    TooManyRows {
        /// The most data rows a worksheet holds.
        max: u32,
    },
    /// A row had more cells than the table has columns.
    #[error("a row has {cells} cells but the export has {columns} columns")]
    RowTooLong {
        /// Cells in the row.
        cells: usize,
        /// Columns of the table.
        columns: usize,
    },
    /// The NDJSON keys do not match the columns one to one.
    #[error("the export has {columns} columns but {keys} NDJSON keys")]
    KeysMismatch {
        /// Number of columns.
        columns: usize,
        /// Number of keys.
        keys: usize,
    },
    /// A date outside the years Excel can show (1900–9999).
    #[error("the date {0} cannot be written to XLSX (Excel shows years 1900 to 9999)")]
    DateOutOfRange(String),
}

/// Receives the rows of an export, in order.
pub trait TableWriter {
    /// Writes one row. A row may have fewer cells than there are columns (the rest are
    /// empty), not more.
    fn row(&mut self, cells: &[Cell]) -> Result<(), OutError>;

    /// Completes the file (for XLSX, assembles and writes the workbook) and flushes the
    /// output. Without it the output is incomplete.
    fn finish(self: Box<Self>) -> Result<(), OutError>;
}

/// A writer of `format` for a table of `columns`, writing to `out`. `keys` are the NDJSON
/// object keys, one per column (English field names such as `name`, `uscc`); CSV and XLSX
/// use the columns' headers instead. The CSV header row (after the byte-order mark) is
/// written at once; the XLSX header row goes to the worksheet at once.
pub fn writer(
    format: OutFormat,
    columns: Vec<Column>,
    keys: Vec<&'static str>,
    out: Box<dyn Write + Send>,
) -> Result<Box<dyn TableWriter + Send>, OutError> {
    Ok(match format {
        OutFormat::Csv => Box::new(CsvWriter::new(&columns, out)?),
        OutFormat::Xlsx => Box::new(XlsxWriter::new(columns, out)?),
        OutFormat::Ndjson => {
            if keys.len() != columns.len() {
                return Err(OutError::KeysMismatch { columns: columns.len(), keys: keys.len() });
            }
            Box::new(NdjsonWriter { keys, out: BufWriter::new(out) })
        }
    })
}

fn check_width(cells: &[Cell], columns: usize) -> Result<(), OutError> {
    if cells.len() > columns {
        return Err(OutError::RowTooLong { cells: cells.len(), columns });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// CSV.

const BOM: &[u8] = b"\xef\xbb\xbf";

struct CsvWriter {
    csv: csv::Writer<Box<dyn Write + Send>>,
    columns: usize,
    fields: Vec<String>,
}

impl CsvWriter {
    fn new(columns: &[Column], out: Box<dyn Write + Send>) -> Result<Self, OutError> {
        let headers: Vec<&str> = columns.iter().map(|column| column.header).collect();
        Ok(CsvWriter {
            csv: bom_csv(out, &headers)?,
            columns: columns.len(),
            fields: Vec::with_capacity(columns.len()),
        })
    }
}

/// A CSV writer for Excel: byte-order mark, CRLF, the header row written.
fn bom_csv<W: Write>(mut out: W, headers: &[&str]) -> Result<csv::Writer<W>, OutError> {
    out.write_all(BOM)?;
    let mut csv = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out);
    csv.write_record(headers)?;
    Ok(csv)
}

impl TableWriter for CsvWriter {
    fn row(&mut self, cells: &[Cell]) -> Result<(), OutError> {
        check_width(cells, self.columns)?;
        self.fields.clear();
        self.fields.extend(cells.iter().map(csv_text));
        self.fields.resize_with(self.columns.max(cells.len()), String::new);
        self.csv.write_record(&self.fields)?;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), OutError> {
        let mut out =
            self.csv.into_inner().map_err(|error| OutError::Io(std::io::Error::other(error.error().to_string())))?;
        out.flush()?;
        Ok(())
    }
}

/// A cell as a CSV field: text as it is (not trimmed), numbers in their shortest exact form,
/// dates `YYYY-MM-DD`, date-times `YYYY-MM-DD HH:MM:SS`, booleans `TRUE`/`FALSE`.
fn csv_text(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(text) => text.clone(),
        Cell::Int(n) => n.to_string(),
        Cell::Float(x) if x.is_finite() => x.to_string(),
        Cell::Float(_) => String::new(),
        Cell::Bool(true) => "TRUE".to_owned(),
        Cell::Bool(false) => "FALSE".to_owned(),
        Cell::Date(date) => date.format("%Y-%m-%d").to_string(),
        Cell::DateTime(at) => at.format("%Y-%m-%d %H:%M:%S").to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// XLSX.

/// Data rows a worksheet holds below its header.
const XLSX_MAX_ROWS: u32 = 1_048_575;

struct XlsxWriter {
    workbook: Workbook,
    out: Box<dyn Write + Send>,
    columns: Vec<Column>,
    next_row: u32,
    date: Format,
    datetime: Format,
}

impl XlsxWriter {
    fn new(columns: Vec<Column>, out: Box<dyn Write + Send>) -> Result<Self, OutError> {
        let mut workbook = Workbook::new();
        let bold = Format::new().set_bold();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        // In constant-memory mode the column settings precede the first row.
        for (index, column) in columns.iter().enumerate() {
            let index = column_index(index)?;
            sheet.set_column_width(index, column_width(column))?;
            if column.ty == ColumnType::Date {
                sheet.set_column_format(index, &date)?;
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        for (index, column) in columns.iter().enumerate() {
            sheet.write_string_with_format(0, column_index(index)?, column.header, &bold)?;
        }
        Ok(XlsxWriter { workbook, out, columns, next_row: 1, date, datetime })
    }
}

fn column_index(index: usize) -> Result<u16, OutError> {
    u16::try_from(index).map_err(|_| OutError::RowTooLong { cells: index + 1, columns: usize::from(u16::MAX) })
}

/// A width in Excel's character units: wide enough for the header (a CJK character is two
/// units wide) and for typical values of the column's type.
fn column_width(column: &Column) -> f64 {
    let header: usize = column.header.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
    let typical = match column.ty {
        ColumnType::Text => 24,
        ColumnType::Int => 12,
        ColumnType::Float => 14,
        ColumnType::Date => 12,
    };
    #[allow(clippy::cast_precision_loss)] // widths are small numbers
    let width = (header + 2).clamp(typical, 60) as f64;
    width
}

impl TableWriter for XlsxWriter {
    fn row(&mut self, cells: &[Cell]) -> Result<(), OutError> {
        check_width(cells, self.columns.len())?;
        if self.next_row > XLSX_MAX_ROWS {
            return Err(OutError::TooManyRows { max: XLSX_MAX_ROWS });
        }
        let row = self.next_row;
        let sheet = self.workbook.worksheet_from_index(0)?;
        for (index, cell) in cells.iter().enumerate() {
            let col = column_index(index)?;
            match cell {
                Cell::Empty => {}
                Cell::Text(text) => {
                    sheet.write_string(row, col, text)?;
                }
                Cell::Int(n) => {
                    // Excel numbers are doubles: integers beyond 2^53 lose their last digits,
                    // so those are written as text to keep them exact.
                    if n.unsigned_abs() <= 1 << 53 {
                        #[allow(clippy::cast_precision_loss)] // exact within 2^53
                        sheet.write_number(row, col, *n as f64)?;
                    } else {
                        sheet.write_string(row, col, n.to_string())?;
                    }
                }
                Cell::Float(x) if x.is_finite() => {
                    sheet.write_number(row, col, *x)?;
                }
                Cell::Float(_) => {}
                Cell::Bool(b) => {
                    sheet.write_boolean(row, col, *b)?;
                }
                Cell::Date(date) => {
                    sheet.write_datetime_with_format(row, col, excel_date(*date)?, &self.date)?;
                }
                Cell::DateTime(at) => {
                    sheet.write_datetime_with_format(row, col, excel_datetime(*at)?, &self.datetime)?;
                }
            }
        }
        self.next_row += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), OutError> {
        let mut out = BufWriter::new(self.out);
        self.workbook.save_to_writer(&mut out)?;
        out.flush()?;
        Ok(())
    }
}

fn excel_date(date: NaiveDate) -> Result<ExcelDateTime, OutError> {
    let out_of_range = || OutError::DateOutOfRange(date.to_string());
    let year = u16::try_from(date.year()).map_err(|_| out_of_range())?;
    if !(1900..=9999).contains(&year) {
        return Err(out_of_range());
    }
    #[allow(clippy::cast_possible_truncation)] // months and days fit in u8
    ExcelDateTime::from_ymd(year, date.month() as u8, date.day() as u8).map_err(|_| out_of_range())
}

fn excel_datetime(at: NaiveDateTime) -> Result<ExcelDateTime, OutError> {
    let seconds = f64::from(at.second()) + f64::from(at.nanosecond() / 1_000_000) / 1000.0;
    #[allow(clippy::cast_possible_truncation)] // hours and minutes fit in u8
    excel_date(at.date())?
        .and_hms(at.hour() as u16, at.minute() as u8, seconds)
        .map_err(|_| OutError::DateOutOfRange(at.to_string()))
}

// ---------------------------------------------------------------------------------------------
// NDJSON.

struct NdjsonWriter {
    keys: Vec<&'static str>,
    out: BufWriter<Box<dyn Write + Send>>,
}

impl TableWriter for NdjsonWriter {
    fn row(&mut self, cells: &[Cell]) -> Result<(), OutError> {
        check_width(cells, self.keys.len())?;
        // Written by hand to keep the columns' order (a JSON map would sort the keys).
        self.out.write_all(b"{")?;
        for (index, key) in self.keys.iter().enumerate() {
            if index > 0 {
                self.out.write_all(b",")?;
            }
            serde_json::to_writer(&mut self.out, key).map_err(std::io::Error::from)?;
            self.out.write_all(b":")?;
            let cell = cells.get(index).unwrap_or(&Cell::Empty);
            serde_json::to_writer(&mut self.out, &json_value(cell)).map_err(std::io::Error::from)?;
        }
        self.out.write_all(b"}\n")?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), OutError> {
        self.out.flush()?;
        Ok(())
    }
}

/// A cell as JSON: numbers as numbers (a non-finite float as `null`), dates as
/// `"YYYY-MM-DD"`, date-times as `"YYYY-MM-DDTHH:MM:SS"`, empty as `null`.
fn json_value(cell: &Cell) -> serde_json::Value {
    use serde_json::Value;
    match cell {
        Cell::Empty => Value::Null,
        Cell::Text(text) => Value::String(text.clone()),
        Cell::Int(n) => Value::from(*n),
        Cell::Float(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        Cell::Bool(b) => Value::Bool(*b),
        Cell::Date(date) => Value::String(date.format("%Y-%m-%d").to_string()),
        Cell::DateTime(at) => Value::String(at.format("%Y-%m-%dT%H:%M:%S").to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// The importer's error report.

/// The error report's header row: Chinese and English, so it reads in either.
pub const ERROR_REPORT_HEADERS: [&str; 4] = ["行号 row", "列 column", "值 value", "原因 reason"];

/// Where the error report of an import of `input` goes: beside it, named after it
/// (`企业名单.xlsx` → `企业名单.errors.csv`).
pub fn error_report_path(input: &Path) -> PathBuf {
    let stem = input.file_stem().map_or_else(|| "import".into(), |stem| stem.to_string_lossy());
    input.with_file_name(format!("{stem}.errors.csv"))
}

/// Writes the importer's row-level error report to `path` (replacing a file there) as a CSV
/// that opens cleanly in Excel (UTF-8 byte-order mark, CRLF): one row per problem, with the
/// row number as Excel shows it, the column's header, the value as found and the reason.
/// Returns the number of problems written.
pub fn error_report_csv<I>(path: &Path, rows: I) -> Result<usize, OutError>
where
    I: Iterator<Item = (usize, String, String, String)>,
{
    let file = BufWriter::new(File::create(path)?);
    let mut csv = bom_csv(file, &ERROR_REPORT_HEADERS)?;
    let mut written = 0;
    for (line, column, value, reason) in rows {
        csv.write_record([line.to_string(), column, value, reason])?;
        written += 1;
    }
    let mut file = csv.into_inner().map_err(|error| OutError::Io(std::io::Error::other(error.error().to_string())))?;
    file.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_xlsx_export_stops_at_the_worksheet_row_limit_with_a_clear_error() {
        let columns = vec![Column { header: "企业名称", ty: ColumnType::Text }];
        let mut writer = XlsxWriter::new(columns, Box::new(std::io::sink())).expect("writer");
        writer.row(&[Cell::Text("斗鱼".to_owned())]).expect("a row fits");
        writer.next_row = XLSX_MAX_ROWS;
        writer.row(&[Cell::Text("最后一行".to_owned())]).expect("the last row fits");
        let error = writer.row(&[Cell::Text("多一行".to_owned())]).expect_err("no room");
        assert!(matches!(error, OutError::TooManyRows { max: XLSX_MAX_ROWS }), "{error:?}");
        assert_eq!(
            error.to_string(),
            "an XLSX worksheet holds at most 1048575 data rows; export this many rows as csv or ndjson"
        );
    }

    #[test]
    fn column_widths_fit_chinese_headers() {
        let narrow = Column { header: "行业", ty: ColumnType::Text };
        let long = Column { header: "统一社会信用代码（十八位）", ty: ColumnType::Text };
        let date = Column { header: "成立日期", ty: ColumnType::Date };
        assert_eq!(column_width(&narrow), 24.0);
        assert_eq!(column_width(&long), 28.0);
        assert_eq!(column_width(&date), 12.0);
    }
}
