//! Who may see ID and account numbers, decided in one place: every text searchlight shows a
//! person — tables, JSON, errors, working papers, files it writes for them — passes one
//! [`Redactor`] on its way out.
//!
//! Masking works on the text as people and exports really write numbers: a run of 15 or more
//! digits (ASCII or full-width), possibly ending in an ID's check letter (`X` or `x`), possibly
//! in groups of three or more digits split by single blanks or hyphens (`340524 19800101 0013`,
//! `6222-0212-3456-7890`), whatever stands next to it (`身份证340524…号`, `ID340524…`). That
//! covers 18- and 15-digit resident IDs and bank account numbers (16–19 digits); dates, amounts,
//! phone numbers (11 digits) and credit codes (letters inside, or 17 digits and a check letter
//! that make a valid credit code and no valid ID) are left as they are. The first
//! six and the last four digits stay (region and check, for matching by eye); the rest become
//! `*`.

use std::borrow::Cow;

/// What the person the output is for may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// ID and account numbers masked.
    Masked,
    /// Everything in full (`--show-ids`, for those granted to see them).
    Full,
}

/// Masks ID and account numbers in text, unless the grant is [`Grant::Full`].
#[derive(Debug, Clone, Copy)]
pub struct Redactor {
    grant: Grant,
}

/// Digits in a row (group separators not counted) from which a number is masked.
const MIN_DIGITS: usize = 15;
/// A group of digits must be at least this long to be joined to the next across a separator…
const MIN_GROUP: usize = 3;
/// … and at most this long (IDs and accounts are written in groups of 4, 6 or 8; a run id's
/// 14-digit timestamp is not a group).
const MAX_GROUP: usize = 8;

impl Redactor {
    pub fn new(grant: Grant) -> Redactor {
        Redactor { grant }
    }

    /// Masking on.
    pub fn masking() -> Redactor {
        Redactor::new(Grant::Masked)
    }

    pub fn grant(&self) -> Grant {
        self.grant
    }

    /// Whether numbers are shown in full.
    pub fn shows_ids(&self) -> bool {
        self.grant == Grant::Full
    }

    /// The text as this person may see it.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.grant == Grant::Full || !text.chars().any(|c| digit(c).is_some()) {
            return Cow::Borrowed(text);
        }
        mask(text)
    }
}

/// An ASCII or full-width digit's value.
fn digit(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '０'..='９' => Some((c as u32 - '０' as u32) as u8),
        _ => None,
    }
}

fn check_letter(c: char) -> bool {
    matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')
}

fn separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '\u{3000}' | '－' | '\u{a0}')
}

fn mask(text: &str) -> Cow<'_, str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0; // byte offset copied up to
    let mut i = 0;
    while i < chars.len() {
        // a number starts after anything but a digit or the `*` of a number masked already
        if digit(chars[i].1).is_none() || (i > 0 && (digit(chars[i - 1].1).is_some() || chars[i - 1].1 == '*')) {
            i += 1;
            continue;
        }
        // a number starts at i: take groups of digits joined by single separators
        let mut digits: Vec<u8> = Vec::new();
        let mut j = i;
        let mut end; // one past the last char of the number
        let mut letter = false;
        loop {
            let start = j;
            while j < chars.len() && digit(chars[j].1).is_some() {
                digits.push(digit(chars[j].1).expect("a digit"));
                j += 1;
            }
            let group = j - start;
            end = j;
            if j < chars.len() && check_letter(chars[j].1) {
                letter = true;
                end = j + 1;
                break;
            }
            let joins = (MIN_GROUP..=MAX_GROUP).contains(&group)
                && j + 1 < chars.len()
                && separator(chars[j].1)
                && digit(chars[j + 1].1).is_some()
                && (MIN_GROUP..=MAX_GROUP).contains(&run_len(&chars, j + 1));
            if !joins {
                break;
            }
            j += 1;
        }
        let n = digits.len() + letter as usize;
        // the digits after a decimal point (0.3333333333333333 in JSON) are no one's number
        let fraction = i >= 2 && chars[i - 1].1 == '.' && chars[i - 2].1.is_ascii_digit();
        if n >= MIN_DIGITS && !fraction && !own_id(&chars, i, end) && !credit_code(&chars, i, end) {
            let start_byte = chars[i].0;
            let end_byte = chars.get(end).map_or(text.len(), |c| c.0);
            out.push_str(&text[copied..start_byte]);
            let mut shown: Vec<char> = digits.iter().map(|d| (b'0' + d) as char).collect();
            if letter {
                shown.push('X');
            }
            let len = shown.len();
            for (k, c) in shown.iter().enumerate() {
                out.push(if k < 6 || k >= len - 4 { *c } else { '*' });
            }
            copied = end_byte;
            i = end;
        } else {
            i = end.max(i + 1);
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Whether the number at `start..end` is part of a unified social credit code: an 18-character
/// run of letters and digits (`91340524300079195J`, `913714252732268X8`, `91340524MA2T000011`)
/// with a valid GB 32100 check character. A firm's code is no one's personal number — unless
/// it could be an ID: 18 characters with a birth date in the place an ID has one are treated as
/// an ID, whatever their check character says (an ID with a typo is still a person's).
fn credit_code(chars: &[(usize, char)], start: usize, end: usize) -> bool {
    let (a, b) = token(chars, start, end);
    // the code is the whole run, or the run from where the number starts (`USCC9134…`)
    [a, start].into_iter().any(|from| {
        if b - from != 18 {
            return false;
        }
        let code: String = chars[from..b].iter().map(|(_, c)| c.to_ascii_uppercase()).collect();
        crate::codes::uscc::is_valid(&code) && !looks_like_id(&code)
    })
}

/// 17 digits (and a digit or X) with a real birth date where an ID has it: an ID, or what is
/// left of one.
fn looks_like_id(code: &str) -> bool {
    let b = code.as_bytes();
    b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X')
        && crate::codes::id_card::birth_date(code).is_some_and(|d| (1900..=2100).contains(&chrono::Datelike::year(&d)))
}

/// Whether the digits at `start..end` are part of one of searchlight's own ids: a clue id
/// (`C` and 16 hex digits, which can all be digits) is no one's ID number.
fn own_id(chars: &[(usize, char)], start: usize, end: usize) -> bool {
    let (a, b) = token(chars, start, end);
    let token: String = chars[a..b].iter().map(|(_, c)| *c).collect();
    token.len() == 17
        && token.starts_with('C')
        && token[1..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// The run of ASCII letters and digits around `start..end`: its bounds.
fn token(chars: &[(usize, char)], start: usize, end: usize) -> (usize, usize) {
    let alnum = |k: usize| chars.get(k).is_some_and(|(_, c)| c.is_ascii_alphanumeric());
    let mut a = start;
    while a > 0 && alnum(a - 1) {
        a -= 1;
    }
    let mut b = end;
    while alnum(b) {
        b += 1;
    }
    (a, b)
}

/// The length of the group starting at `i`: digits, and the `*` of a number masked already
/// (so masking what was masked changes nothing — found by fuzzing).
fn run_len(chars: &[(usize, char)], i: usize) -> usize {
    chars[i..].iter().take_while(|(_, c)| digit(*c).is_some() || *c == '*').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> String {
        Redactor::masking().text(s).into_owned()
    }

    #[test]
    fn ids_and_accounts_in_the_forms_real_text_holds() {
        assert_eq!(m("340524196811260118"), "340524********0118");
        assert_eq!(m("34052419700710590x"), "340524********590X");
        assert_eq!(m("370802940221002"), "370802*****1002", "15-digit IDs");
        assert_eq!(m("３４０５２４１９６８１１２６０１１８"), "340524********0118", "full-width");
        assert_eq!(m("340524 19681126 0118"), "340524********0118");
        assert_eq!(m("340524-1968-1126-0118"), "340524********0118");
        assert_eq!(m("身份证340524196811260118号"), "身份证340524********0118号");
        assert_eq!(m("ID340524196811260118abc"), "ID340524********0118abc");
        assert_eq!(m("账号6217001234567890123"), "账号621700*********0123");
        assert_eq!(m("6222 0212 3456 7890"), "622202******7890");
        assert_eq!(
            m("冯杰俊(340524196811260118)、6228480007159216063"),
            "冯杰俊(340524********0118)、622848*********6063"
        );
    }

    #[test]
    fn the_fraction_of_a_decimal_stays() {
        assert_eq!(m("\"precision\": 0.3333333333333333"), "\"precision\": 0.3333333333333333");
        assert_eq!(m("0.30000000000000004"), "0.30000000000000004");
        // an ID written as a spreadsheet number is still masked; so is one after a full stop
        assert_eq!(m("340524196811260118.0"), "340524********0118.0");
        assert_eq!(m("见.340524196811260118"), "见.340524********0118");
    }

    #[test]
    fn what_is_not_a_person_stays() {
        for s in [
            "91340524MA2T000011",
            "统一社会信用代码：91340524300079195J；",
            "91340524300158387Y",
            "QHCG2025-9110-01",
            "2025-12-31 2026-01-01",
            "13800138000",
            "336,049,621.00 元",
            "R20261202011940-72b5",
            "v000001",
            "2025年12月31日 共 87 条",
            "R20261202013423-2098c",
            "R20261202013423-20981",
            "C1234567890123456",
            "线索 C1234567890123456 已分流",
        ] {
            assert_eq!(m(s), s);
        }
        assert_eq!(Redactor::new(Grant::Full).text("340524196811260118"), "340524196811260118");
    }

    #[test]
    fn every_valid_credit_code_stays_and_ids_that_look_like_one_are_masked() {
        // a code whose organisation part ends in a letter and whose check character is a digit:
        // it was masked as a 17-character ID (913714*******268X8) while other codes were shown
        let mut first17 = b"91371425273268X".to_vec();
        first17.extend(b"0X");
        let mut code = String::from_utf8(first17.clone()).unwrap();
        code.push(crate::codes::uscc::check_char(&first17).unwrap() as char);
        assert!(crate::codes::uscc::is_valid(&code), "{code}");
        for s in [code.clone(), format!("供应商{code}、"), format!("USCC{code}"), format!("{code} 91340524300079195J")]
        {
            assert_eq!(m(&s), s);
        }
        // an ID number whose check digit is wrong is still someone's: masked even if it happens
        // to pass the credit-code check
        // (340524196811260160: the credit-code check of its first 17 digits is 0, the ID check 9)
        let id = "340524196811260160";
        assert!(crate::codes::uscc::is_valid(id) && !crate::codes::id_card::is_valid(id));
        assert_eq!(m(id), "340524********0160");
        assert_eq!(m("340524196811260118"), "340524********0118");
    }

    #[test]
    fn masking_what_was_masked_changes_nothing() {
        // found by `cargo fuzz run codes`: a masked 19-digit run after two short groups
        let once = m("419524-1968-1127080294022100013");
        assert_eq!(once, "419524-1968-112708*********0013");
        assert_eq!(m(&once), once);
        // … and the digits after a masked number's stars do not start another
        for s in ["932410********8001 10018001 1001x", "340524********0118 2024 0101 0013"] {
            assert_eq!(m(s), s);
        }
    }
}
