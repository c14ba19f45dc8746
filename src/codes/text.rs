//! Text normalisation applied on landing: trim and fold full-width forms to half-width.
//!
//! Government exports mix full-width digits, letters and brackets (`（`, `０`, `Ｘ`) with
//! half-width ones, and pad cells with spaces (including the ideographic space U+3000). Joins only
//! work once both sides are folded the same way.

use std::borrow::Cow;

/// Folds one character: full-width ASCII variants (U+FF01..U+FF5E) to ASCII, the ideographic
/// space to a plain space. Every other character is returned unchanged.
#[inline]
pub fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' | '\u{00A0}' => ' ',
        _ => c,
    }
}

fn is_blank(c: char) -> bool {
    c.is_whitespace() || c == '\u{3000}' || c == '\u{FEFF}'
}

/// Trims surrounding blanks (ASCII, ideographic and no-break spaces, BOM) and folds full-width
/// forms. Borrows when nothing changes, which is the common case for clean exports.
pub fn clean(s: &str) -> Cow<'_, str> {
    // most values start and end with a visible ASCII character: nothing to trim
    let b = s.as_bytes();
    let trimmed = match (b.first(), b.last()) {
        (Some(f), Some(l)) if f.is_ascii_graphic() && l.is_ascii_graphic() => s,
        _ => s.trim_matches(is_blank),
    };
    if trimmed.is_ascii() {
        return Cow::Borrowed(trimmed);
    }
    // only these UTF-8 lead bytes begin a character that folds: C2 (U+00A0), E3 (U+3000) and
    // EF (U+FF01..U+FF5E); Chinese text rarely has them, so this scan decides most values
    if memchr::memchr3(0xC2, 0xE3, 0xEF, trimmed.as_bytes()).is_none() {
        return Cow::Borrowed(trimmed);
    }
    if !trimmed.chars().any(|c| fold_char(c) != c) {
        return Cow::Borrowed(trimmed);
    }
    let folded: String = trimmed.chars().map(fold_char).collect();
    // folding can expose new blanks at the ends (e.g. a trailing full-width space)
    match folded.trim_matches(is_blank) {
        t if t.len() == folded.len() => Cow::Owned(folded),
        t => Cow::Owned(t.to_string()),
    }
}

/// Normalises a company or organisation name for comparison: cleaned, brackets unified, inner
/// blanks removed. Used by name-based joins, which stay low-confidence (prefer USCC joins).
pub fn org_name_key(s: &str) -> String {
    clean(s)
        .chars()
        .filter(|c| !is_blank(*c))
        .map(|c| match c {
            '【' | '〔' | '[' | '{' => '(',
            '】' | '〕' | ']' | '}' => ')',
            c => c,
        })
        .collect()
}

/// 1234567 → 1,234,567
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 分 as 元 with thousands separators, exactly (no float): 123456789 → 1,234,567.89.
pub fn money_fen(fen: i64) -> String {
    if fen == i64::MAX || fen == i64::MIN {
        // a saturated sum (`sum_fen`): say so rather than print a number that is not the total
        return "超出可计范围 (over 92,233,720,368,547.75)".into();
    }
    let f = fen.unsigned_abs();
    format!("{}{}.{:02}", if fen < 0 { "-" } else { "" }, group(f / 100), f % 100)
}

/// An amount of money, exactly, in 分: shown as 元 with two decimals (`money_fen`), and in JSON
/// as a decimal string (`"70575.60"`), never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Yuan(pub i64);

impl Yuan {
    /// As text for machines: `-1234567.89`, no separators.
    pub fn plain(self) -> String {
        let f = self.0.unsigned_abs();
        format!("{}{}.{:02}", if self.0 < 0 { "-" } else { "" }, f / 100, f % 100)
    }
}

impl std::fmt::Display for Yuan {
    /// As text for people: `1,234,567.89`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&money_fen(self.0))
    }
}

impl serde::Serialize for Yuan {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.plain())
    }
}

/// Serialises 元 held as a float that came from 分 (a model's total) as a decimal string.
pub fn yuan_text<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(y) => s.serialize_some(&Yuan(fen_of(*y))),
        None => s.serialize_none(),
    }
}

/// A float as people read a figure, without binary artefacts: two decimals from 1 up
/// (70575.59999999999 → 70575.60), at most four significant decimals below (0.3333333 →
/// 0.3333); whole numbers as they are. Text that is not a float is returned unchanged.
pub fn float_text(shown: &str) -> String {
    let Ok(x) = shown.trim().parse::<f64>() else { return shown.to_string() };
    if !x.is_finite() {
        return shown.to_string();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    if x.abs() >= 1.0 {
        return format!("{x:.2}");
    }
    let t = format!("{x:.4}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    if t == "0" || t == "-0" { format!("{x:.2e}") } else { t.to_string() }
}

/// Amounts of money added up without wrapping: a total beyond what 分 in 64 bits hold stays at
/// the limit, which `money_fen` shows as over it.
pub fn sum_fen(amounts: impl IntoIterator<Item = i64>) -> i64 {
    amounts.into_iter().fold(0i64, |a, b| a.saturating_add(b))
}

/// The largest amount a person may enter (元): beyond any county's money — a larger one is a
/// typo (or a unit mix-up) and is refused, as are NaN and infinities.
pub const MAX_ENTERED_YUAN: f64 = 1e12;

/// An amount entered by a person (元): a finite, non-negative number up to 1 万亿.
pub fn entered_yuan(s: &str) -> Result<f64, String> {
    let v: f64 = s.trim().replace([',', '，'], "").parse().map_err(|_| format!("`{s}` 不是金额 (元, 如 12345.67)"))?;
    if !v.is_finite() {
        return Err(format!("`{s}` 不是金额 (元, 如 12345.67)"));
    }
    if v < 0.0 {
        return Err("金额不能为负".into());
    }
    if v > MAX_ENTERED_YUAN {
        return Err(format!("`{s}` 元超过 1 万亿元，请核对金额和单位 (元)"));
    }
    Ok(v)
}

/// 元 entered by a user (a verification's amounts) as 分.
pub fn fen_of(yuan: f64) -> i64 {
    (yuan * 100.0).round() as i64
}

/// 1234567.5 → 1,234,567.50
pub fn money(v: f64) -> String {
    let cents = (v * 100.0).round() as i128;
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", group((cents.abs() / 100) as u64), cents.abs() % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_never_wraps_and_impossible_amounts_are_refused() {
        let near = 9_200_000_000_000_000_000i64; // 9.2 × 10¹⁶ 元, in 分
        assert_eq!(sum_fen([near, near, near]), i64::MAX);
        assert!(money_fen(sum_fen([near, near])).contains("超出可计范围"));
        assert_eq!(sum_fen([100_000_000_000_000, 100_000_000_000_000]), 200_000_000_000_000);
        for bad in ["NaN", "1e309", "-0.01", "1e13", "十元"] {
            assert!(entered_yuan(bad).is_err(), "{bad}");
        }
        assert_eq!(entered_yuan("1,234.5"), Ok(1234.5));
    }

    #[test]
    fn floats_read_as_figures() {
        assert_eq!(float_text("70575.59999999999"), "70575.60");
        assert_eq!(float_text("0.30000000000000004"), "0.3");
        assert_eq!(float_text("0.3333333333333333"), "0.3333");
        assert_eq!(float_text("1830000"), "1830000");
        assert_eq!(float_text("-2.5"), "-2.50");
        assert_eq!(float_text("0.00001234"), "1.23e-5");
        assert_eq!(float_text("NaN"), "NaN");
        assert_eq!(float_text("前进村"), "前进村");
        assert_eq!(Yuan(-123456789).plain(), "-1234567.89");
        assert_eq!(Yuan(5).to_string(), "0.05");
        assert_eq!(serde_json::to_string(&Yuan(7057560)).unwrap(), "\"70575.60\"");
    }

    #[test]
    fn folds_full_width_and_trims() {
        assert_eq!(clean("  ３４０５２４１９８００１０１００１ｘ　"), "34052419800101001x");
        assert_eq!(clean("某某公司（集团）"), "某某公司(集团)");
        assert_eq!(clean("\u{3000}张三\u{3000}"), "张三");
        assert!(matches!(clean("abc"), Cow::Borrowed("abc")));
        assert!(matches!(clean("中文"), Cow::Borrowed("中文")));
    }

    #[test]
    fn org_name_key_unifies_brackets_and_spaces() {
        assert_eq!(org_name_key("某某 科技（有限）公司"), "某某科技(有限)公司");
        assert_eq!(org_name_key("某某科技【有限】公司"), "某某科技(有限)公司");
    }
}
