//! Unified social credit codes (统一社会信用代码), GB 32100-2015.
//!
//! 18 characters over `0-9 A-H J-N P-R T U W-Y` (no I, O, S, V, Z): registration authority (1),
//! entity category (1), registering authority's region code (6), organisation code (9, GB 11714,
//! with its own check character) and the GB 32100 check character (1). Some issued codes fail the
//! check, so validation warns and never rejects.

use super::NumberDigits;

const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

fn value(c: u8) -> Option<u32> {
    CHARSET.iter().position(|&x| x == c).map(|p| p as u32)
}

/// The GB 32100 check character for the first 17 characters.
pub fn check_char(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value(c.to_ascii_uppercase())? * w;
    }
    Some(CHARSET[((31 - sum % 31) % 31) as usize])
}

/// True when `code` has 18 characters from the code charset and a matching check character.
/// This is what the SQL function `uscc_valid` returns.
pub fn is_valid(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 18 && check_char(&b[..17]) == Some(b[17].to_ascii_uppercase())
}

/// The 6-digit region code of the registering authority (positions 3–8).
pub fn region(code: &str) -> Option<&str> {
    let r = code.get(2..8)?;
    (code.len() == 18 && r.bytes().all(|b| b.is_ascii_digit())).then_some(r)
}

/// The check character of the embedded organisation code (GB 11714, positions 9–17).
pub fn org_code_check(code: &str) -> Option<u8> {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let body = code.as_bytes().get(8..16)?;
    let mut sum = 0;
    for (c, w) in body.iter().zip(W) {
        let v = match c {
            b'0'..=b'9' => (c - b'0') as u32,
            b'A'..=b'Z' => (c - b'A') as u32 + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        d => b'0' + d as u8,
    })
}

/// What landing found about one code value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issue {
    /// Check character mismatch (kept, flagged: some issued codes fail it).
    Checksum,
    /// Not 18 characters of the code charset (kept, flagged).
    Malformed,
    /// All-digit code stored as a number with lost digits (not landed).
    PrecisionLost,
}

impl Issue {
    /// Short machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Issue::Checksum => "checksum",
            Issue::Malformed => "malformed",
            Issue::PrecisionLost => "precision_lost",
        }
    }

    /// Human explanation.
    pub fn describe(self) -> &'static str {
        match self {
            Issue::Checksum => "credit code check character does not match (GB 32100); kept",
            Issue::Malformed => "not an 18-character credit code; kept",
            Issue::PrecisionLost => "credit code stored as a number lost digits; not landed — fix the export",
        }
    }
}

/// Normalises a credit code from text: cleaned, upper-cased, inner blanks removed.
pub fn normalize_text(raw: &str) -> (Option<String>, Option<Issue>) {
    let mut s: String = super::text::clean(raw).chars().filter(|c| !c.is_whitespace()).collect();
    if s.is_empty() {
        return (None, None);
    }
    s.make_ascii_uppercase();
    if s.len() != 18 {
        if let Some(NumberDigits::Truncated) = super::text_number_digits(&s) {
            return (None, Some(Issue::PrecisionLost));
        }
        if let Some(NumberDigits::Exact(d)) = super::text_number_digits(&s) {
            if d.len() == 18 {
                return classify(d);
            }
        }
        return (Some(s), Some(Issue::Malformed));
    }
    classify(s)
}

/// Normalises a credit code that arrived as a number (only all-digit codes can).
pub fn normalize_number(v: f64) -> (Option<String>, Option<Issue>) {
    match super::float_digits(v, is_valid) {
        Some(NumberDigits::Exact(d)) if d.len() == 18 => classify(d),
        Some(NumberDigits::Truncated) => (None, Some(Issue::PrecisionLost)),
        _ => (Some(v.to_string()), Some(Issue::Malformed)),
    }
}

fn classify(s: String) -> (Option<String>, Option<Issue>) {
    let issue = if !s.bytes().all(|b| value(b).is_some()) {
        Some(Issue::Malformed)
    } else if !is_valid(&s) {
        Some(Issue::Checksum)
    } else {
        None
    };
    (Some(s), issue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_codes_validate() {
        assert!(is_valid("91350200776049653A"));
        assert!(is_valid("913502000728319549"));
        assert!(!is_valid("91350200776049653B"));
        // issued but fails the formula: kept and flagged, never dropped
        assert!(!is_valid("91350203M0001QAY9B"));
        assert_eq!(normalize_text("91350203M0001QAY9B").1, Some(Issue::Checksum));
        assert_eq!(normalize_text("91350203M0001QAY9B").0.as_deref(), Some("91350203M0001QAY9B"));
        assert_eq!(region("91350200776049653A"), Some("350200"));
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize_text(" ９１３５０２００７７６０４９６５３ａ ").0.as_deref(), Some("91350200776049653A"));
        assert_eq!(normalize_text(" ９１３５０２００７７６０４９６５３ａ ").1, None);
        assert_eq!(normalize_text("ABC").1, Some(Issue::Malformed));
        assert_eq!(normalize_text("9.13502E+17").1, Some(Issue::PrecisionLost));
        assert_eq!(normalize_number(913502000728319000.0).1, Some(Issue::PrecisionLost));
        // the charset excludes I, O, S, V, Z
        assert_eq!(normalize_text("91350200776049653O").1, Some(Issue::Malformed));
    }

    #[test]
    fn organisation_code_check() {
        // 77604965-3 is the organisation code inside 91350200776049653A
        assert_eq!(org_code_check("91350200776049653A"), Some(b'3'));
    }
}
