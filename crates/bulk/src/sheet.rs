//! Reading a spreadsheet that a person hands in: CSV (in whatever encoding Excel saved it) or
//! an Excel workbook, into one [`Sheet`] of typed [`Cell`]s.
//!
//! What this module decides, so that the importer does not have to:
//! - **What the file is**, by its content, never only by its name: a zip that holds an Excel
//!   workbook is XLSX, an OLE compound file is an old `.xls` workbook, and text is CSV. Anything
//!   else (an image, a PDF, a Word document, a web page, binary data, an empty file) is one
//!   [`SheetError::NotASpreadsheet`] whose reason a person understands.
//! - **The text encoding of a CSV**: UTF-8 (with or without a byte-order mark) or UTF-16 with a
//!   byte-order mark; anything else is detected with `chardetng` and decoded with `encoding_rs`
//!   (Excel on Chinese Windows saves "CSV" as GBK; a file using characters beyond GBK is
//!   reported as GB18030). Bytes that are not valid in the detected encoding are an error,
//!   never silently replaced.
//! - **The delimiter of a CSV**: comma, tab or semicolon, whichever the header line uses most.
//! - **Where the header is and what each row's number is**: the first non-empty row holds the
//!   headers; [`SheetRow::line`] is the row number as Excel shows it (1 for the first row of
//!   the file), so an error report can point a person at the right row even when empty rows,
//!   skipped here, sit in between, or a quoted CSV cell spans several lines.
//!
//! CSV cells are all [`Cell::Text`], as they are in the file (not trimmed: the importer
//! decides what a value means); XLSX cells keep their type (numbers, dates, booleans, text).

use std::borrow::Cow;
use std::fmt;
use std::io::Cursor;

use calamine::{Data, Reader};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use encoding_rs::{Encoding, GB18030, GBK, UTF_8, UTF_16BE, UTF_16LE};

/// One cell's value as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A blank cell (an empty CSV field, an empty or missing spreadsheet cell).
    Empty,
    /// Text, exactly as in the file (CSV fields are always text).
    Text(String),
    /// A whole number. XLSX numbers without a fractional part are read as `Int` (Excel has
    /// only one number type), so a count or a year comes back as written.
    Int(i64),
    /// A number with a fractional part.
    Float(f64),
    /// A TRUE/FALSE cell.
    Bool(bool),
    /// A date cell (an Excel date serial shown with a date format, and no time of day).
    Date(NaiveDate),
    /// A date-and-time cell.
    DateTime(NaiveDateTime),
}

impl Cell {
    /// True for [`Cell::Empty`] and for text that is only white space.
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(text) => trim(text).is_empty(),
            _ => false,
        }
    }

    /// The cell as a person would read it, trimmed (white space, including the full-width
    /// space U+3000, and stray byte-order marks); `None` when that leaves nothing. Numbers in
    /// their shortest exact form (`3`, `2.5`), dates as `YYYY-MM-DD`, date-times as
    /// `YYYY-MM-DD HH:MM:SS`, booleans as `TRUE`/`FALSE` (as Excel shows them).
    pub fn as_text(&self) -> Option<Cow<'_, str>> {
        let text = match self {
            Cell::Empty => return None,
            Cell::Text(text) => Cow::Borrowed(trim(text)),
            Cell::Int(n) => Cow::Owned(n.to_string()),
            Cell::Float(x) => Cow::Owned(x.to_string()),
            Cell::Bool(true) => Cow::Borrowed("TRUE"),
            Cell::Bool(false) => Cow::Borrowed("FALSE"),
            Cell::Date(date) => Cow::Owned(date.format("%Y-%m-%d").to_string()),
            Cell::DateTime(at) => Cow::Owned(at.format("%Y-%m-%d %H:%M:%S").to_string()),
        };
        (!text.is_empty()).then_some(text)
    }
}

/// The cell every missing position reads as (see [`SheetRow::get`]).
static EMPTY: Cell = Cell::Empty;

/// A spreadsheet as read: where it came from, its headers, and its non-empty data rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The format and encoding the file was read as.
    pub format: SourceFormat,
    /// The header row: trimmed (white space including U+3000, byte-order marks); trailing
    /// empty headers dropped. A header in the middle may be empty (a column with no name).
    pub headers: Vec<String>,
    /// The data rows after the header, completely empty rows left out.
    pub rows: Vec<SheetRow>,
}

/// One data row.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetRow {
    /// The row number as Excel shows it: the file's first row is 1, the header row usually 1,
    /// the first data row usually 2. Empty rows left out of [`Sheet::rows`] still count.
    pub line: usize,
    /// The cells in column order. A row may have fewer cells than there are headers (an
    /// XLSX row ends at its last value; a CSV row has the fields the file gives it) or more;
    /// use [`SheetRow::get`] to read by header position.
    pub cells: Vec<Cell>,
}

impl SheetRow {
    /// The cell in column `index` (0-based, as in [`Sheet::headers`]), [`Cell::Empty`] past
    /// the end of the row.
    pub fn get(&self, index: usize) -> &Cell {
        self.cells.get(index).unwrap_or(&EMPTY)
    }
}

/// The format a [`Sheet`] was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceFormat {
    /// Delimited text.
    Csv {
        /// The encoding the text was decoded from: `"UTF-8"`, `"UTF-16LE"`, `"UTF-16BE"`,
        /// `"GBK"`, `"GB18030"`, or another name from the WHATWG Encoding Standard
        /// (`"Big5"`, `"Shift_JIS"`, `"windows-1252"`, …) when that is what the file is in.
        encoding: &'static str,
        /// Whether the file started with a byte-order mark.
        bom: bool,
    },
    /// An Office Open XML workbook (`.xlsx`, `.xlsm`); the first worksheet was read.
    Xlsx {
        /// The name of the worksheet read.
        sheet: String,
    },
    /// An Excel 97–2003 workbook (`.xls`); the first worksheet was read.
    Xls {
        /// The name of the worksheet read.
        sheet: String,
    },
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceFormat::Csv { encoding, bom: true } => write!(f, "CSV ({encoding} with BOM)"),
            SourceFormat::Csv { encoding, bom: false } => write!(f, "CSV ({encoding})"),
            SourceFormat::Xlsx { sheet } => write!(f, "XLSX (worksheet \"{sheet}\")"),
            SourceFormat::Xls { sheet } => write!(f, "XLS (worksheet \"{sheet}\")"),
        }
    }
}

/// Why a file could not be read as a spreadsheet. Each message is meant for the person who
/// chose the file: it says what the file is, or what is wrong with it, and what to do.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SheetError {
    /// The file is something else altogether (or nothing at all).
    #[error("{reason}")]
    NotASpreadsheet {
        /// What the file is, in words, e.g. "this file is a PDF document, not a CSV or XLSX
        /// spreadsheet".
        reason: String,
    },
    /// The file looks like a spreadsheet of the named format, but it could not be read.
    #[error(
        "this {format} file could not be read ({detail}); it may be damaged or protected by a password: open it in Excel and save it again as .xlsx or CSV"
    )]
    Damaged {
        /// "XLSX" or "XLS".
        format: &'static str,
        /// What the reader reported.
        detail: String,
    },
    /// A text file whose bytes are not valid in the encoding they were detected as.
    #[error(
        "this CSV file is not valid {encoding} text (byte {offset} cannot be decoded); save it again as \"CSV UTF-8\""
    )]
    Encoding {
        /// The encoding the file was detected as.
        encoding: &'static str,
        /// The offset of the first byte that could not be decoded.
        offset: usize,
    },
    /// A workbook spread over more cells than [`MAX_CELLS`].
    #[error("this workbook spreads over more than {max} cells; split it into smaller files or save it as CSV")]
    TooLarge {
        /// The most cells read.
        max: usize,
    },
    /// The workbook has no worksheet to read.
    #[error("this workbook has no worksheet")]
    NoWorksheet,
    /// Nothing in the file: no row has any value, so there is no header row.
    #[error("the spreadsheet is empty: its first row must hold the column headers")]
    NoHeader,
}

/// Reads a spreadsheet from its bytes. `file_name` is used only to word an error better
/// (the content decides the format).
pub fn read(bytes: &[u8], file_name: Option<&str>) -> Result<Sheet, SheetError> {
    if bytes.is_empty() {
        return Err(not_a_spreadsheet("this file is empty"));
    }
    match sniff(bytes) {
        Sniffed::Zip => guarded("XLSX", || read_xlsx(bytes)),
        Sniffed::Ole => guarded("XLS", || read_xls(bytes, file_name)),
        Sniffed::Other(what) => Err(not_a_spreadsheet(format!("this file is {what}, not a CSV or XLSX spreadsheet"))),
        Sniffed::Text => read_csv(bytes, file_name),
    }
}

/// Runs a workbook reader so that a panic inside it, on a malformed workbook it did not
/// anticipate, becomes an error about the file rather than taking the caller down.
fn guarded(
    format: &'static str,
    read: impl FnOnce() -> Result<Sheet, SheetError> + std::panic::UnwindSafe,
) -> Result<Sheet, SheetError> {
    std::panic::catch_unwind(read)
        .unwrap_or_else(|_| Err(SheetError::Damaged { format, detail: "its contents are malformed".to_owned() }))
}

fn not_a_spreadsheet(reason: impl Into<String>) -> SheetError {
    SheetError::NotASpreadsheet { reason: reason.into() }
}

// ---------------------------------------------------------------------------------------------
// What the file is.

enum Sniffed {
    Zip,
    Ole,
    Text,
    Other(&'static str),
}

/// Magic numbers of files people pick by mistake, with what to call them.
const MAGIC: &[(&[u8], &str)] = &[
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b", "a gzip-compressed archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\xfd7zXZ\x00", "an xz-compressed archive"),
    (b"{\\rtf", "a Rich Text (RTF) document"),
    (b"\x7fELF", "a program"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PK\x05\x06", "an empty zip archive"),
];

fn sniff(bytes: &[u8]) -> Sniffed {
    if bytes.starts_with(b"PK\x03\x04") {
        return Sniffed::Zip;
    }
    if bytes.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        return Sniffed::Ole;
    }
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Sniffed::Other("a WebP image");
    }
    if let Some((_, what)) = MAGIC.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return Sniffed::Other(what);
    }
    // Two- and three-letter signatures that a header line could start with too: only with
    // what follows them in a real file.
    if bytes.starts_with(b"MZ") && bytes.iter().take(64).any(|&byte| byte == 0) {
        return Sniffed::Other("a Windows program");
    }
    if bytes.len() >= 10 && bytes.starts_with(b"BZh") && &bytes[4..10] == b"1AY&SY" {
        return Sniffed::Other("a bzip2-compressed archive");
    }
    Sniffed::Text
}

/// Names a zip archive that is not an Excel workbook by the members it holds.
fn describe_zip(bytes: &[u8]) -> &'static str {
    // Zip member names stand uncompressed in the archive's headers.
    let holds = |name: &[u8]| bytes.windows(name.len()).any(|window| window == name);
    if holds(b"word/document.xml") {
        "a Word document (.docx)"
    } else if holds(b"ppt/presentation.xml") {
        "a PowerPoint presentation (.pptx)"
    } else if holds(b"xl/workbook.bin") {
        "an Excel binary workbook (.xlsb): save it from Excel as .xlsx or CSV"
    } else if holds(b"application/vnd.oasis.opendocument.spreadsheet") {
        "an OpenDocument spreadsheet (.ods): save it as .xlsx or CSV"
    } else if holds(b"application/vnd.oasis.opendocument") {
        "an OpenDocument file"
    } else {
        "a zip archive"
    }
}

// ---------------------------------------------------------------------------------------------
// Workbooks.

fn read_xlsx(bytes: &[u8]) -> Result<Sheet, SheetError> {
    // Zip member names stand uncompressed in the archive's headers.
    let holds = |name: &[u8]| bytes.windows(name.len()).any(|window| window == name);
    if !holds(b"xl/workbook.xml") {
        return Err(not_a_spreadsheet(format!("this file is {}, not a CSV or XLSX spreadsheet", describe_zip(bytes))));
    }
    let damaged = |detail: String| SheetError::Damaged { format: "XLSX", detail };
    let mut workbook = calamine::Xlsx::new(Cursor::new(bytes)).map_err(|error| damaged(error.to_string()))?;
    let name = workbook.sheet_names().first().cloned().ok_or(SheetError::NoWorksheet)?;
    // Cells are streamed and kept sparse: a dense range spans the bounding box of the used
    // cells, and one stray value in cell XFD1048576 would make it seventeen billion cells.
    let mut reader = workbook.worksheet_cells_reader(&name).map_err(|error| damaged(error.to_string()))?;
    let mut used: Vec<(u32, u32, Cell)> = Vec::new();
    while let Some(cell) = reader.next_cell().map_err(|error| damaged(error.to_string()))? {
        let value = cell_from_data(&Data::from(cell.get_value().clone()));
        if value != Cell::Empty {
            if used.len() == MAX_CELLS {
                return Err(SheetError::TooLarge { max: MAX_CELLS });
            }
            let (row, col) = cell.get_position();
            used.push((row, col, value));
        }
    }
    from_sparse(used, SourceFormat::Xlsx { sheet: name })
}

/// Most cells a worksheet may spread over (its rows from the first column used to the last
/// value in each row), so that a small file cannot demand gigabytes.
pub const MAX_CELLS: usize = 10_000_000;

fn from_sparse(mut used: Vec<(u32, u32, Cell)>, format: SourceFormat) -> Result<Sheet, SheetError> {
    used.sort_by_key(|&(row, col, _)| (row, col));
    let first_col = used.iter().map(|&(_, col, _)| col).min().unwrap_or(0);
    let mut rows: Vec<SheetRow> = Vec::new();
    let mut total = 0usize;
    for (row, col, value) in used {
        let line = row as usize + 1;
        if rows.last().is_none_or(|last| last.line != line) {
            rows.push(SheetRow { line, cells: Vec::new() });
        }
        let Some(current) = rows.last_mut() else {
            continue;
        };
        let index = (col - first_col) as usize;
        if index >= current.cells.len() {
            total = total.saturating_add(index + 1 - current.cells.len());
            if total > MAX_CELLS {
                return Err(SheetError::TooLarge { max: MAX_CELLS });
            }
            current.cells.resize(index + 1, Cell::Empty);
        }
        current.cells[index] = value;
    }
    let mut rows = rows.into_iter().filter(|row| !row.cells.iter().all(Cell::is_empty));
    let header = rows.next().ok_or(SheetError::NoHeader)?;
    let headers =
        headers_from(header.cells.iter().map(|cell| cell.as_text().map_or_else(String::new, |text| text.into_owned())));
    Ok(Sheet { format, headers, rows: rows.collect() })
}

fn read_xls(bytes: &[u8], file_name: Option<&str>) -> Result<Sheet, SheetError> {
    let mut workbook = match calamine::Xls::new(Cursor::new(bytes)) {
        Ok(workbook) => workbook,
        Err(error) => {
            let named = file_name.and_then(|name| name.rsplit_once('.')).map(|(_, ext)| ext.to_ascii_lowercase());
            return Err(match named.as_deref() {
                Some("xls") => SheetError::Damaged { format: "XLS", detail: error.to_string() },
                Some("doc") => {
                    not_a_spreadsheet("this file is a Word 97–2003 document (.doc), not a CSV or XLSX spreadsheet")
                }
                Some("ppt") => not_a_spreadsheet(
                    "this file is a PowerPoint 97–2003 presentation (.ppt), not a CSV or XLSX spreadsheet",
                ),
                _ => not_a_spreadsheet(format!(
                    "this file is an old Microsoft Office file that is not an Excel workbook ({error}); save the spreadsheet as .xlsx or CSV"
                )),
            });
        }
    };
    let name = workbook.sheet_names().first().cloned().ok_or(SheetError::NoWorksheet)?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or(SheetError::NoWorksheet)?
        .map_err(|error| SheetError::Damaged { format: "XLS", detail: error.to_string() })?;
    // Positions in the range are relative to its first used cell.
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let used = range
        .used_cells()
        .filter_map(|(row, col, data)| {
            let value = cell_from_data(data);
            let row = first_row.saturating_add(u32::try_from(row).ok()?);
            let col = first_col.saturating_add(u32::try_from(col).ok()?);
            (value != Cell::Empty).then_some((row, col, value))
        })
        .collect();
    from_sparse(used, SourceFormat::Xls { sheet: name })
}

/// Largest integer an `f64` holds exactly (2^53).
const EXACT_INT: f64 = 9_007_199_254_740_992.0;

fn cell_from_data(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(text) if text.is_empty() => Cell::Empty,
        Data::String(text) => Cell::Text(text.clone()),
        Data::Int(n) => Cell::Int(*n),
        Data::Float(x) => number(*x),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(excel) if excel.is_duration() => Cell::Text(duration_text(excel.as_f64())),
        // A serial below one is a time of day with no date.
        Data::DateTime(excel) if (0.0..1.0).contains(&excel.as_f64()) => Cell::Text(duration_text(excel.as_f64())),
        Data::DateTime(excel) => match excel.as_datetime() {
            Some(at) => date_or_datetime(at),
            None => number(excel.as_f64()),
        },
        Data::DateTimeIso(text) => parse_iso(text).unwrap_or_else(|| Cell::Text(text.clone())),
        Data::DurationIso(text) => Cell::Text(text.clone()),
        Data::Error(error) => Cell::Text(error.to_string()),
    }
}

fn number(x: f64) -> Cell {
    if x.fract() == 0.0 && x.abs() <= EXACT_INT {
        // Exact: |x| <= 2^53 and whole.
        #[allow(clippy::cast_possible_truncation)]
        Cell::Int(x as i64)
    } else {
        Cell::Float(x)
    }
}

fn date_or_datetime(at: NaiveDateTime) -> Cell {
    // Excel keeps milliseconds; a date typed into a cell has none, and a serial that carries
    // floating-point noise rounds to the whole second.
    let at = round_to_second(at);
    if at.time() == NaiveTime::MIN { Cell::Date(at.date()) } else { Cell::DateTime(at) }
}

fn round_to_second(at: NaiveDateTime) -> NaiveDateTime {
    let nanos = at.nanosecond();
    let whole = at.with_nanosecond(0).unwrap_or(at);
    if nanos >= 500_000_000 { whole.checked_add_signed(chrono::TimeDelta::seconds(1)).unwrap_or(whole) } else { whole }
}

fn duration_text(days: f64) -> String {
    let seconds = (days * 86_400.0).round();
    if !seconds.is_finite() || seconds.abs() > 1e15 {
        return days.to_string();
    }
    #[allow(clippy::cast_possible_truncation)]
    let seconds = seconds as i64;
    let sign = if seconds < 0 { "-" } else { "" };
    let seconds = seconds.unsigned_abs();
    format!("{sign}{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

fn parse_iso(text: &str) -> Option<Cell> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(Cell::Date(date));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(date_or_datetime)
}

// ---------------------------------------------------------------------------------------------
// Delimited text.

fn read_csv(bytes: &[u8], file_name: Option<&str>) -> Result<Sheet, SheetError> {
    let (text, encoding, bom) = decode(bytes, file_name)?;
    let delimiter = delimiter_of(&text);
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());

    let mut headers: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    // Excel's row number of each record. The csv reader skips blank lines (Excel shows each
    // as an empty row) and a quoted field may span several lines, so count the line breaks it
    // skipped before each record: they lead the bytes that reading the record consumed.
    let mut excel_row = 0usize;
    let mut previous_ended_in_cr = false;
    let mut record = csv::StringRecord::new();
    loop {
        let before = reader.position().byte();
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            // The input is a `str`, so the reader cannot meet invalid UTF-8 or an I/O error.
            Err(error) => {
                return Err(not_a_spreadsheet(format!("this file could not be read as CSV: {error}")));
            }
        }
        let after = reader.position().byte();
        let consumed = usize::try_from(before)
            .ok()
            .zip(usize::try_from(after).ok())
            .and_then(|(from, to)| text.as_bytes().get(from..to))
            .unwrap_or_default();
        let mut leading = consumed.iter().take_while(|&&byte| matches!(byte, b'\r' | b'\n')).copied().peekable();
        if previous_ended_in_cr && leading.peek() == Some(&b'\n') {
            // The second half of the previous record's CRLF terminator.
            leading.next();
        }
        let skipped = count_line_breaks(leading);
        excel_row = excel_row.saturating_add(skipped).saturating_add(1);
        previous_ended_in_cr = consumed.last() == Some(&b'\r');

        let cells: Vec<Cell> = record
            .iter()
            .map(|field| if field.is_empty() { Cell::Empty } else { Cell::Text(field.to_owned()) })
            .collect();
        if cells.iter().all(Cell::is_empty) {
            continue;
        }
        match headers {
            None => headers = Some(headers_from(record.iter().map(|field| trim(field).to_owned()))),
            Some(_) => rows.push(SheetRow { line: excel_row, cells }),
        }
    }
    Ok(Sheet { format: SourceFormat::Csv { encoding, bom }, headers: headers.ok_or(SheetError::NoHeader)?, rows })
}

/// Counts line breaks in bytes that are all CR or LF: CRLF, a lone LF and a lone CR each count once.
fn count_line_breaks(bytes: impl Iterator<Item = u8>) -> usize {
    let mut count = 0;
    let mut after_cr = false;
    for byte in bytes {
        if !(after_cr && byte == b'\n') {
            count += 1;
        }
        after_cr = byte == b'\r';
    }
    count
}

/// Decodes a text file: byte-order mark first, then UTF-8, then what `chardetng` detects.
fn decode(bytes: &[u8], file_name: Option<&str>) -> Result<(String, &'static str, bool), SheetError> {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        let body = &bytes[bom_length..];
        if encoding == UTF_8 {
            check_binary(body, file_name)?;
        }
        return decode_strictly(encoding, body, bom_length).map(|text| {
            let name = if encoding == UTF_16LE {
                "UTF-16LE"
            } else if encoding == UTF_16BE {
                "UTF-16BE"
            } else {
                "UTF-8"
            };
            (text, name, true)
        });
    }
    check_binary(bytes, file_name)?;
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_owned(), "UTF-8", false));
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    // The `.cn` hint tells the detector to expect Simplified Chinese, the files ParkGraph is
    // handed; it still recognises a file in another encoding when the bytes say so, but a
    // short GBK file with one Chinese character is no longer taken for windows-1252.
    let mut encoding = detector.guess(Some(b"cn"), chardetng::Utf8Detection::Allow);
    if encoding == GBK && has_four_byte_gb18030(bytes) {
        encoding = GB18030;
    }
    let text = decode_strictly(encoding, bytes, 0)?;
    Ok((text, encoding_name(encoding), false))
}

fn encoding_name(encoding: &'static Encoding) -> &'static str {
    if encoding == GB18030 { "GB18030" } else { encoding.name() }
}

fn decode_strictly(encoding: &'static Encoding, bytes: &[u8], offset: usize) -> Result<String, SheetError> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity =
        decoder.max_utf8_buffer_length_without_replacement(bytes.len()).unwrap_or(bytes.len().saturating_mul(3));
    let mut text = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut text, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => Ok(text),
        encoding_rs::DecoderResult::Malformed(bad, _) => Err(SheetError::Encoding {
            encoding: encoding_name(encoding),
            offset: offset + read.saturating_sub(usize::from(bad)),
        }),
        encoding_rs::DecoderResult::OutputFull => {
            Err(SheetError::Encoding { encoding: encoding_name(encoding), offset: offset + read })
        }
    }
}

/// Whether GBK-looking bytes use GB18030's four-byte sequences (characters beyond GBK).
fn has_four_byte_gb18030(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if (0x81..=0xfe).contains(&byte) {
            if bytes.get(i + 1).is_some_and(|next| next.is_ascii_digit()) {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// Text has no NUL bytes and hardly any other control characters; binary data has many.
fn check_binary(bytes: &[u8], file_name: Option<&str>) -> Result<(), SheetError> {
    let control =
        bytes.iter().filter(|&&byte| byte < 0x20 && !matches!(byte, b'\t' | b'\n' | b'\r' | 0x0c | 0x1a)).count();
    if bytes.contains(&0) || control.saturating_mul(100) > bytes.len() {
        let named = file_name.map_or_else(String::new, |name| format!(" \"{name}\""));
        return Err(not_a_spreadsheet(format!(
            "this file{named} contains binary data, not the text of a CSV file, and is not an XLSX workbook"
        )));
    }
    let head = &bytes[..bytes.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let head = head.trim_start();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        return Err(not_a_spreadsheet(
            "this file is a web page (HTML), not a CSV or XLSX spreadsheet; some systems export web pages named .xls: open it in Excel and save it as .xlsx",
        ));
    }
    if head.starts_with("<?xml") && head.contains("urn:schemas-microsoft-com:office:spreadsheet") {
        return Err(not_a_spreadsheet(
            "this file is an Excel 2003 XML spreadsheet; open it in Excel and save it as .xlsx or CSV",
        ));
    }
    Ok(())
}

/// The delimiter the header line uses most among comma, tab and semicolon (comma on a tie).
fn delimiter_of(text: &str) -> u8 {
    let first = text.lines().find(|line| !line.trim().is_empty()).unwrap_or("");
    let count = |c: char| first.chars().filter(|&x| x == c).count();
    let (comma, tab, semicolon) = (count(','), count('\t'), count(';'));
    if tab > comma && tab >= semicolon {
        b'\t'
    } else if semicolon > comma && semicolon > tab {
        b';'
    } else {
        b','
    }
}

// ---------------------------------------------------------------------------------------------
// Shared.

fn trim(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || matches!(c, '\u{feff}' | '\u{200b}'))
}

fn headers_from(headers: impl Iterator<Item = String>) -> Vec<String> {
    let mut headers: Vec<String> = headers.map(|header| trim(&header).to_owned()).collect();
    while headers.last().is_some_and(String::is_empty) {
        headers.pop();
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_line_decides_the_delimiter() {
        assert_eq!(delimiter_of("a;b;c\n1,5;2;3"), b';');
        assert_eq!(delimiter_of("a\tb\tc,d\n"), b'\t');
        assert_eq!(delimiter_of("a,b;c,d\n"), b',');
        assert_eq!(delimiter_of("name\n"), b',');
        assert_eq!(delimiter_of("\n\na;b\n"), b';');
    }

    #[test]
    fn time_of_day_reads_as_clock_text() {
        assert_eq!(duration_text(0.5), "12:00:00");
        assert_eq!(duration_text(1.25), "30:00:00");
        assert_eq!(duration_text(-0.5), "-12:00:00");
    }

    #[test]
    fn whole_numbers_read_as_integers_only_when_exact() {
        assert_eq!(number(3.0), Cell::Int(3));
        assert_eq!(number(-2.0), Cell::Int(-2));
        assert_eq!(number(2.5), Cell::Float(2.5));
        assert_eq!(number(1e300), Cell::Float(1e300));
    }

    #[test]
    fn gb18030_four_byte_sequences_are_found() {
        // "𠀀" (U+20000) in GB18030 is 95 32 82 36.
        assert!(has_four_byte_gb18030(b"a,\x95\x32\x82\x36"));
        // "中文" in GBK is D6 D0 CE C4.
        assert!(!has_four_byte_gb18030(b"a,\xd6\xd0\xce\xc4,1"));
    }
}
