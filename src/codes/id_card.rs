//! Resident ID numbers (公民身份号码), GB 11643-1999, and their repair on landing.
//!
//! Layout of the 18-character form: 6-digit address code, 8-digit birth date (YYYYMMDD), 3-digit
//! sequence (odd = male), 1 check character from ISO 7064 MOD 11-2. The legacy 15-digit form
//! (GB 11643-1989) has a 2-digit year and no check character; it is upgraded to 18 characters by
//! inserting "19" and computing the check character.
//!
//! Invariants:
//! - a checksum failure never rejects a value: it is kept and flagged (some issued IDs fail it);
//! - digits are never guessed: an ID that Excel stored as a number keeps only 15 significant
//!   digits, and such a value is reported as [`Issue::PrecisionLost`] and not landed as an ID,
//!   because a truncated ID would join to the wrong person. It is restored only when the digits
//!   are known exactly, or when exactly one valid ID could have produced the stored number.

use chrono::NaiveDate;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// What landing had to say about one ID value. `None` from [`normalize`] means clean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issue {
    /// 18 characters, date plausible, but the check character does not match (kept, flagged).
    Checksum,
    /// The birth-date part is not a real date (kept, flagged).
    BadDate,
    /// A legacy 15-digit ID, upgraded to 18 characters (informational).
    Upgraded15,
    /// The ID arrived as a number (Excel) and its digits were recovered exactly.
    RestoredFromNumber,
    /// The ID arrived as a number whose digits were lost; the value is not landed.
    PrecisionLost,
    /// A masked ID such as `3405**********001X`; it cannot be joined (kept, flagged).
    Masked,
    /// Not an ID at all (wrong length or characters) (kept, flagged).
    Malformed,
}

impl Issue {
    /// Short machine-readable code, stored in flag records.
    pub fn code(self) -> &'static str {
        match self {
            Issue::Checksum => "checksum",
            Issue::BadDate => "bad_date",
            Issue::Upgraded15 => "upgraded_15",
            Issue::RestoredFromNumber => "restored_from_number",
            Issue::PrecisionLost => "precision_lost",
            Issue::Masked => "masked",
            Issue::Malformed => "malformed",
        }
    }

    /// Human explanation for flag records and error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Issue::Checksum => "ID check character does not match (GB 11643); kept",
            Issue::BadDate => "ID birth-date part is not a valid date; kept",
            Issue::Upgraded15 => "legacy 15-digit ID upgraded to 18 characters",
            Issue::RestoredFromNumber => "ID stored as a number; digits recovered exactly",
            Issue::PrecisionLost => {
                "ID stored as a number lost its last digits (Excel keeps 15); not landed — fix the export"
            }
            Issue::Masked => "masked ID cannot be joined; kept",
            Issue::Malformed => "not an 18- or 15-character ID; kept",
        }
    }

    /// Whether the landed value may be used as a join key.
    pub fn keeps_value(self) -> bool {
        !matches!(self, Issue::PrecisionLost)
    }
}

/// Result of normalising one raw ID value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// The value to land (`None` when nothing trustworthy remains).
    pub value: Option<String>,
    /// What was done or found, if anything.
    pub issue: Option<Issue>,
}

/// The check character for the first 17 digits, or `None` if they are not all digits.
pub fn check_char(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (b, w) in first17.iter().zip(WEIGHTS) {
        if !b.is_ascii_digit() {
            return None;
        }
        sum += (b - b'0') as u32 * w;
    }
    Some(CHECK[(sum % 11) as usize])
}

fn date_part(id: &[u8]) -> Option<NaiveDate> {
    let d = id.get(6..14)?;
    // digits only: any other byte (a multi-byte character among them) is no date, not a panic
    if !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let d = std::str::from_utf8(d).ok()?;
    let y: i32 = d[0..4].parse().ok()?;
    let m: u32 = d[4..6].parse().ok()?;
    let day: u32 = d[6..8].parse().ok()?;
    if !(1850..=2200).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, day)
}

/// True when `id` is an 18-character ID with a real birth date and a matching check character.
/// Accepts a lower-case `x`. This is what the SQL function `id_card_valid` returns.
pub fn is_valid(id: &str) -> bool {
    let b = id.as_bytes();
    if b.len() != 18 {
        return false;
    }
    let last = b[17].to_ascii_uppercase();
    check_char(&b[..17]) == Some(last) && date_part(b).is_some()
}

/// Birth date encoded in an 18-character (or legacy 15-digit) ID.
pub fn birth_date(id: &str) -> Option<NaiveDate> {
    match id.len() {
        18 => date_part(id.as_bytes()),
        15 if id.bytes().all(|b| b.is_ascii_digit()) => date_part(upgrade15(id)?.as_bytes()),
        _ => None,
    }
}

/// The 6-digit address code (region at first registration) of an ID.
pub fn region(id: &str) -> Option<&str> {
    let head = id.get(0..6)?;
    (matches!(id.len(), 15 | 18) && head.bytes().all(|b| b.is_ascii_digit())).then_some(head)
}

/// `"男"` or `"女"` from the sequence digit (odd = male).
pub fn gender(id: &str) -> Option<&'static str> {
    let b = id.as_bytes();
    let d = match b.len() {
        18 => b[16],
        15 => b[14],
        _ => return None,
    };
    d.is_ascii_digit().then(|| if (d - b'0') % 2 == 1 { "男" } else { "女" })
}

/// Age in whole years on `at`, from the ID's birth date.
pub fn age_at(id: &str, at: NaiveDate) -> Option<i32> {
    let born = birth_date(id)?;
    at.years_since(born).map(|y| y as i32)
}

/// Upgrades a legacy 15-digit ID: insert "19" after the address code, append the check char.
pub fn upgrade15(id15: &str) -> Option<String> {
    let b = id15.as_bytes();
    if b.len() != 15 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut s = Vec::with_capacity(18);
    s.extend_from_slice(&b[..6]);
    s.extend_from_slice(b"19");
    s.extend_from_slice(&b[6..]);
    let c = check_char(&s)?;
    s.push(c);
    String::from_utf8(s).ok()
}

fn classify18(id: String) -> Normalized {
    let b = id.as_bytes();
    let issue = if date_part(b).is_none() {
        Some(Issue::BadDate)
    } else if check_char(&b[..17]) != Some(b[17]) {
        Some(Issue::Checksum)
    } else {
        None
    };
    Normalized { value: Some(id), issue }
}

fn from_digits(digits: &str, from_number: bool) -> Normalized {
    match digits.len() {
        18 => {
            let mut n = classify18(digits.to_string());
            // An 18-digit number ending in 000 that fails its checksum is the classic trace of
            // Excel's 15-significant-digit limit, also when the export wrote it out as digits.
            if n.issue == Some(Issue::Checksum) && digits.ends_with("000") {
                return lost();
            }
            if from_number {
                if n.issue.is_none() {
                    n.issue = Some(Issue::RestoredFromNumber);
                }
            }
            n
        }
        15 => match upgrade15(digits) {
            Some(up) if date_part(up.as_bytes()).is_some() => Normalized {
                value: Some(up),
                issue: Some(if from_number { Issue::RestoredFromNumber } else { Issue::Upgraded15 }),
            },
            _ => Normalized { value: Some(digits.to_string()), issue: Some(Issue::BadDate) },
        },
        _ => Normalized { value: Some(digits.to_string()), issue: Some(Issue::Malformed) },
    }
}

fn lost() -> Normalized {
    Normalized { value: None, issue: Some(Issue::PrecisionLost) }
}

/// Normalises an ID that arrived as text: cleans blanks and full-width forms, upper-cases `x`,
/// upgrades 15-digit IDs, and recognises numbers written as text (`1.10101E+17`, `…1234.0`).
pub fn normalize_text(raw: &str) -> Normalized {
    let cleaned = super::text::clean(raw);
    let mut s: String = cleaned.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if s.is_empty() {
        return Normalized { value: None, issue: None };
    }
    s.make_ascii_uppercase();
    let b = s.as_bytes();
    if b.len() == 18 && b[..17].iter().all(u8::is_ascii_digit) && (b[17].is_ascii_digit() || b[17] == b'X') {
        return if b[17] == b'X' { classify18(s) } else { from_digits(&s, false) };
    }
    if b.len() == 15 && b.iter().all(u8::is_ascii_digit) {
        return from_digits(&s, false);
    }
    if s.contains('*') {
        return Normalized { value: Some(s), issue: Some(Issue::Masked) };
    }
    match super::text_number_digits(&s) {
        Some(NumberDigits::Exact(d)) => from_digits(&d, true),
        Some(NumberDigits::Truncated) => lost(),
        None => Normalized { value: Some(s), issue: Some(Issue::Malformed) },
    }
}

/// Normalises an ID that arrived as a floating-point number (an Excel numeric cell).
pub fn normalize_number(v: f64) -> Normalized {
    match super::float_digits(v, |d| is_valid(d)) {
        Some(NumberDigits::Exact(d)) => from_digits(&d, true),
        Some(NumberDigits::Truncated) => lost(),
        None => Normalized { value: Some(v.to_string()), issue: Some(Issue::Malformed) },
    }
}

pub use super::NumberDigits;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_text_of_eighteen_bytes_is_answered_without_a_panic() {
        // 18 bytes, non-ASCII where the birth date sits: one such row must not end a run
        for s in ["340524张三0101001X", "3405241é980101013", "34052419800101001é", "é340524198001010", "三三三三三三"]
        {
            assert_eq!(birth_date(s), None, "{s}");
            assert_eq!(age_at(s, NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()), None, "{s}");
            assert!(!is_valid(s), "{s}");
            let _ = (gender(s), region(s), normalize_text(s));
        }
    }

    #[test]
    fn check_digit_matches_reference_examples() {
        assert!(is_valid("34052419800101001X"));
        assert!(is_valid("34052419800101001x"));
        assert!(!is_valid("340524198001010013"));
        assert_eq!(upgrade15("370802940221002").as_deref(), Some("370802199402210029"));
        assert!(is_valid("370802199402210029"));
    }

    #[test]
    fn fields_are_extracted() {
        let id = "34052419800101001X";
        assert_eq!(birth_date(id), NaiveDate::from_ymd_opt(1980, 1, 1));
        assert_eq!(region(id), Some("340524"));
        assert_eq!(gender(id), Some("男"));
        assert_eq!(age_at(id, NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()), Some(44));
        assert_eq!(age_at(id, NaiveDate::from_ymd_opt(2023, 12, 31).unwrap()), Some(43));
        assert_eq!(birth_date("370802940221002"), NaiveDate::from_ymd_opt(1994, 2, 21));
        assert_eq!(birth_date("abc"), None);
    }

    #[test]
    fn text_normalisation() {
        let n = normalize_text(" ３４０５２４１９８００１０１００１ｘ ");
        assert_eq!(n.value.as_deref(), Some("34052419800101001X"));
        assert_eq!(n.issue, None);
        let n = normalize_text("340524198001010013");
        assert_eq!(n.issue, Some(Issue::Checksum));
        assert_eq!(n.value.as_deref(), Some("340524198001010013"));
        let n = normalize_text("370802940221002");
        assert_eq!(n.value.as_deref(), Some("370802199402210029"));
        assert_eq!(n.issue, Some(Issue::Upgraded15));
        let n = normalize_text("340524198013010011");
        assert_eq!(n.issue, Some(Issue::BadDate));
        assert_eq!(normalize_text("3405**********001X").issue, Some(Issue::Masked));
        assert_eq!(normalize_text("无").issue, Some(Issue::Malformed));
        assert_eq!(normalize_text("  ").value, None);
    }

    #[test]
    fn numbers_written_as_text() {
        // scientific notation from Excel: digits are gone
        assert_eq!(normalize_text("3.40524E+17"), lost());
        // enough digits in the mantissa: exact
        let n = normalize_text("3.4052419800101001E+17");
        assert_eq!(n.value, None, "17 digits are not 18: {n:?}");
        // a trailing .0 from a numeric export
        let n = normalize_text("370802940221002.0");
        assert_eq!(n.value.as_deref(), Some("370802199402210029"));
        assert_eq!(n.issue, Some(Issue::RestoredFromNumber));
        // Excel-truncated plain digits: ends in 000 and fails the check
        let truncated = "110101199003077000";
        assert!(!is_valid(truncated), "a truncated value that happens to validate proves nothing");
        assert_eq!(normalize_text(&format!("{truncated}.0")), lost());
        // written out as plain digits the damage looks the same
        assert_eq!(normalize_text(truncated), lost());
        // a checksum failure without the 000 trace is kept and flagged
        assert_eq!(normalize_text("110101199003077001").issue, Some(Issue::Checksum));
    }

    #[test]
    fn numbers_from_excel_cells() {
        // a 15-digit legacy ID is exact in a double
        let n = normalize_number(370802940221002.0);
        assert_eq!(n.value.as_deref(), Some("370802199402210029"));
        assert_eq!(n.issue, Some(Issue::RestoredFromNumber));
        // Excel keeps 15 significant digits: the rest is lost, never guessed
        assert_eq!(normalize_number(340524198001010000.0), lost());
        assert_eq!(normalize_number(1.5), Normalized { value: Some("1.5".into()), issue: Some(Issue::Malformed) });
    }

    #[test]
    fn full_precision_doubles_are_restored_only_when_unique() {
        // Search valid IDs whose double has a 17-significant-digit shortest form, as written by
        // tools that print full double precision; restoration must give back the exact ID when
        // exactly one valid ID maps to that double, and refuse otherwise.
        let mut restored = 0;
        let mut refused = 0;
        for seq in 0..400u32 {
            let first17 = format!("11010119900307{seq:03}");
            let c = check_char(first17.as_bytes()).unwrap();
            if c == b'X' {
                continue;
            }
            let id = format!("{first17}{}", c as char);
            let v: f64 = id.parse().unwrap();
            let n = normalize_number(v);
            match n.value {
                Some(ref got) => {
                    assert_eq!(got, &id, "a restored ID must be the original");
                    assert_eq!(n.issue, Some(Issue::RestoredFromNumber));
                    restored += 1;
                }
                None => {
                    assert_eq!(n.issue, Some(Issue::PrecisionLost));
                    refused += 1;
                }
            }
        }
        assert!(restored > 0 && refused > 0, "restored {restored}, refused {refused}");
    }
}
