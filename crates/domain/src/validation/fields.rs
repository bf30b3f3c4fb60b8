//! Checks of single fields, shared by every record kind.

use chrono::NaiveDate;

use super::error::{ErrorCode, Errors};
use crate::date::PartialDate;
use crate::rules::check_partial_date_order;

/// Longest name (Chinese, English or legal), in characters.
pub const MAX_NAME_LEN: usize = 200;
/// Longest short text (city, district, industry, field, address line), in characters.
pub const MAX_SHORT_TEXT_LEN: usize = 200;
/// Longest free text (staff notes, a designation's note), in characters.
pub const MAX_NOTE_LEN: usize = 4000;
/// Longest URL, in characters.
pub const MAX_URL_LEN: usize = 2048;
/// Longest e-mail address (RFC 5321's path limit), in characters.
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest phone number or other short code, in characters.
pub const MAX_CODE_LEN: usize = 40;

fn too_long(errors: &mut Errors, field: &str, len: usize, max: usize) {
    errors.push(field, ErrorCode::TooLong, format!("Shorten this to at most {max} characters (it has {len})."));
}

/// A required text: trimmed; blank is `REQUIRED`, longer than `max` is `TOO_LONG`.
pub(crate) fn required_text(errors: &mut Errors, field: &str, value: &str, max: usize) -> String {
    let value = value.trim();
    if value.is_empty() {
        errors.push(field, ErrorCode::Required, "Enter a value; it cannot be blank.");
    } else {
        let len = value.chars().count();
        if len > max {
            too_long(errors, field, len, max);
        }
    }
    value.to_string()
}

/// An optional text: trimmed, blank becomes none, longer than `max` is `TOO_LONG`.
pub(crate) fn optional_text(errors: &mut Errors, field: &str, value: Option<String>, max: usize) -> Option<String> {
    let value = value?;
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let len = value.chars().count();
    if len > max {
        too_long(errors, field, len, max);
    }
    Some(value.to_string())
}

/// Checks that `url` is an absolute `http` or `https` URL with a plausible host.
///
/// Checked by hand rather than with the `url` crate: the domain stores the URL as text and
/// never resolves it, so what matters is the scheme (no `javascript:`, `file:` or `data:`
/// links reach a portal), a host, no embedded credentials, and no whitespace or control
/// characters; pulling IDNA and Unicode tables into the pure domain crate would buy none
/// of that. International host names are accepted as typed.
pub fn check_http_url(url: &str) -> Result<(), &'static str> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("A URL cannot contain spaces or control characters.");
    }
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return Err("Enter a full web address starting with http:// or https://.");
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if authority.contains('@') {
        return Err("A URL cannot contain a user name or password.");
    }
    let port = if let Some(v6) = authority.strip_prefix('[') {
        let Some((inside, after)) = v6.split_once(']') else {
            return Err("The URL's IPv6 host is missing its closing bracket.");
        };
        if inside.is_empty() || !inside.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return Err("The URL's IPv6 host is not an IPv6 address.");
        }
        match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return Err("The URL's host is not followed by a port or a path."),
            },
        }
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let host = host.strip_suffix('.').unwrap_or(host);
        let host_ok = !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !host_ok {
            return Err("The URL has no valid host name.");
        }
        port
    };
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
        if !valid {
            return Err("The URL's port must be a number from 1 to 65535.");
        }
    }
    Ok(())
}

/// An optional http(s) URL: trimmed, blank becomes none.
pub(crate) fn optional_url(errors: &mut Errors, field: &str, value: Option<String>) -> Option<String> {
    let value = optional_text(errors, field, value, MAX_URL_LEN)?;
    if let Err(message) = check_http_url(&value) {
        errors.push(field, ErrorCode::InvalidFormat, message);
    }
    Some(value)
}

/// An optional e-mail address: one `@`, something before it, a dotted domain after it.
pub(crate) fn optional_email(errors: &mut Errors, field: &str, value: Option<String>) -> Option<String> {
    let value = optional_text(errors, field, value, MAX_EMAIL_LEN)?;
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && !value.chars().any(|c| c.is_whitespace() || c.is_control())
                && domain.split('.').count() >= 2
                && domain.split('.').all(|label| !label.is_empty())
        }
        None => false,
    };
    if !valid {
        errors.push(field, ErrorCode::InvalidFormat, "Enter an e-mail address such as name@example.cn.");
    }
    Some(value)
}

/// An optional phone number: digits with the usual separators, an optional leading `+`
/// and an optional extension, 5 to 20 digits in all.
pub(crate) fn optional_phone(errors: &mut Errors, field: &str, value: Option<String>) -> Option<String> {
    let value = optional_text(errors, field, value, MAX_CODE_LEN)?;
    let body = value.strip_prefix('+').unwrap_or(&value);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    let shape = body.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.' | '#'));
    if !shape || !(5..=20).contains(&digits) {
        errors.push(
            field,
            ErrorCode::InvalidFormat,
            "Enter a phone number of digits, with an optional leading + and spaces, dashes or brackets.",
        );
    }
    Some(value)
}

/// Latitude and longitude: both or neither, finite, within −90..90 and −180..180.
pub(crate) fn coordinates(errors: &mut Errors, latitude: Option<f64>, longitude: Option<f64>) {
    if let Some(lat) = latitude
        && !(lat.is_finite() && (-90.0..=90.0).contains(&lat))
    {
        errors.push(
            "latitude",
            ErrorCode::OutOfRange,
            format!("A latitude is between -90 and 90 degrees; {lat} is not."),
        );
    }
    if let Some(lon) = longitude
        && !(lon.is_finite() && (-180.0..=180.0).contains(&lon))
    {
        errors.push(
            "longitude",
            ErrorCode::OutOfRange,
            format!("A longitude is between -180 and 180 degrees; {lon} is not."),
        );
    }
    match (latitude, longitude) {
        (Some(_), None) => {
            errors.push("longitude", ErrorCode::Required, "Give the longitude too, or clear the latitude.")
        }
        (None, Some(_)) => {
            errors.push("latitude", ErrorCode::Required, "Give the latitude too, or clear the longitude.")
        }
        _ => {}
    }
}

/// An amount that cannot be negative (money, headcount, area).
pub(crate) fn non_negative<T>(errors: &mut Errors, field: &str, value: Option<T>)
where
    T: Copy + Into<i64>,
{
    if let Some(v) = value.map(Into::into)
        && v < 0
    {
        errors.push(field, ErrorCode::OutOfRange, format!("This cannot be negative; {v} is."));
    }
}

/// A measure that cannot be negative (an area): finite and at least zero.
pub(crate) fn non_negative_measure(errors: &mut Errors, field: &str, value: Option<f64>) {
    if let Some(v) = value
        && !(v.is_finite() && v >= 0.0)
    {
        errors.push(field, ErrorCode::OutOfRange, format!("This must be a number of zero or more; {v} is not."));
    }
}

/// A date that cannot be in the future: only a period that starts after `today` is
/// (so "2026" is fine on 2026-11-27).
pub(crate) fn not_in_future(errors: &mut Errors, field: &str, value: Option<PartialDate>, today: NaiveDate) {
    if let Some(date) = value
        && date.first_day() > today
    {
        errors.push(
            field,
            ErrorCode::DateOrder,
            format!("{date} is in the future; this date can only be today or earlier."),
        );
    }
}

/// `end` not before `start`, compared at their precisions; the error is on `end_field`.
pub(crate) fn date_order(
    errors: &mut Errors,
    start_field: &'static str,
    start: Option<PartialDate>,
    end_field: &'static str,
    end: Option<PartialDate>,
) {
    if let Err(e) = check_partial_date_order(start_field, start, end_field, end) {
        errors.push(
            end_field,
            ErrorCode::DateOrder,
            format!("{end_field} ({}) is before {start_field} ({}); correct one of them.", e.end, e.start),
        );
    }
}

/// The provenance every record carries: source name, source URL, as-of date.
pub(crate) fn provenance(
    errors: &mut Errors,
    source_name: Option<String>,
    source_url: Option<String>,
    as_of: Option<PartialDate>,
    today: NaiveDate,
) -> (Option<String>, Option<String>) {
    let source_name = optional_text(errors, "sourceName", source_name, MAX_NAME_LEN);
    let source_url = optional_url(errors, "sourceUrl", source_url);
    not_in_future(errors, "asOf", as_of, today);
    (source_name, source_url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::test_support::{codes, date, today};

    #[test]
    fn http_and_https_urls_with_a_host_are_accepted() {
        for url in [
            "https://www.wuhan.gov.cn/zwgk/2019/index.html",
            "HTTP://example.cn",
            "http://example.cn:8080/a?b=c#d",
            "https://光谷.中国/新闻",
            "http://[2001:db8::1]:443/",
            "https://example.cn./",
        ] {
            assert_eq!(check_http_url(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn other_schemes_credentials_spaces_and_missing_hosts_are_rejected() {
        for url in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "ftp://example.cn",
            "www.example.cn",
            "https://",
            "https:///path",
            "https://user:pw@example.cn/",
            "https://exa mple.cn",
            "https://example.cn/a b",
            "https://example..cn",
            "https://-example.cn",
            "https://example.cn:0",
            "https://example.cn:99999",
            "https://example.cn:http",
            "https://[::1",
            "https://[nothex]/",
        ] {
            assert!(check_http_url(url).is_err(), "{url}");
        }
    }

    #[test]
    fn names_are_trimmed_and_blank_or_long_names_are_rejected() {
        let mut errors = Errors::new();
        assert_eq!(required_text(&mut errors, "nameZh", "  光谷生物城 ", MAX_NAME_LEN), "光谷生物城");
        assert!(errors.is_empty());
        required_text(&mut errors, "nameZh", " \t ", MAX_NAME_LEN);
        required_text(&mut errors, "nameEn", &"x".repeat(MAX_NAME_LEN + 1), MAX_NAME_LEN);
        assert_eq!(optional_text(&mut errors, "city", Some("   ".into()), 10), None);
        let invalid = errors.finish(()).expect_err("two problems");
        assert_eq!(
            codes(&invalid),
            [("nameZh".to_string(), ErrorCode::Required), ("nameEn".to_string(), ErrorCode::TooLong)]
        );
    }

    #[test]
    fn length_caps_count_characters_not_bytes() {
        let mut errors = Errors::new();
        required_text(&mut errors, "nameZh", &"光".repeat(MAX_NAME_LEN), MAX_NAME_LEN);
        assert!(errors.is_empty());
    }

    #[test]
    fn coordinates_out_of_range_or_half_given_are_rejected() {
        let mut ok = Errors::new();
        coordinates(&mut ok, Some(30.5), Some(114.4));
        coordinates(&mut ok, Some(-90.0), Some(180.0));
        coordinates(&mut ok, None, None);
        assert!(ok.is_empty());
        let mut errors = Errors::new();
        coordinates(&mut errors, Some(90.5), Some(f64::NAN));
        coordinates(&mut errors, Some(30.0), None);
        let invalid = errors.finish(()).expect_err("problems");
        assert_eq!(
            codes(&invalid),
            [
                ("latitude".to_string(), ErrorCode::OutOfRange),
                ("longitude".to_string(), ErrorCode::OutOfRange),
                ("longitude".to_string(), ErrorCode::Required)
            ]
        );
    }

    #[test]
    fn e_mails_and_phone_numbers_are_checked_for_shape() {
        let mut ok = Errors::new();
        optional_email(&mut ok, "contactEmail", Some("zhang.san@optics-valley.cn".into()));
        optional_phone(&mut ok, "contactPhone", Some("+86 (27) 8751-0000".into()));
        assert!(ok.is_empty());
        let mut errors = Errors::new();
        optional_email(&mut errors, "contactEmail", Some("zhang.san@localhost".into()));
        optional_email(&mut errors, "contactEmail", Some("a@b@c.cn".into()));
        optional_phone(&mut errors, "contactPhone", Some("call me".into()));
        optional_phone(&mut errors, "contactPhone", Some("123".into()));
        assert_eq!(errors.finish(()).map_err(|e| e.errors().len()), Err(4));
    }

    #[test]
    fn a_date_is_in_the_future_only_when_its_whole_period_is() {
        let mut ok = Errors::new();
        not_in_future(&mut ok, "foundedOn", Some(date("2026")), today());
        not_in_future(&mut ok, "foundedOn", Some(date("2026-11")), today());
        not_in_future(&mut ok, "foundedOn", Some(date("2026-11-27")), today());
        assert!(ok.is_empty());
        let mut errors = Errors::new();
        not_in_future(&mut errors, "foundedOn", Some(date("2026-11-28")), today());
        not_in_future(&mut errors, "foundedOn", Some(date("2027")), today());
        assert_eq!(errors.finish(()).map_err(|e| e.errors().len()), Err(2));
    }

    #[test]
    fn negative_or_infinite_areas_are_rejected() {
        let mut errors = Errors::new();
        non_negative_measure(&mut errors, "areaKm2", Some(0.0));
        non_negative_measure(&mut errors, "areaKm2", Some(518.0));
        assert!(errors.is_empty());
        non_negative_measure(&mut errors, "areaKm2", Some(-0.5));
        non_negative_measure(&mut errors, "areaKm2", Some(f64::NAN));
        assert_eq!(errors.finish(()).map_err(|e| e.errors().len()), Err(2));
    }

    #[test]
    fn negative_amounts_are_rejected() {
        let mut errors = Errors::new();
        non_negative(&mut errors, "headcount", Some(0_i32));
        non_negative(&mut errors, "registeredCapitalCny", Some(-1_i64));
        let invalid = errors.finish(()).expect_err("one problem");
        assert_eq!(codes(&invalid), [("registeredCapitalCny".to_string(), ErrorCode::OutOfRange)]);
    }
}
