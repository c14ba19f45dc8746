//! Administrative division codes (行政区划代码): GB/T 2260 six digits (province, city, county)
//! extended by the statistics bureau to 9 (township) and 12 (village) digits.

/// Normalises a region code: digits only; `None` when it is not 2, 4, 6, 9 or 12 digits.
pub fn normalize(raw: &str) -> Option<String> {
    let s = super::text::clean(raw);
    let s = s.trim_end_matches(".0");
    (matches!(s.len(), 2 | 4 | 6 | 9 | 12) && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.to_string())
}

/// A county-or-finer code as compared: normalised, without trailing all-zero levels beyond the
/// county (340524101000 and 340524101 are the same township); `None` above county level.
pub fn key(raw: &str) -> Option<String> {
    let mut k = normalize(raw).filter(|s| s.len() >= 6)?;
    while k.len() > 6 && k.ends_with("000") {
        k.truncate(k.len() - 3);
    }
    Some(k)
}

/// The code truncated to a level: 2 province, 4 city, 6 county, 9 township, 12 village.
pub fn at_level(code: &str, digits: usize) -> Option<&str> {
    code.get(..digits)
}

/// Whether `child` lies within `parent` (prefix match after trailing zero groups are dropped:
/// `340500000000` contains `340524...`).
pub fn contains(parent: &str, child: &str) -> bool {
    let p = parent.trim_end_matches("000").trim_end_matches("00");
    !p.is_empty() && child.starts_with(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(normalize(" 320508019044 ").as_deref(), Some("320508019044"));
        assert_eq!(normalize("３４０５２４").as_deref(), Some("340524"));
        assert_eq!(normalize("34052"), None);
        assert_eq!(at_level("320508019044", 6), Some("320508"));
        assert!(contains("340500", "340524101001"));
        assert!(contains("340524000000", "340524101001"));
        assert!(!contains("340500", "340600101001"));
        assert_eq!(key("340524101000").as_deref(), Some("340524101"));
        assert_eq!(key("340524000000").as_deref(), Some("340524"));
        assert_eq!(key("３４０５２４１０１").as_deref(), Some("340524101"));
        assert_eq!(key("3405241012"), None);
        assert_eq!(key("3405"), None);
    }
}
