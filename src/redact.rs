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
/// … and at most this long (IDs and accounts are written in groups of 4, 6, 8 — or a bank's 6
/// and the account's 13: `622848 0007159216063`).
const MAX_GROUP: usize = 19;

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
        mask(text, false)
    }

    /// A JSON document as this person may see it, still JSON: its values redacted one by one —
    /// only ID and account numbers (an ID in a note, a number that is an account), never a key,
    /// an amount in 分 or an invoice number; a masked number becomes a string. `None` when the
    /// text is not one JSON document.
    pub fn json(&self, text: &str) -> Option<String> {
        let trimmed = text.trim_end();
        let first = trimmed.trim_start().chars().next()?;
        if !matches!(first, '{' | '[') {
            return None;
        }
        let mut v: serde_json::Value = serde_json::from_str(trimmed).ok()?;
        if self.grant == Grant::Masked {
            redact_value(&mut v);
        }
        let mut out =
            if trimmed.contains('\n') { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) }.ok()?;
        out.push_str(&text[trimmed.len()..]);
        Some(out)
    }
}

fn redact_value(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => {
            if let Cow::Owned(m) = mask(s, true) {
                *s = m;
            }
        }
        serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => {
            let digits = n.to_string();
            if let Cow::Owned(m) = mask(&digits, true) {
                *v = serde_json::Value::String(m);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(redact_value),
        serde_json::Value::Object(o) => {
            for (k, v) in o.iter_mut() {
                // a clue id under a key that says so is searchlight's own, whatever its digits
                let id_key = k.ends_with("clue_id") || k == "next" || k == "cursor";
                // and a hash under a key that says so (an evidence key whose 16 hex digits
                // happen to be all decimal looked like an account number)
                let hash_key =
                    matches!(k.as_str(), "evidence_key" | "version" | "fingerprint" | "blake3" | "spec_hash");
                let own = (id_key && v.as_str().is_some_and(clue_id_shaped))
                    || (hash_key && v.as_str().is_some_and(hash_shaped));
                if !own {
                    redact_value(v);
                }
            }
        }
        _ => {}
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

/// What people write between the groups of one number: blanks, hyphens, underscores, slashes,
/// dots and tabs (`340524 19411220 7458`, `340524_19411220_7458`, `6228.4800.0715.9216063`).
fn separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '\u{3000}' | '－' | '\u{a0}' | '_' | '/' | '.' | '\t')
}

/// Whether the digits (and an ID's check letter) are an ID number by what they are: 18 with a
/// birth date where an ID has one (whatever the check digit: a mistyped ID is still someone's),
/// or a legacy 15-digit one with its date.
fn id_like(digits: &[u8], letter: bool) -> bool {
    let s: String = digits.iter().map(|d| (b'0' + d) as char).chain(letter.then_some('X')).collect();
    match s.len() {
        18 | 15 => crate::codes::id_card::birth_date(&s).is_some(),
        _ => false,
    }
}

/// Whether a run longer than any ID or account holds a valid ID (a date and a check digit that
/// fit) somewhere in it: numbers run together (`1.3708021956072849472.6254…`) are still someone's.
fn holds_an_id(digits: &[u8]) -> bool {
    let luhn = |w: &[u8]| {
        w.iter()
            .rev()
            .enumerate()
            .map(|(i, &d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d } as u32)
            .sum::<u32>()
            % 10
            == 0
    };
    digits.len() > 19
        && (digits.windows(18).any(|w| {
            let s: String = w.iter().map(|d| (b'0' + d) as char).collect();
            crate::codes::id_card::is_valid(&s)
        }) || (16..=19).any(|n| digits.windows(n).any(|w| w.starts_with(&[6, 2]) && luhn(w))))
}

/// Whether the digits are a bank account or card number by what they are: 16 to 19 digits that
/// pass the Luhn check, or begin with UnionPay's 62.
fn account_like(digits: &[u8]) -> bool {
    if !(16..=19).contains(&digits.len()) || digits.is_empty() {
        return false;
    }
    let luhn = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d } as u32)
        .sum::<u32>()
        % 10
        == 0;
    luhn || digits.starts_with(&[6, 2])
}

/// `1,234,567,890,123,456,789`: digits in thousands groups from `i`, with their end; `None` when
/// the text there is no such number.
fn thousands(chars: &[(usize, char)], i: usize) -> Option<(Vec<u8>, usize)> {
    let mut digits = Vec::new();
    let mut j = i;
    while j < chars.len() && j - i < 3 && digit(chars[j].1).is_some() {
        digits.push(digit(chars[j].1).expect("a digit"));
        j += 1;
    }
    let mut groups = 0;
    while j + 3 < chars.len() + 1
        && chars.get(j).is_some_and(|c| matches!(c.1, ',' | '，'))
        && (1..=3).all(|k| chars.get(j + k).is_some_and(|c| digit(c.1).is_some()))
        && chars.get(j + 4).is_none_or(|c| digit(c.1).is_none())
    {
        digits.extend((1..=3).map(|k| digit(chars[j + k].1).expect("a digit")));
        j += 4;
        groups += 1;
    }
    (groups > 0).then_some((digits, j))
}

/// Masks the numbers of `text` that are long enough to be personal; with `only_personal`, only
/// those that are an ID or an account by what they are (JSON values, where a 20-digit invoice
/// number is a field of its own).
fn mask(text: &str, only_personal: bool) -> Cow<'_, str> {
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
        // a number written in thousands groups (`6,228,480,007,159,216,063`)
        if let Some((d, e)) = thousands(&chars, i).filter(|(d, _)| d.len() > digits.len()) {
            digits = d;
            end = e;
            letter = false;
        }
        let n = digits.len() + letter as usize;
        // the digits after a decimal point (0.3333333333333333 in JSON) are no one's number —
        // unless they are an ID or an account by what they are: Chinese text numbers a list
        // `1.340524194112207458 2.6228480007159216063`
        // (a float prints at most 17 significant digits: a longer "fraction" is no decimal)
        let fraction = i >= 2 && chars[i - 1].1 == '.' && chars[i - 2].1.is_ascii_digit() && digits.len() <= 17;
        let personal = id_like(&digits, letter) || account_like(&digits) || holds_an_id(&digits);
        if n >= MIN_DIGITS
            && (!fraction || personal)
            && (!only_personal || personal)
            && !run_id(&chars, i)
            && !own_id(&chars, i, end, personal)
            && !credit_code(&chars, i, end)
        {
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
/// (`C` and 16 hex digits, which can all be digits) is no one's ID number. Digits that would
/// be an ID or account number by what they are (`personal`; 88 of a million clue ids had such
/// a run) count as a clue id only in a workbench address (`/clues/C…`, `/papers/C…`,
/// `cursor=C…`), so its links keep working; anywhere else (`账户C6228…`, a quarantined raw value
/// `C6254…`) they are read as the account or ID they may be. (In JSON, a value under a key that
/// names a clue id is kept whole: see [`Redactor::json`].)
fn own_id(chars: &[(usize, char)], start: usize, end: usize, personal: bool) -> bool {
    let (a, b) = token(chars, start, end);
    let token: String = chars[a..b].iter().map(|(_, c)| *c).collect();
    if !clue_id_shaped(&token) {
        return false;
    }
    let before: String = chars[a.saturating_sub(8)..a].iter().map(|(_, c)| *c).collect();
    !personal || ["/clues/", "/papers/", "cursor="].iter().any(|p| before.ends_with(p))
}

/// searchlight's own BLAKE3 hashes as it prints them: 16 to 64 lowercase hex digits.
fn hash_shaped(s: &str) -> bool {
    (16..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// `C` and 16 lower-case hex digits: the shape of a clue id.
fn clue_id_shaped(s: &str) -> bool {
    s.len() == 17 && s.starts_with('C') && s[1..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// Whether the digits at `i` are a run id's time (`R20261206072851-3874`): never anyone's number.
fn run_id(chars: &[(usize, char)], i: usize) -> bool {
    if i == 0 || chars[i - 1].1 != 'R' || (i >= 2 && chars[i - 2].1.is_ascii_alphanumeric()) {
        return false;
    }
    // R, a 14-digit UTC time, `-`, and a short lower-case hex salt
    let time_ok = (0..14).all(|k| chars.get(i + k).is_some_and(|(_, c)| c.is_ascii_digit()));
    if !time_ok || chars.get(i + 14).is_none_or(|(_, c)| *c != '-') {
        return false;
    }
    let salt = chars[i + 15..].iter().take_while(|(_, c)| c.is_ascii_digit() || matches!(c, 'a'..='f')).count();
    (4..=8).contains(&salt) && chars.get(i + 15 + salt).is_none_or(|(_, c)| !c.is_ascii_alphanumeric())
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
    fn a_hash_that_happens_to_be_all_digits_is_not_an_account() {
        let r = Redactor { grant: Grant::Masked };
        let doc = r#"{"evidence_key":"6228480004959729","version":"6228480004959729","note":"6228480004959729"}"#;
        let v: serde_json::Value = serde_json::from_str(&r.json(doc).unwrap()).unwrap();
        assert_eq!(v["evidence_key"], "6228480004959729");
        assert_eq!(v["version"], "6228480004959729");
        assert_ne!(v["note"], "6228480004959729", "the same digits elsewhere are an account: {v}");
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
    fn numbers_are_masked_by_what_they_are_not_by_what_precedes_them() {
        for (s, masked) in [
            // a list numbered 1. 2. in a note or a reason
            ("1.340524194112207458 2.6228480007159216063", "1.340524********7458 2.622848*********6063"),
            ("622848 0007159216063", "622848*********6063"),
            ("340524_19411220_7458", "340524********7458"),
            ("340524/19411220/7458", "340524********7458"),
            ("6228.4800.0715.9216063", "622848*********6063"),
            ("340524\t19411220\t7458", "340524********7458"),
            ("6,228,480,007,159,216,063", "622848*********6063"),
            ("账户C6228480007159216", "账户C622848******9216"),
            // an ID column cleaned of its blanks runs the list together
            ("1.3708021956072849472.6254884350102267831", "1.370802****************************7831"),
        ] {
            assert_eq!(m(s), masked, "{s}");
        }
        // what stays: decimals, searchlight's own run and clue ids, short numbers
        for s in [
            "0.3333333333333333",
            "0.30000000000000004",
            "R20261206072851-3874",
            "运行 R20261206071621-71c8 已撤回",
            "C1234567890123456",
            // a clue id whose digits would be an account (Luhn) or an old 15-digit ID, in a
            // workbench address
            "/clues/C6228480007159216",
            "<a href=\"/papers/Cc340524800101001\">",
            "/clues?cursor=C6228480007159216&limit=50",
            "2025.12.31",
            "192.168.100.200",
            "336,049,621.00 元",
        ] {
            assert_eq!(m(s), s, "{s}");
        }
    }

    #[test]
    fn json_stays_json_and_only_personal_values_are_masked() {
        let r = Redactor::masking();
        let out = r.json("[{\"n\":340524194112207458,\"fen\":123456789012345678,\"invoice\":\"12345678901234567890\",\"note\":\"1.6228480007159216063\"}]\n").unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).expect("still JSON");
        assert_eq!(v[0]["n"], "340524********7458");
        assert_eq!(v[0]["fen"], 123456789012345678u64, "an amount is no one's number");
        assert_eq!(v[0]["invoice"], "12345678901234567890");
        assert_eq!(v[0]["note"], "1.622848*********6063");
        assert!(out.ends_with('\n'));
        assert_eq!(r.json("共 3 条"), None);
        // a clue id whose digits read as an account stays whole where its key says it is one;
        // the same text in a note, or a clue id's shape under another key, is masked
        let out = r
            .json("{\"clue_id\":\"C6228480007159216\",\"next\":\"C6228480007159216\",\"note\":\"C6228480007159216\",\"raw\":\"C6228480007159216\"}")
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!((v["clue_id"].as_str(), v["next"].as_str()), (Some("C6228480007159216"), Some("C6228480007159216")));
        assert_eq!((v["note"].as_str(), v["raw"].as_str()), (Some("C622848******9216"), Some("C622848******9216")));
        // accounts run together by a column cleaned of its blanks
        let out = r.json("{\"a\":\"1.62284800071592160632.6228480007159216063\"}").unwrap();
        assert!(!out.contains("0007159216063"), "{out}");
    }

    #[test]
    fn masking_what_was_masked_changes_nothing() {
        // found by `cargo fuzz run codes`: a masked 19-digit run after two short groups
        let once = m("419524-1968-1127080294022100013");
        assert_eq!(once, "419524*******************0013");
        assert_eq!(m(&once), once);
        // … and the digits after a masked number's stars do not start another
        for s in ["932410********8001 10018001 1001x", "340524********0118 2024 0101 0013"] {
            assert_eq!(m(s), s);
        }
    }
}
