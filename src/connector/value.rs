//! Parsing of single export values: amounts with units, dates in the shapes Chinese exports use,
//! booleans. Pure functions, shared by every format through [`super::convert`].

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// A value as it arrives from a file, before conversion to the canonical type.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    /// No value (empty text, empty Excel cell, JSON null or missing key).
    Empty,
    /// Text (CSV fields, Excel strings, JSON strings, Parquet values rendered as text).
    Text(&'a str),
    /// A floating-point number (Excel numeric cells, JSON numbers with a fraction or exponent).
    Number(f64),
    /// An integer (Excel integer cells, JSON integers).
    Int(i64),
    /// A boolean (Excel, JSON).
    Bool(bool),
    /// An Excel date cell: the serial number (days since 1899-12-30, with the 1900 leap bug).
    ExcelDate(f64),
}

impl Cell<'_> {
    /// The value as the user would see it in the export (for quarantine and flag records).
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => (*s).to_string(),
            Cell::Number(v) | Cell::ExcelDate(v) => format!("{v}"),
            Cell::Int(v) => v.to_string(),
            Cell::Bool(b) => b.to_string(),
        }
    }
}

/// Multiplier from a money unit to 元, as (numerator, denominator).
pub fn money_unit(unit: &str) -> Option<(i128, i128)> {
    Some(match unit {
        "元" | "yuan" => (1, 1),
        "分" | "fen" => (1, 100),
        "角" => (1, 10),
        "十元" => (10, 1),
        "百元" => (100, 1),
        "千元" => (1_000, 1),
        "万元" | "wan" => (10_000, 1),
        "百万元" => (1_000_000, 1),
        "亿元" => (100_000_000, 1),
        _ => return None,
    })
}

/// Multiplier from an area unit to square metres.
pub fn area_unit(unit: &str) -> Option<f64> {
    Some(match unit {
        "平方米" | "m2" | "㎡" => 1.0,
        "亩" | "mu" => 10_000.0 / 15.0,
        "公顷" | "ha" | "hectare" => 10_000.0,
        "平方公里" | "km2" => 1_000_000.0,
        _ => return None,
    })
}

/// The most decimal places a parsed number may have: 10^38 is the largest power of ten an
/// i128 holds.
pub const MAX_SCALE: u32 = 38;

/// The unit a header names in brackets at its end (`金额(万元)`, `面积（亩）`), if it is a money
/// or area unit searchlight knows.
pub fn unit_in_header(header: &str) -> Option<&'static str> {
    const UNITS: &[&str] =
        &["元", "分", "角", "十元", "百元", "千元", "万元", "百万元", "亿元", "平方米", "㎡", "亩", "公顷", "平方公里"];
    let h = header.trim().trim_end_matches([')', '）']);
    if h.len() == header.trim().len() {
        return None;
    }
    let open = h.rfind(['(', '（'])?;
    let inner = h[open..].trim_start_matches(['(', '（']).trim();
    UNITS.iter().find(|u| **u == inner).copied()
}

/// Parses a decimal amount written in text into (digits, scale): `-1,234.5` → (-12345, 1).
/// Accepts thousands separators, a leading currency sign and a trailing 元.
pub fn parse_decimal(s: &str) -> Option<(i128, u32)> {
    let s = s.trim();
    let s = s.trim_start_matches(['¥', '￥']).trim_end_matches('元').trim();
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (body, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].trim_start_matches('+').parse::<i32>().ok()?),
        None => (body, 0),
    };
    // an i128 holds 38 digits: an exponent beyond that is no amount (and `1E-128` would
    // overflow every power of ten taken of its scale)
    if exp.unsigned_abs() > MAX_SCALE {
        return None;
    }
    let mut digits: i128 = 0;
    let mut scale: i32 = 0;
    let mut seen_point = false;
    let mut seen_digit = false;
    for b in body.bytes() {
        match b {
            b'0'..=b'9' => {
                digits = digits.checked_mul(10)?.checked_add((b - b'0') as i128)?;
                if seen_point {
                    scale += 1;
                }
                seen_digit = true;
            }
            b'.' if !seen_point => seen_point = true,
            b',' if !seen_point => {}
            _ => return None,
        }
    }
    if !seen_digit {
        return None;
    }
    scale -= exp;
    if scale > MAX_SCALE as i32 {
        return None;
    }
    while scale < 0 {
        digits = digits.checked_mul(10)?;
        scale += 1;
    }
    Some((if neg { -digits } else { digits }, scale as u32))
}

/// Converts (digits, scale) in `unit` to cents (元 × 100), rounding half away from zero.
pub fn to_cents(digits: i128, scale: u32, (num, den): (i128, i128)) -> Option<i128> {
    let numer = digits.checked_mul(num)?.checked_mul(100)?;
    let denom = 10i128.checked_pow(scale)?.checked_mul(den)?;
    let q = numer / denom;
    let r = numer % denom;
    Some(if r.abs() * 2 >= denom { q + numer.signum() } else { q })
}

/// Parses a plain number (thousands separators allowed).
pub fn parse_f64(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.contains(',') { s.replace(',', "").parse().ok() } else { s.parse().ok() }
}

/// Parses an integer; `12.0` is accepted, `12.5` is not.
pub fn parse_i64(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(v) = s.parse::<i64>() {
        return Some(v);
    }
    let (digits, scale) = parse_decimal(s)?;
    let p = 10i128.pow(scale);
    (digits % p == 0).then(|| i64::try_from(digits / p).ok()).flatten()
}

/// Parses 是/否 and friends.
pub fn parse_bool(s: &str) -> Option<bool> {
    Some(match s.trim() {
        "是" | "有" | "Y" | "y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "1" | "√" | "T" => true,
        "否" | "无" | "N" | "n" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "0" | "×" | "F" => false,
        _ => return None,
    })
}

/// Excel serial day number to a date-time (1900 date system, with its fictitious 1900-02-29).
pub fn excel_serial(serial: f64) -> Option<NaiveDateTime> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.trunc() as i64;
    let base = if days < 60 { NaiveDate::from_ymd_opt(1899, 12, 31)? } else { NaiveDate::from_ymd_opt(1899, 12, 30)? };
    let date = base.checked_add_days(chrono::Days::new(days as u64))?;
    let secs = ((serial.fract() * 86_400.0).round() as u32).min(86_399);
    Some(date.and_time(NaiveTime::from_num_seconds_from_midnight_opt(secs, 0)?))
}

/// Up to six numeric groups of a date or date-time written with any separators
/// (`2024-03-05`, `2024/3/5 8:30`, `2024年3月5日`, `2024.03.05`).
fn groups(s: &str) -> Option<([u32; 6], usize, [usize; 6])> {
    let mut vals = [0u32; 6];
    let mut lens = [0usize; 6];
    let mut n = 0;
    let mut in_num = false;
    for b in s.bytes() {
        if b.is_ascii_digit() {
            if !in_num {
                if n == 6 {
                    return None;
                }
                n += 1;
                in_num = true;
            }
            let v = &mut vals[n - 1];
            *v = v.checked_mul(10)?.checked_add((b - b'0') as u32)?;
            lens[n - 1] += 1;
        } else {
            in_num = false;
        }
    }
    Some((vals, n, lens))
}

fn is_serial(s: &str) -> Option<f64> {
    let int_len = s.split('.').next()?.len();
    if int_len == 5 && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') { s.parse().ok() } else { None }
}

/// The `formats` word that reads five-digit text as an Excel serial day number. Without it a
/// serial is accepted only from a numeric Excel cell: a typo such as `20243` in a text export is
/// not silently the date 1955-06-04.
pub const EXCEL_SERIAL: &str = "excel_serial";

fn serials_allowed(formats: &[String]) -> bool {
    formats.iter().any(|f| f == EXCEL_SERIAL)
}

/// Parses a date. Built-in shapes: `YYYY-M-D` with `-` `/` `.` or 年月日 separators (an
/// optional time after it is ignored) and `YYYYMMDD`; Excel serial numbers written as text
/// (five digits: 1927-05-18 to 2173-10-14) only with `formats = ["excel_serial"]`.
pub fn parse_date(s: &str, formats: &[String]) -> Option<NaiveDate> {
    let s = s.trim();
    for f in formats.iter().filter(|f| *f != EXCEL_SERIAL) {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return Some(d);
        }
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, f) {
            return Some(dt.date());
        }
    }
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        let v: u32 = s.parse().ok()?;
        return NaiveDate::from_ymd_opt((v / 10_000) as i32, v / 100 % 100, v % 100);
    }
    if let Some(serial) = is_serial(s).filter(|_| serials_allowed(formats)) {
        return excel_serial(serial).map(|d| d.date());
    }
    let (g, n, lens) = groups(s)?;
    if n >= 3 && lens[0] == 4 && lens[1] <= 2 && lens[2] <= 2 {
        return NaiveDate::from_ymd_opt(g[0] as i32, g[1], g[2]);
    }
    None
}

/// Parses a month into its first day: `202403`, `2024-03`, `2024年3月`, or any full date.
pub fn parse_month(s: &str, formats: &[String]) -> Option<NaiveDate> {
    let t = s.trim();
    if t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit()) {
        let v: u32 = t.parse().ok()?;
        return NaiveDate::from_ymd_opt((v / 100) as i32, v % 100, 1);
    }
    if let Some(d) = parse_date(t, formats) {
        return NaiveDate::from_ymd_opt(chrono::Datelike::year(&d), chrono::Datelike::month(&d), 1);
    }
    let (g, n, lens) = groups(t)?;
    if n == 2 && lens[0] == 4 && lens[1] <= 2 {
        return NaiveDate::from_ymd_opt(g[0] as i32, g[1], 1);
    }
    None
}

/// Parses a date-time: a date (as [`parse_date`]) optionally followed by `H:M[:S]`.
pub fn parse_timestamp(s: &str, formats: &[String]) -> Option<NaiveDateTime> {
    let s = s.trim();
    for f in formats.iter().filter(|f| *f != EXCEL_SERIAL) {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, f) {
            return Some(dt);
        }
    }
    if let Some(serial) = is_serial(s).filter(|_| serials_allowed(formats)) {
        return excel_serial(serial);
    }
    if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S").ok();
    }
    let (g, n, lens) = groups(s)?;
    if n >= 3 && lens[0] == 4 {
        let date = NaiveDate::from_ymd_opt(g[0] as i32, g[1], g[2])?;
        let time = match n {
            3 => NaiveTime::MIN,
            5 => NaiveTime::from_hms_opt(g[3], g[4], 0)?,
            _ => NaiveTime::from_hms_opt(g[3], g[4], g[5])?,
        };
        return Some(date.and_time(time));
    }
    if n == 1 && lens[0] == 8 {
        return parse_date(s, &[]).map(|d| d.and_time(NaiveTime::MIN));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn dates_in_every_export_shape() {
        for s in ["2024-03-05", "2024/3/5", "2024年3月5日", "20240305", "2024.03.05", "2024-03-05 00:00:00"] {
            assert_eq!(parse_date(s, &[]), Some(d(2024, 3, 5)), "{s}");
        }
        // five digits in text are a serial only when the connector says so: `20243` is a typo
        assert_eq!(parse_date("45356", &[]), None);
        assert_eq!(parse_date("20243", &[]), None);
        assert_eq!(parse_timestamp("45356.5", &[]), None);
        let serial = [EXCEL_SERIAL.to_string()];
        assert_eq!(parse_date("45356", &serial), Some(d(2024, 3, 5)));
        assert_eq!(parse_date("2024/3/5", &serial), Some(d(2024, 3, 5)), "the built-in shapes still apply");
        assert!(parse_timestamp("45356.5", &serial).is_some());
        assert_eq!(parse_date("2024-02-30", &[]), None);
        assert_eq!(parse_date("05/03/2024", &[]), None, "day-first is ambiguous without a format");
        assert_eq!(parse_date("05/03/2024", &["%d/%m/%Y".into()]), Some(d(2024, 3, 5)));
        assert_eq!(parse_date("not a date", &[]), None);
        assert_eq!(parse_date("2024年3月", &[]), None, "a month is not a date");
    }

    #[test]
    fn excel_serials_follow_the_1900_system() {
        assert_eq!(excel_serial(1.0).unwrap().date(), d(1900, 1, 1));
        assert_eq!(excel_serial(59.0).unwrap().date(), d(1900, 2, 28));
        assert_eq!(excel_serial(61.0).unwrap().date(), d(1900, 3, 1));
        assert_eq!(excel_serial(45356.0).unwrap().date(), d(2024, 3, 5));
        let t = excel_serial(45356.5).unwrap();
        assert_eq!(t.time(), NaiveTime::from_hms_opt(12, 0, 0).unwrap());
    }

    #[test]
    fn months_and_timestamps() {
        for s in ["202403", "2024-03", "2024年3月", "2024/3", "2024-03-17"] {
            assert_eq!(parse_month(s, &[]), Some(d(2024, 3, 1)), "{s}");
        }
        assert_eq!(parse_month("202413", &[]), None);
        let t = parse_timestamp("2024/3/5 8:30", &[]).unwrap();
        assert_eq!(t, d(2024, 3, 5).and_hms_opt(8, 30, 0).unwrap());
        let t = parse_timestamp("2024-03-05T08:30:15", &[]).unwrap();
        assert_eq!(t, d(2024, 3, 5).and_hms_opt(8, 30, 15).unwrap());
        assert_eq!(parse_timestamp("20240305083015", &[]), Some(d(2024, 3, 5).and_hms_opt(8, 30, 15).unwrap()));
        assert_eq!(parse_timestamp("2024-03-05", &[]), Some(d(2024, 3, 5).and_hms_opt(0, 0, 0).unwrap()));
    }

    #[test]
    fn money_units_are_exact() {
        let wan = money_unit("万元").unwrap();
        let (v, s) = parse_decimal("12.3456").unwrap();
        assert_eq!(to_cents(v, s, wan), Some(12_345_600));
        let (v, s) = parse_decimal("1,234.5").unwrap();
        assert_eq!(to_cents(v, s, money_unit("元").unwrap()), Some(123_450));
        let (v, s) = parse_decimal("-0.005").unwrap();
        assert_eq!(to_cents(v, s, money_unit("元").unwrap()), Some(-1), "half away from zero");
        let (v, s) = parse_decimal("￥88元").unwrap();
        assert_eq!(to_cents(v, s, money_unit("元").unwrap()), Some(8_800));
        let (v, s) = parse_decimal("150").unwrap();
        assert_eq!(to_cents(v, s, money_unit("分").unwrap()), Some(150));
        let (v, s) = parse_decimal("1.2E+3").unwrap();
        assert_eq!(to_cents(v, s, money_unit("元").unwrap()), Some(120_000));
        assert_eq!(parse_decimal("12.3.4"), None);
        assert_eq!(parse_decimal("abc"), None);
        assert_eq!(parse_decimal(""), None);
        assert_eq!(money_unit("美元"), None);
    }

    #[test]
    fn area_and_numbers() {
        assert!((area_unit("亩").unwrap() * 15.0 - 10_000.0).abs() < 1e-9);
        assert_eq!(area_unit("公顷"), Some(10_000.0));
        assert_eq!(parse_f64("1,234.5"), Some(1234.5));
        assert_eq!(parse_i64("12.0"), Some(12));
        assert_eq!(parse_i64("12.5"), None);
        // exponents that would overflow a power of ten are no number, never a panic
        for s in ["1E-128", "1E-39", "1e+39", "0.1E-2147483648", "1E2147483647", "-1E-38"] {
            assert_eq!(parse_i64(s), None, "{s}");
        }
        assert_eq!(parse_i64("1E+3"), Some(1000));
        assert_eq!(parse_decimal("1E-38"), Some((1, 38)));
        assert_eq!(parse_decimal("1E-128"), None);
        assert!(to_cents(1, 38, (1, 1)).is_some());
        assert_eq!(parse_bool("是"), Some(true));
        assert_eq!(parse_bool("否"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }
}
