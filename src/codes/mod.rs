//! National code standards that every connector and model leans on.
//!
//! Persons are joined on the resident ID number (公民身份号码, GB 11643), entities on the unified
//! social credit code (统一社会信用代码, GB 32100), places on administrative division codes
//! (行政区划代码, GB/T 2260 and the 12-digit statistical codes). This module holds the pure rules:
//! normalisation, check digits and field extraction. It does no I/O and knows nothing of Arrow, so
//! the connector (landing) and the engine (SQL functions) apply exactly the same rules.

pub mod id_card;
pub mod region;
pub mod text;
pub mod uscc;

/// Digits recovered from a value that was stored or written as a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberDigits {
    /// Every digit of the integer is known.
    Exact(String),
    /// The number is an integer but some of its digits were lost (Excel keeps 15 significant
    /// digits; scientific notation shows fewer).
    Truncated,
}

/// Reads an integer written as a number in text: `123.0`, `1.23E+17`, `1.23e17`.
/// Returns `None` when the text is not a number or not an integer.
pub fn text_number_digits(s: &str) -> Option<NumberDigits> {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].trim_start_matches('+').parse::<i64>().ok()?),
        None => (s, 0),
    };
    // no code has more than a few dozen digits: a larger exponent is no code, and i64 holds
    // every sum below without overflow
    if exp.unsigned_abs() > 1000 {
        return None;
    }
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty()
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let all: String = format!("{int_part}{frac_part}");
    let lead = all.len() - all.trim_start_matches('0').len();
    let digits = &all[lead..];
    // position of the decimal point inside `digits` after applying the exponent
    let point = int_part.len() as i64 - lead as i64 + exp;
    if digits.is_empty() {
        return Some(NumberDigits::Exact("0".into()));
    }
    if point <= 0 {
        return None; // a fraction below one
    }
    let point = point as usize;
    if digits.len() > point {
        // digits after the decimal point must all be zero for an integer
        return digits[point..].bytes().all(|b| b == b'0').then(|| NumberDigits::Exact(digits[..point].to_string()));
    }
    if digits.len() == point {
        return Some(NumberDigits::Exact(digits.to_string()));
    }
    // scientific notation with fewer digits than the integer has: the tail is unknown
    Some(NumberDigits::Truncated)
}

/// The most integers one double may stand for and still be restored by a check digit.
const MAX_CANDIDATES: u64 = 4096;

/// Recovers the digits of an integer stored as a double (an Excel numeric cell).
///
/// Below 2^53 every integer is exact. Above, a double whose shortest form has at most 15
/// significant digits came through Excel's 15-digit limit and is [`NumberDigits::Truncated`].
/// A double written at full precision (16–17 digits) maps back to a small range of integers; if
/// exactly one of them satisfies `valid` (a check-digit rule), that one is exact.
pub fn float_digits(v: f64, valid: impl Fn(&str) -> bool) -> Option<NumberDigits> {
    if !v.is_finite() || v < 0.0 || v.fract() != 0.0 {
        return None;
    }
    if v < 9_007_199_254_740_992.0 {
        return Some(NumberDigits::Exact(format!("{}", v as u64)));
    }
    let shortest = format!("{v}");
    let significant = shortest.trim_end_matches('0').len();
    if significant <= 15 {
        return Some(NumberDigits::Truncated);
    }
    let ulp = f64::from_bits(v.to_bits() + 1) - v;
    // the integers a double stands for: beyond [`MAX_CANDIDATES`] (doubles ≥ 2^63, more digits
    // than any ID, credit code or account) no check digit can single one out — and walking them
    // would take hours
    if ulp > MAX_CANDIDATES as f64 {
        return Some(NumberDigits::Truncated);
    }
    let half = (ulp / 2.0) as u128;
    let centre = v as u128;
    let mut found = None;
    for n in centre - half..=centre + half {
        let s = n.to_string();
        if valid(&s) {
            if found.is_some() {
                return Some(NumberDigits::Truncated);
            }
            found = Some(s);
        }
    }
    Some(found.map_or(NumberDigits::Truncated, NumberDigits::Exact))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_numbers() {
        assert_eq!(text_number_digits("123"), Some(NumberDigits::Exact("123".into())));
        assert_eq!(text_number_digits("123.000"), Some(NumberDigits::Exact("123".into())));
        assert_eq!(text_number_digits("1.5"), None);
        assert_eq!(text_number_digits("1.23E+17"), Some(NumberDigits::Truncated));
        assert_eq!(text_number_digits("1.23E+2"), Some(NumberDigits::Exact("123".into())));
        assert_eq!(text_number_digits("1.2345e3"), None);
        assert_eq!(text_number_digits("abc"), None);
        assert_eq!(text_number_digits("1.2E-3"), None);
    }

    #[test]
    fn float_numbers() {
        assert_eq!(float_digits(42.0, |_| true), Some(NumberDigits::Exact("42".into())));
        assert_eq!(float_digits(4.2, |_| true), None);
        assert_eq!(float_digits(1.23456789012345e17, |_| true), Some(NumberDigits::Truncated));
        // 17 significant digits at 1e22 and beyond: each double covers millions of integers
        for v in [1.2345678901234567e22, 9.876543210987654e30, 1.7976931348623157e308] {
            let started = std::time::Instant::now();
            assert_eq!(float_digits(v, |_| true), Some(NumberDigits::Truncated), "{v}");
            assert!(started.elapsed() < std::time::Duration::from_secs(1), "{v} took {:?}", started.elapsed());
        }
        assert_eq!(text_number_digits("1E+2147483647"), None);
        assert_eq!(text_number_digits("1E-9223372036854775808"), None);
        assert_eq!(text_number_digits("1.5E+999"), Some(NumberDigits::Truncated));
    }
}
