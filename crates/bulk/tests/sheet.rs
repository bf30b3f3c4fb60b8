//! Reading spreadsheets people hand in, and writing exports that read back the same.
//! No database: these are files in, cells out.

use std::path::PathBuf;

use chrono::NaiveDate;
use parkgraph_bulk::out::{self, Column, ColumnType, OutError, OutFormat};
use parkgraph_bulk::sheet::{self, Cell, Sheet, SheetError, SheetRow, SourceFormat};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn read_fixture(name: &str) -> Sheet {
    sheet::read(&fixture(name), Some(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn row(line: usize, cells: Vec<Cell>) -> SheetRow {
    SheetRow { line, cells }
}

/// A scratch file for one test, under cargo's temporary directory for integration tests.
fn scratch(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("parkgraph-bulk-{}-{name}", std::process::id()))
}

const FIRM_HEADERS: [&str; 5] = ["企业名称", "统一社会信用代码", "成立日期", "所在园区", "行业"];

fn firm_rows(first_name: &str) -> Vec<SheetRow> {
    vec![
        row(
            2,
            vec![text(first_name), text("91420100MA4KX8N35J"), text("2014-12-05"), text("光谷软件园"), text("互联网")],
        ),
        row(
            3,
            vec![
                text("长江存储科技有限责任公司"),
                text("91420100MA4KN8KU8Y"),
                text("2016-07-26"),
                text("武汉东湖新技术开发区"),
                text("半导体"),
            ],
        ),
        row(
            4,
            vec![
                text("小米科技（武汉）有限公司"),
                text("91420100MA4K2XYZ1A"),
                text("2018-06-01"),
                text("光谷软件园"),
                text("消费电子,物联网"),
            ],
        ),
    ]
}

fn assert_firms(sheet: &Sheet, encoding: &str, bom: bool, first_name: &str) {
    assert!(
        matches!(sheet.format, SourceFormat::Csv { encoding: e, bom: b } if e == encoding && b == bom),
        "{}",
        sheet.format
    );
    assert_eq!(sheet.headers, FIRM_HEADERS);
    assert_eq!(sheet.rows, firm_rows(first_name));
}

// ---------------------------------------------------------------------------------------------
// CSV in its encodings and shapes.

#[test]
fn utf8_csv_with_bom_and_crlf_reads_chinese_headers_and_rows() {
    let sheet = read_fixture("firms-utf8-bom.csv");
    assert_firms(&sheet, "UTF-8", true, "斗鱼网络科技有限公司");
}

#[test]
fn utf8_csv_without_bom_reads_the_same() {
    let sheet = read_fixture("firms-utf8.csv");
    assert_firms(&sheet, "UTF-8", false, "斗鱼网络科技有限公司");
}

#[test]
fn gbk_csv_as_excel_saves_it_on_chinese_windows_is_detected_and_decoded() {
    let sheet = read_fixture("firms-gbk.csv");
    assert_firms(&sheet, "GBK", false, "斗鱼网络科技有限公司");
}

#[test]
fn gb18030_csv_with_a_character_beyond_gbk_is_reported_as_gb18030() {
    let sheet = read_fixture("firms-gb18030.csv");
    assert_firms(&sheet, "GB18030", false, "𠮷祥网络科技有限公司");
}

#[test]
fn utf16_csv_with_bom_as_excel_saves_unicode_text_reads_tab_separated() {
    let body = "企业名称\t行业\r\n斗鱼网络科技有限公司\t互联网\r\n";
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(body.encode_utf16().flat_map(u16::to_le_bytes));
    let sheet = sheet::read(&bytes, Some("firms.txt")).expect("UTF-16 text reads");
    assert_eq!(sheet.format, SourceFormat::Csv { encoding: "UTF-16LE", bom: true });
    assert_eq!(sheet.headers, ["企业名称", "行业"]);
    assert_eq!(sheet.rows, [row(2, vec![text("斗鱼网络科技有限公司"), text("互联网")])]);
}

#[test]
fn semicolon_separated_csv_is_recognised_by_its_header_line() {
    let sheet = read_fixture("firms-semicolon.csv");
    assert_eq!(sheet.headers, ["企业名称", "成立日期", "员工人数", "简介"]);
    assert_eq!(
        sheet.rows,
        [
            row(2, vec![text("斗鱼网络科技有限公司"), text("2014-12-05"), text("1200"), text("直播平台; 游戏"),],),
            row(3, vec![text("长江存储科技有限责任公司"), text("2016-07-26"), text("8000"), text("存储芯片"),],),
        ]
    );
}

#[test]
fn tab_separated_text_is_recognised_by_its_header_line() {
    let sheet =
        sheet::read("名称\t行业,领域\t备注\n斗鱼\t互联网,游戏\t\n".as_bytes(), None).expect("tab-separated text reads");
    assert_eq!(sheet.headers, ["名称", "行业,领域", "备注"]);
    assert_eq!(sheet.rows, [row(2, vec![text("斗鱼"), text("互联网,游戏"), Cell::Empty])]);
}

#[test]
fn multiline_cells_and_empty_rows_keep_the_row_numbers_excel_shows() {
    // Excel shows: 1 header, 2 斗鱼 (a cell of three lines), 3 blank, 4 ",,", 5 长江存储,
    // 6 white space only, 7 第三家.
    let sheet = read_fixture("multiline.csv");
    assert_eq!(sheet.headers, ["企业名称", "简介", "行业"]);
    assert_eq!(
        sheet.rows,
        [
            row(
                2,
                vec![
                    text("斗鱼网络科技有限公司"),
                    text("直播平台\r\n总部在武汉光谷\r\n第二行 \"引号\""),
                    text("互联网"),
                ],
            ),
            row(5, vec![text("长江存储科技有限责任公司"), text("存储芯片"), text("半导体"),],),
            row(7, vec![text("第三家"), Cell::Empty, Cell::Empty]),
        ]
    );
}

#[test]
fn blank_lines_before_the_header_count_and_cells_are_kept_untrimmed() {
    let sheet = sheet::read("\n\n\u{3000}企业名称 ,\u{feff}行业\t,,\n 斗鱼 ,互联网\n\n\n第二家\n".as_bytes(), None)
        .expect("reads");
    // Headers are trimmed (including U+3000 and a stray BOM) and trailing empty ones dropped.
    assert_eq!(sheet.headers, ["企业名称", "行业"]);
    assert_eq!(sheet.rows, [row(4, vec![text(" 斗鱼 "), text("互联网")]), row(7, vec![text("第二家")]),]);
    assert_eq!(sheet.rows[1].get(1), &Cell::Empty);
    assert_eq!(sheet.rows[0].get(0).as_text().as_deref(), Some("斗鱼"), "as_text trims");
}

#[test]
fn classic_mac_line_ends_count_rows_too() {
    let sheet = sheet::read(b"a,b\rc,d\r\re,f", None).expect("reads");
    assert_eq!(sheet.rows, [row(2, vec![text("c"), text("d")]), row(4, vec![text("e"), text("f")]),]);
}

#[test]
fn a_header_that_starts_like_a_file_signature_is_still_a_csv() {
    let sheet = sheet::read("MZ编号,BZh等级\nMZ-001,A\n".as_bytes(), Some("firms.csv")).expect("reads");
    assert_eq!(sheet.headers, ["MZ编号", "BZh等级"]);
    assert_eq!(sheet.rows, [row(2, vec![text("MZ-001"), text("A")])]);
}

#[test]
fn a_file_with_only_empty_rows_has_no_header() {
    assert_eq!(sheet::read(b",,\r\n\r\n  \r\n", None), Err(SheetError::NoHeader));
}

#[test]
fn cell_text_is_what_a_person_reads() {
    assert_eq!(Cell::Empty.as_text(), None);
    assert_eq!(text("\u{3000} \t").as_text(), None);
    assert!(text("  ").is_empty());
    assert!(!Cell::Int(0).is_empty());
    assert_eq!(Cell::Int(1200).as_text().as_deref(), Some("1200"));
    assert_eq!(Cell::Float(3.0).as_text().as_deref(), Some("3"));
    assert_eq!(Cell::Float(12345.67).as_text().as_deref(), Some("12345.67"));
    assert_eq!(Cell::Bool(true).as_text().as_deref(), Some("TRUE"));
    assert_eq!(Cell::Date(date(2014, 12, 5)).as_text().as_deref(), Some("2014-12-05"));
    let at = date(2026, 11, 27).and_hms_opt(9, 30, 0).expect("a valid time");
    assert_eq!(Cell::DateTime(at).as_text().as_deref(), Some("2026-11-27 09:30:00"));
}

// ---------------------------------------------------------------------------------------------
// Workbooks.

/// Writes `firms.xlsx` with rust_xlsxwriter directly (not through `out`, so reading is
/// tested against a workbook this crate did not write). Run with `--ignored` to regenerate.
#[test]
#[ignore = "regenerates the checked-in fixture"]
fn write_xlsx_fixture() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut workbook = Workbook::new();
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    let datetime_format = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let sheet = workbook.add_worksheet();
    sheet.set_name("企业名单").expect("name");
    let headers = [
        "企业名称",
        "统一社会信用代码",
        "成立日期",
        "\u{3000}所在园区 ",
        "员工人数",
        "注册资本（万元）",
        "高新技术企业",
        "更新时间",
        "备注",
    ];
    for (col, header) in (0u16..).zip(headers) {
        sheet.write_string(0, col, header).expect("header");
    }
    let founded = |y, m, d| ExcelDateTime::from_ymd(y, m, d).expect("date");
    sheet.write_string(1, 0, "斗鱼网络科技有限公司").expect("cell");
    sheet.write_string(1, 1, "91420100MA4KX8N35J").expect("cell");
    sheet.write_datetime_with_format(1, 2, founded(2014, 12, 5), &date_format).expect("cell");
    sheet.write_string(1, 3, "光谷软件园").expect("cell");
    sheet.write_number(1, 4, 1200).expect("cell");
    sheet.write_number(1, 5, 12345.67).expect("cell");
    sheet.write_boolean(1, 6, true).expect("cell");
    let updated = founded(2026, 11, 27).and_hms(9, 30, 0).expect("time");
    sheet.write_datetime_with_format(1, 7, updated, &datetime_format).expect("cell");
    // Row 3 is left empty.
    sheet.write_string(3, 0, "长江存储科技有限责任公司").expect("cell");
    sheet.write_string(3, 1, "91420100MA4KN8KU8Y").expect("cell");
    sheet.write_datetime_with_format(3, 2, founded(2016, 7, 26), &date_format).expect("cell");
    sheet.write_string(3, 3, " 武汉东湖新技术开发区 ").expect("cell");
    sheet.write_number(3, 4, 8000).expect("cell");
    sheet.write_number(3, 5, 2_000_000).expect("cell");
    sheet.write_boolean(3, 6, false).expect("cell");
    sheet.write_string(3, 8, "2018-06-01").expect("cell");
    sheet.write_string(4, 0, "第三家").expect("cell");
    let notes = workbook.add_worksheet();
    notes.set_name("说明").expect("name");
    notes.write_string(0, 0, "不读这一页").expect("cell");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/firms.xlsx");
    workbook.save(&path).expect("saved");
}

#[test]
fn xlsx_cells_keep_their_types_dates_numbers_text_and_booleans() {
    let sheet = read_fixture("firms.xlsx");
    assert_eq!(sheet.format, SourceFormat::Xlsx { sheet: "企业名单".to_owned() });
    assert_eq!(
        sheet.headers,
        [
            "企业名称",
            "统一社会信用代码",
            "成立日期",
            "所在园区",
            "员工人数",
            "注册资本（万元）",
            "高新技术企业",
            "更新时间",
            "备注",
        ]
    );
    let updated = date(2026, 11, 27).and_hms_opt(9, 30, 0).expect("a valid time");
    assert_eq!(
        sheet.rows,
        [
            row(
                2,
                vec![
                    text("斗鱼网络科技有限公司"),
                    text("91420100MA4KX8N35J"),
                    Cell::Date(date(2014, 12, 5)),
                    text("光谷软件园"),
                    Cell::Int(1200),
                    Cell::Float(12345.67),
                    Cell::Bool(true),
                    Cell::DateTime(updated),
                ],
            ),
            row(
                4,
                vec![
                    text("长江存储科技有限责任公司"),
                    text("91420100MA4KN8KU8Y"),
                    Cell::Date(date(2016, 7, 26)),
                    text(" 武汉东湖新技术开发区 "),
                    Cell::Int(8000),
                    Cell::Int(2_000_000),
                    Cell::Bool(false),
                    Cell::Empty,
                    text("2018-06-01"),
                ],
            ),
            // An XLSX row ends at its last value.
            row(5, vec![text("第三家")]),
        ]
    );
}

#[test]
fn a_stray_value_in_the_last_cell_of_a_worksheet_costs_one_row_not_the_whole_grid() {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "企业名称").expect("cell");
    sheet.write_string(1, 0, "斗鱼网络科技有限公司").expect("cell");
    sheet.write_string(1_048_575, 16_383, "x").expect("cell");
    let bytes = workbook.save_to_buffer().expect("saved");
    let read = sheet::read(&bytes, None).expect("reads");
    assert_eq!(read.rows.len(), 2);
    assert_eq!(read.rows[0].cells, [text("斗鱼网络科技有限公司")]);
    let last = &read.rows[1];
    assert_eq!(last.line, 1_048_576);
    assert_eq!(last.cells.len(), 16_384);
    assert_eq!(last.get(16_383), &text("x"));
}

#[test]
fn a_workbook_spread_over_too_many_cells_is_refused() {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    // Column A holds the header; each row's value in the last column spreads it over the
    // whole width.
    sheet.write_string(0, 0, "企业名称").expect("cell");
    let rows = u32::try_from(sheet::MAX_CELLS / 16_384 + 1).expect("fits");
    for row in 1..=rows {
        sheet.write_number(row, 16_383, f64::from(row)).expect("cell");
    }
    let bytes = workbook.save_to_buffer().expect("saved");
    let result = sheet::read(&bytes, None);
    assert!(
        matches!(result, Err(SheetError::TooLarge { max }) if max == sheet::MAX_CELLS),
        "{:?}",
        result.map(|sheet| sheet.rows.len())
    );
}

#[test]
fn xlsx_is_recognised_by_content_whatever_its_name() {
    let sheet = sheet::read(&fixture("firms.xlsx"), Some("firms.csv")).expect("reads");
    assert!(matches!(sheet.format, SourceFormat::Xlsx { .. }));
    assert_eq!(sheet.rows.len(), 3);
}

#[test]
fn old_xls_workbook_reads_with_typed_cells() {
    let sheet = read_fixture("firms-old.xls");
    assert_eq!(sheet.format, SourceFormat::Xls { sheet: "企业".to_owned() });
    assert_eq!(sheet.headers, ["企业名称", "统一社会信用代码", "成立日期", "员工人数"]);
    assert_eq!(
        sheet.rows,
        [
            row(
                2,
                vec![
                    text("斗鱼网络科技有限公司"),
                    text("91420100MA4KX8N35J"),
                    Cell::Date(date(2014, 12, 5)),
                    Cell::Int(1200),
                ],
            ),
            row(
                3,
                vec![
                    text("长江存储科技有限责任公司"),
                    text("91420100MA4KN8KU8Y"),
                    Cell::Date(date(2016, 7, 26)),
                    Cell::Float(8000.5),
                ],
            ),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Files that are not spreadsheets: one clear error each.

fn reason(bytes: &[u8], name: Option<&str>) -> String {
    match sheet::read(bytes, name) {
        Err(SheetError::NotASpreadsheet { reason }) => reason,
        other => panic!("expected NotASpreadsheet for {name:?}, got {other:?}"),
    }
}

#[test]
fn a_png_is_named_as_an_image() {
    assert_eq!(
        reason(&fixture("logo.png"), Some("logo.png")),
        "this file is a PNG image, not a CSV or XLSX spreadsheet"
    );
}

#[test]
fn a_pdf_is_named_as_a_pdf_even_when_called_csv() {
    assert_eq!(
        reason(&fixture("report.pdf"), Some("firms.csv")),
        "this file is a PDF document, not a CSV or XLSX spreadsheet"
    );
}

#[test]
fn an_empty_file_is_named_empty() {
    assert_eq!(reason(b"", Some("firms.csv")), "this file is empty");
}

#[test]
fn binary_garbage_is_named_binary() {
    let garbage: Vec<u8> = (0u32..4096).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let reason = reason(&garbage, Some("firms.csv"));
    assert!(reason.contains("contains binary data") && reason.contains("\"firms.csv\""), "{reason}");
}

#[test]
fn a_zip_that_is_not_a_workbook_is_named_a_zip() {
    let mut bytes = fixture("firms.xlsx");
    // Rename every xl/workbook.xml entry: still a zip, no longer a workbook.
    let (from, to) = (b"xl/workbook.xml", b"xl/workbooq.xml");
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + to.len()].copy_from_slice(to);
        }
        i += 1;
    }
    assert_eq!(reason(&bytes, Some("firms.xlsx")), "this file is a zip archive, not a CSV or XLSX spreadsheet");
}

#[test]
fn an_ordinary_zip_is_named_a_zip() {
    assert_eq!(
        reason(&fixture("photos.zip"), Some("firms.xlsx")),
        "this file is a zip archive, not a CSV or XLSX spreadsheet"
    );
}

#[test]
fn a_truncated_xlsx_is_reported_damaged() {
    let bytes = fixture("firms.xlsx");
    let error = sheet::read(&bytes[..bytes.len() / 2], Some("firms.xlsx")).expect_err("damaged");
    assert!(matches!(error, SheetError::Damaged { format: "XLSX", .. }), "{error:?}");
    assert!(error.to_string().contains("save it again"), "{error}");
}

#[test]
fn an_html_page_named_xls_is_named_a_web_page() {
    let reason =
        reason(b"<!DOCTYPE html>\n<html><body><table><tr><td>1</td></tr></table></body></html>", Some("export.xls"));
    assert!(reason.contains("web page (HTML)"), "{reason}");
}

#[test]
fn an_excel_2003_xml_spreadsheet_is_named_with_advice() {
    let reason = reason(
        b"<?xml version=\"1.0\"?>\n<Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\"></Workbook>",
        Some("firms.xml"),
    );
    assert_eq!(reason, "this file is an Excel 2003 XML spreadsheet; open it in Excel and save it as .xlsx or CSV");
}

#[test]
fn an_old_office_file_that_is_not_a_workbook_is_one_clear_error() {
    // The OLE signature followed by nothing a workbook needs.
    let mut bytes = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1".to_vec();
    bytes.resize(1024, 0);
    let error = sheet::read(&bytes, Some("memo.doc")).expect_err("not a workbook");
    assert_eq!(error.to_string(), "this file is a Word 97–2003 document (.doc), not a CSV or XLSX spreadsheet");
    let error = sheet::read(&bytes, Some("firms.xls")).expect_err("damaged");
    assert!(matches!(error, SheetError::Damaged { format: "XLS", .. }), "{error:?}");
}

#[test]
fn a_gbk_file_cut_in_the_middle_of_a_character_is_an_encoding_error_not_mojibake() {
    let mut bytes = fixture("firms-gbk.csv");
    // "企" in GBK is C6 F3: end the file after its first byte.
    bytes.push(0xc6);
    let error = sheet::read(&bytes, Some("firms.csv")).expect_err("invalid GBK");
    assert_eq!(error, SheetError::Encoding { encoding: "GBK", offset: bytes.len() - 1 });
    assert_eq!(
        error.to_string(),
        format!(
            "this CSV file is not valid GBK text (byte {} cannot be decoded); save it again as \"CSV UTF-8\"",
            bytes.len() - 1
        )
    );
}

#[test]
fn a_short_gbk_file_with_one_chinese_character_is_still_gbk() {
    // "中" in GBK is D6 D0.
    let sheet = sheet::read(b"a,b\n\xd6\xd0,1\n", None).expect("reads");
    assert!(matches!(sheet.format, SourceFormat::Csv { encoding: "GBK", bom: false }), "{}", sheet.format);
    assert_eq!(sheet.rows, [row(2, vec![text("中"), text("1")])]);
}

// ---------------------------------------------------------------------------------------------
// Writing, and reading back what was written.

fn columns() -> Vec<Column> {
    vec![
        Column { header: "企业名称", ty: ColumnType::Text },
        Column { header: "成立日期", ty: ColumnType::Date },
        Column { header: "员工人数", ty: ColumnType::Int },
        Column { header: "注册资本（万元）", ty: ColumnType::Float },
        Column { header: "简介", ty: ColumnType::Text },
    ]
}

const KEYS: [&str; 5] = ["name", "founded", "employees", "capital", "summary"];

fn export_rows() -> Vec<Vec<Cell>> {
    vec![
        vec![
            text("斗鱼网络科技有限公司"),
            Cell::Date(date(2014, 12, 5)),
            Cell::Int(1200),
            Cell::Float(12345.67),
            text("直播平台,\"弹幕\"\n总部在光谷"),
        ],
        vec![
            text("长江存储科技有限责任公司"),
            Cell::Date(date(2016, 7, 26)),
            Cell::Int(-8000),
            Cell::Float(0.125),
            text("=1+1 stays text"),
        ],
        vec![text("第三家"), Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty],
    ]
}

fn export(format: OutFormat, name: &str) -> Vec<u8> {
    let path = scratch(name);
    let file = std::fs::File::create(&path).expect("scratch file");
    let mut writer = out::writer(format, columns(), KEYS.to_vec(), Box::new(file)).expect("writer");
    for cells in export_rows() {
        writer.row(&cells).expect("row written");
    }
    writer.finish().expect("finished");
    let bytes = std::fs::read(&path).expect("written");
    let _ = std::fs::remove_file(&path);
    bytes
}

#[test]
fn xlsx_export_reads_back_with_the_same_typed_cells() {
    let bytes = export(OutFormat::Xlsx, "round-trip.xlsx");
    let sheet = sheet::read(&bytes, Some("export.xlsx")).expect("reads back");
    assert!(matches!(sheet.format, SourceFormat::Xlsx { .. }));
    assert_eq!(sheet.headers, ["企业名称", "成立日期", "员工人数", "注册资本（万元）", "简介"]);
    let read_back: Vec<(usize, Vec<Cell>)> =
        sheet.rows.iter().map(|row| (row.line, (0..KEYS.len()).map(|i| row.get(i).clone()).collect())).collect();
    let written: Vec<(usize, Vec<Cell>)> = (2..).zip(export_rows()).collect();
    assert_eq!(read_back, written);
}

#[test]
fn csv_export_is_bom_crlf_and_reads_back_as_the_same_text() {
    let bytes = export(OutFormat::Csv, "round-trip.csv");
    assert!(bytes.starts_with(b"\xef\xbb\xbf\xe4\xbc\x81"), "BOM then 企");
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    assert!(text.starts_with("企业名称,成立日期,员工人数,注册资本（万元）,简介\r\n"));
    assert!(text.contains("2014-12-05,1200,12345.67,"), "{text}");
    let sheet = sheet::read(&bytes, Some("export.csv")).expect("reads back");
    assert_eq!(sheet.format, SourceFormat::Csv { encoding: "UTF-8", bom: true });
    let read_back: Vec<Vec<Option<String>>> = sheet
        .rows
        .iter()
        .map(|row| (0..KEYS.len()).map(|i| row.get(i).as_text().map(|t| t.into_owned())).collect())
        .collect();
    let written: Vec<Vec<Option<String>>> = export_rows()
        .iter()
        .map(|cells| cells.iter().map(|cell| cell.as_text().map(|t| t.into_owned())).collect())
        .collect();
    assert_eq!(read_back, written);
    // The multiline cell keeps the export's row numbers true: the second firm is Excel row 3.
    assert_eq!(sheet.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3, 4]);
}

#[test]
fn ndjson_export_has_typed_values_under_english_keys_in_column_order() {
    let bytes = export(OutFormat::Ndjson, "round-trip.ndjson");
    let text = String::from_utf8(bytes).expect("UTF-8");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0],
        "{\"name\":\"斗鱼网络科技有限公司\",\"founded\":\"2014-12-05\",\"employees\":1200,\"capital\":12345.67,\"summary\":\"直播平台,\\\"弹幕\\\"\\n总部在光谷\"}\n"
    );
    assert_eq!(
        lines[2],
        "{\"name\":\"第三家\",\"founded\":null,\"employees\":null,\"capital\":null,\"summary\":null}\n"
    );
    let second: serde_json::Value = serde_json::from_str(lines[1]).expect("JSON");
    assert_eq!(second["employees"], serde_json::json!(-8000));
    assert_eq!(second["capital"], serde_json::json!(0.125));
}

#[test]
fn a_row_wider_than_the_columns_is_refused() {
    let mut writer = out::writer(OutFormat::Csv, columns(), KEYS.to_vec(), Box::new(std::io::sink())).expect("writer");
    let error = writer.row(&vec![Cell::Int(1); 6]).expect_err("too wide");
    assert!(matches!(error, OutError::RowTooLong { cells: 6, columns: 5 }));
}

#[test]
fn ndjson_keys_must_match_the_columns() {
    let error =
        out::writer(OutFormat::Ndjson, columns(), vec!["name"], Box::new(std::io::sink())).err().expect("keys refused");
    assert_eq!(error.to_string(), "the export has 5 columns but 1 NDJSON keys");
}

#[test]
fn export_format_names_parse_and_unknown_ones_are_named() {
    assert_eq!("csv".parse(), Ok(OutFormat::Csv));
    assert_eq!(" XLSX ".parse(), Ok(OutFormat::Xlsx));
    assert_eq!("ndjson".parse(), Ok(OutFormat::Ndjson));
    let error = "xls".parse::<OutFormat>().expect_err("unknown");
    assert_eq!(error.to_string(), "unknown export format \"xls\": expected csv, xlsx or ndjson");
}

#[test]
fn error_report_opens_as_a_bilingual_bom_csv_beside_the_input() {
    let input = scratch("企业名单.xlsx");
    let path = out::error_report_path(&input);
    assert_eq!(
        path.file_name().and_then(|n| n.to_str()),
        Some(format!("parkgraph-bulk-{}-企业名单.errors.csv", std::process::id()).as_str())
    );
    let problems = vec![
        (
            3,
            "统一社会信用代码".to_owned(),
            "91420100MA4KX8N35".to_owned(),
            "统一社会信用代码应为18位 / a USCC has 18 characters".to_owned(),
        ),
        (7, "所在园区".to_owned(), "不存在的园区, \"新\"".to_owned(), "unknown park".to_owned()),
    ];
    let written = out::error_report_csv(&path, problems.clone().into_iter()).expect("written");
    assert_eq!(written, 2);
    let bytes = std::fs::read(&path).expect("report");
    let _ = std::fs::remove_file(&path);
    assert!(bytes.starts_with(b"\xef\xbb\xbf"));
    assert!(
        std::str::from_utf8(&bytes[3..]).expect("UTF-8").starts_with("行号 row,列 column,值 value,原因 reason\r\n")
    );
    let sheet = sheet::read(&bytes, None).expect("reads back");
    assert_eq!(sheet.headers, out::ERROR_REPORT_HEADERS);
    let rows: Vec<Vec<Cell>> = sheet.rows.into_iter().map(|r| r.cells).collect();
    let expected: Vec<Vec<Cell>> = problems
        .into_iter()
        .map(|(line, column, value, reason)| vec![text(&line.to_string()), text(&column), text(&value), text(&reason)])
        .collect();
    assert_eq!(rows, expected);
}

// ---------------------------------------------------------------------------------------------
// No input makes the reader panic.

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = sheet::read(&bytes, Some("random.csv"));
        }

        #[test]
        fn on_random_bytes_behind_a_zip_or_ole_signature(
            ole in any::<bool>(),
            tail in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let mut bytes = if ole {
                b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1".to_vec()
            } else {
                b"PK\x03\x04".to_vec()
            };
            bytes.extend(tail);
            let _ = sheet::read(&bytes, Some("random.xlsx"));
        }

        #[test]
        fn on_random_text(text in "\\PC{0,400}") {
            let _ = sheet::read(text.as_bytes(), None);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn on_a_workbook_with_corrupted_bytes(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut bytes = fixture("firms.xlsx");
            for (at, value) in flips {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            if truncate {
                bytes.truncate(cut.index(bytes.len()));
            }
            let _ = sheet::read(&bytes, Some("firms.xlsx"));
        }
    }
}
