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
    let f = fen.unsigned_abs();
    format!("{}{}.{:02}", if fen < 0 { "-" } else { "" }, group(f / 100), f % 100)
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
