//! Splitting text exports (CSV, NDJSON) into chunks at record boundaries, and decoding chunks
//! from their declared encoding with errors that name the line.
//!
//! The split works on raw bytes before decoding. That is sound for UTF-8, GBK and GB 18030
//! because none of their multi-byte sequences contain the bytes `"` (0x22) or `\n` (0x0A), so a
//! newline outside quotes is a record boundary in every supported encoding.
//!
//! "Outside quotes" is decided by the same rules `csv-core` parses by ([`Quotes`]): a `"` opens
//! a quoted field only at the start of a field, `""` inside one is a quote, and a `"` anywhere
//! else is an ordinary character. A stray quote inside an unquoted field therefore cannot shift
//! the boundaries, and a file is split the same way, record for record, whatever the chunk size.

use std::ops::Range;

use super::spec::Encoding;

/// Title rows and header are captured up to this many bytes.
const HEAD_LIMIT: usize = 16 << 20;
/// The first bytes of the data are kept for probing (NDJSON key checks).
const PROBE_LIMIT: usize = 1 << 20;

/// A chunk of a text file: a byte range that starts and ends on record boundaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Byte range in the file.
    pub range: Range<u64>,
    /// 1-based line number of the first byte of the chunk.
    pub first_line: u64,
}

/// Streaming scanner over a whole file: finds the header end, chunk boundaries and whether the
/// bytes are valid UTF-8, in one pass.
#[derive(Debug)]
pub struct Scanner {
    quotes: Option<Quotes>,
    target: u64,
    header_records: usize,
    records_seen: usize,
    offset: u64,
    line: u64,
    /// Bytes before the data (title rows + header row), captured for header parsing.
    pub head: Vec<u8>,
    head_done: bool,
    probe: Vec<u8>,
    chunk_start: u64,
    chunk_line: u64,
    chunks: Vec<Chunk>,
    detect_utf8: bool,
    utf8_ok: bool,
    utf8_carry: Vec<u8>,
    /// The first line that is not UTF-8, and its bytes in hex.
    not_utf8: Option<(u64, String)>,
    /// The longest a line may be (bytes), and where the current line starts.
    max_line: u64,
    line_start: u64,
    /// A line over `max_line`: its number and the bytes seen of it. The scan stops there.
    too_long: Option<(u64, u64)>,
}

impl Scanner {
    /// `delimiter`: the CSV field delimiter when `"` quoting can hide newlines (CSV), `None`
    /// when it cannot (NDJSON).
    /// `header_records`: records before the data (title rows + header).
    /// `target`: approximate chunk size in bytes.
    /// `detect_utf8`: whether to find out if the file is UTF-8 (only `encoding = "auto"` asks;
    /// a declared encoding is checked chunk by chunk when decoding).
    pub fn new(delimiter: Option<u8>, header_records: usize, target: u64, detect_utf8: bool) -> Self {
        Scanner {
            quotes: delimiter.map(Quotes::new),
            target: target.max(1),
            header_records,
            records_seen: 0,
            offset: 0,
            line: 1,
            head: Vec::new(),
            head_done: header_records == 0,
            probe: Vec::new(),
            chunk_start: 0,
            chunk_line: 1,
            chunks: Vec::new(),
            detect_utf8,
            utf8_ok: detect_utf8,
            utf8_carry: Vec::new(),
            not_utf8: None,
            max_line: crate::limits::max_line(),
            line_start: 0,
            too_long: None,
        }
    }

    /// Feeds the next block of the file.
    pub fn feed(&mut self, block: &[u8]) {
        if self.too_long.is_some() {
            return;
        }
        let base = self.offset;
        // where the file first stops being UTF-8 (an offset; its line is found below)
        let mut bad = if self.utf8_ok { self.check_utf8(block, base) } else { None };
        // no line longer than the limit: a hostile or broken file (one 1 GB line) would be one
        // chunk decoded whole, in many times its size. `self.line` counts the lines before
        // this block.
        let mut line = self.line;
        for hit in memchr::memchr_iter(b'\n', block) {
            let end = base + hit as u64;
            if let Some((_, bytes)) = bad.take_if(|(at, _)| *at < end) {
                self.not_utf8 = Some((line, bytes));
            }
            if end - self.line_start > self.max_line {
                self.too_long = Some((line, end - self.line_start));
                return;
            }
            self.line_start = end + 1;
            line += 1;
        }
        if let Some((_, bytes)) = bad {
            self.not_utf8 = Some((line, bytes));
        }
        if base + block.len() as u64 - self.line_start > self.max_line {
            self.too_long = Some((line, base + block.len() as u64 - self.line_start));
            return;
        }
        self.offset += block.len() as u64;
        let mut start = 0usize;
        if !self.head_done {
            // the head is small: walk it byte by byte
            let mut found = None;
            for (j, &b) in block.iter().enumerate() {
                let outside = self.quotes.as_mut().is_none_or(|q| q.step(b));
                if b == b'\n' {
                    self.line += 1;
                    if outside {
                        self.records_seen += 1;
                        if self.records_seen == self.header_records {
                            found = Some(j);
                            break;
                        }
                    }
                }
            }
            match found {
                Some(j) => {
                    if self.head.len() < HEAD_LIMIT {
                        self.head.extend_from_slice(&block[..=j]);
                    }
                    self.head_done = true;
                    self.chunk_start = base + j as u64 + 1;
                    self.chunk_line = self.line;
                    start = j + 1;
                }
                None => {
                    if self.head.len() < HEAD_LIMIT {
                        self.head.extend_from_slice(block);
                    }
                    return;
                }
            }
        }
        let rest = &block[start..];
        let rest_base = base + start as u64;
        if self.probe.len() < PROBE_LIMIT {
            let take = (PROBE_LIMIT - self.probe.len()).min(rest.len());
            self.probe.extend_from_slice(&rest[..take]);
        }
        if let Some(mut q) = self.quotes.take() {
            let mut j = 0;
            while j < rest.len() {
                // jump to the next `"` or newline: no other byte can open or close a quoted
                // field. Outside quotes the bytes jumped over leave the state their last byte
                // gives (a field start after a delimiter or record end, else inside a field).
                let skip = match q.state {
                    QuoteState::QuoteInQuoted => Some(0),
                    _ => memchr::memchr2(b'"', b'\n', &rest[j..]),
                };
                let outside = q.state != QuoteState::Quoted && q.state != QuoteState::QuoteInQuoted;
                let Some(k) = skip else {
                    if outside && j < rest.len() {
                        q.jumped(rest[rest.len() - 1]);
                    }
                    break;
                };
                if outside && k > 0 {
                    q.jumped(rest[j + k - 1]);
                }
                j += k;
                let b = rest[j];
                let outside = q.step(b);
                if b == b'\n' {
                    self.line += 1;
                    let abs = rest_base + j as u64 + 1;
                    if outside && abs - self.chunk_start >= self.target {
                        self.cut(abs);
                    }
                }
                j += 1;
            }
            self.quotes = Some(q);
        } else {
            for hit in memchr::memchr_iter(b'\n', rest) {
                self.line += 1;
                let abs = rest_base + hit as u64 + 1;
                if abs - self.chunk_start >= self.target {
                    self.cut(abs);
                }
            }
        }
    }

    fn cut(&mut self, end: u64) {
        self.chunks.push(Chunk { range: self.chunk_start..end, first_line: self.chunk_line });
        self.chunk_start = end;
        self.chunk_line = self.line;
    }

    /// Checks the next block for UTF-8 (`base`: its offset in the file); the offset and bytes
    /// (hex) of the first sequence that is not UTF-8, if the block has one.
    fn check_utf8(&mut self, block: &[u8], base: u64) -> Option<(u64, String)> {
        let mut data = std::mem::take(&mut self.utf8_carry);
        let start = base - data.len() as u64;
        let bytes: &[u8] = if data.is_empty() {
            block
        } else {
            data.extend_from_slice(block);
            &data
        };
        match simdutf8::compat::from_utf8(bytes) {
            Ok(_) => None,
            Err(e) if e.error_len().is_none() => {
                self.utf8_carry = bytes[e.valid_up_to()..].to_vec();
                None
            }
            Err(e) => {
                let at = e.valid_up_to();
                let bad = &bytes[at..(at + e.error_len().unwrap_or(1)).min(bytes.len())];
                let hex: Vec<String> = bad.iter().map(|b| format!("{b:02X}")).collect();
                self.utf8_ok = false;
                Some((start + at as u64, hex.join(" ")))
            }
        }
    }

    /// Whether what pass one needs to plan the file is known before the end: the header and the
    /// probe are complete and no encoding has to be detected from the whole file.
    pub fn ready(&self) -> bool {
        self.head_done && !self.detect_utf8 && self.probe.len() >= PROBE_LIMIT
    }

    /// What is known so far (call when [`Scanner::ready`]).
    pub fn peek(&self) -> Scan {
        Scan {
            head: self.head.clone(),
            probe: self.probe.clone(),
            header_complete: self.head_done,
            utf8: false,
            lines: self.line,
            not_utf8: None,
        }
    }

    /// A line longer than the limit, if the scan met one: its number, the bytes seen of it and
    /// the limit. Nothing of the file is landed then.
    pub fn too_long(&self) -> Option<(u64, u64, u64)> {
        self.too_long.map(|(line, bytes)| (line, bytes, self.max_line))
    }

    /// The chunks found since the last call.
    pub fn take_chunks(&mut self) -> Vec<Chunk> {
        std::mem::take(&mut self.chunks)
    }

    /// Ends the scan: the header bytes (if the header was complete), whether the whole file was
    /// valid UTF-8, and the chunks not yet taken.
    pub fn finish(mut self) -> (Scan, Vec<Chunk>) {
        if self.too_long.is_none() && self.head_done && self.offset > self.chunk_start {
            let end = self.offset;
            self.chunks.push(Chunk { range: self.chunk_start..end, first_line: self.chunk_line });
        }
        let scan = Scan {
            head: self.head,
            probe: self.probe,
            header_complete: self.head_done,
            utf8: self.detect_utf8 && self.utf8_ok && self.utf8_carry.is_empty(),
            lines: self.line,
            not_utf8: self.not_utf8,
        };
        (scan, self.chunks)
    }
}

/// Where a CSV parser is within a record, by `csv-core`'s rules (double-quote escaping, no
/// escape character, any of `\r`, `\n`, `\r\n` ends a record).
#[derive(Debug, Clone, Copy)]
pub struct Quotes {
    delimiter: u8,
    state: QuoteState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    /// At the start of a field: a `"` here opens a quoted field.
    FieldStart,
    /// Inside an unquoted field: a `"` is an ordinary character.
    Unquoted,
    /// Inside a quoted field: newlines and delimiters are data.
    Quoted,
    /// Just after a `"` inside a quoted field: `"` again is an escaped quote, else it closed.
    QuoteInQuoted,
}

impl Quotes {
    pub fn new(delimiter: u8) -> Self {
        Quotes { delimiter, state: QuoteState::FieldStart }
    }

    /// Takes one byte; true when the byte is outside any quoted field (so a `\n` ends a record).
    #[inline]
    pub fn step(&mut self, b: u8) -> bool {
        use QuoteState::*;
        let ends = |b: u8| b == b'\n' || b == b'\r';
        self.state = match (self.state, b) {
            (Quoted, b'"') => QuoteInQuoted,
            (Quoted, _) => Quoted,
            (QuoteInQuoted, b'"') => Quoted,
            (FieldStart, b'"') => Quoted,
            (_, b) if b == self.delimiter || ends(b) => FieldStart,
            _ => Unquoted,
        };
        self.state != Quoted
    }

    /// The state after ordinary bytes outside quotes (no `"`, no `\n`) ending with `last`.
    #[inline]
    fn jumped(&mut self, last: u8) {
        self.state =
            if last == self.delimiter || last == b'\r' { QuoteState::FieldStart } else { QuoteState::Unquoted };
    }
}

/// What a [`Scanner`] found.
#[derive(Debug)]
pub struct Scan {
    /// Title rows and header row, raw bytes.
    pub head: Vec<u8>,
    /// The first bytes of the data (up to 1 MiB).
    pub probe: Vec<u8>,
    /// Whether all header records were seen.
    pub header_complete: bool,
    /// Whether the whole file is valid UTF-8 (false unless the scanner was asked to detect it).
    pub utf8: bool,
    /// Lines seen (1 + newlines).
    pub lines: u64,
    /// Where a file checked for UTF-8 first is not: its line and the bytes (hex).
    pub not_utf8: Option<(u64, String)>,
}

/// Resolves `auto` from the scan: UTF-8 when the file is valid UTF-8 (or starts with a UTF-8
/// BOM), GB 18030 otherwise.
pub fn resolve(declared: Encoding, head: &[u8], utf8: bool) -> Encoding {
    match declared {
        Encoding::Auto if head.starts_with(b"\xEF\xBB\xBF") || utf8 => Encoding::Utf8,
        Encoding::Auto => Encoding::Gb18030,
        other => other,
    }
}

/// Whether bytes begin with a UTF-16 byte-order mark.
pub fn utf16_bom(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF")
}

/// A whole UTF-16 file as UTF-8 text (little-endian unless its BOM says big); an unpaired
/// surrogate is an error naming its line.
fn decode_utf16(bytes: &[u8], first_line: u64) -> Result<std::borrow::Cow<'static, str>, DecodeError> {
    let (enc, body) = if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        (encoding_rs::UTF_16BE, rest)
    } else {
        (encoding_rs::UTF_16LE, bytes.strip_prefix(b"\xFF\xFE").unwrap_or(bytes))
    };
    strict(enc, body).map(std::borrow::Cow::Owned).map_err(|(start, len, lines)| DecodeError {
        line: first_line + lines,
        bytes: body[start..(start + len).min(body.len())]
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(" "),
    })
}

/// Decodes without replacement: the text, or where the first bad bytes are (start, length) and
/// how many lines decoded before them.
fn strict(enc: &'static encoding_rs::Encoding, bytes: &[u8]) -> Result<String, (usize, usize, u64)> {
    let mut decoder = enc.new_decoder_without_bom_handling();
    let cap = decoder.max_utf8_buffer_length_without_replacement(bytes.len()).unwrap_or(bytes.len() * 3);
    let mut out = String::with_capacity(cap);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => Ok(out),
        encoding_rs::DecoderResult::Malformed(bad, extra) => {
            let end = read - extra as usize;
            Err((end.saturating_sub(bad as usize), bad as usize, out.matches('\n').count() as u64))
        }
        encoding_rs::DecoderResult::OutputFull => unreachable!("the buffer holds the worst case"),
    }
}

/// A chunk that does not decode: 1-based line and the offending bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Line of the first undecodable byte.
    pub line: u64,
    /// Up to four offending bytes, hex.
    pub bytes: String,
}

/// Decodes a chunk to UTF-8 text. `first_line` numbers the chunk's first line.
pub fn decode(bytes: &[u8], encoding: Encoding, first_line: u64) -> Result<std::borrow::Cow<'_, str>, DecodeError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let bad_at = |pos: usize, len: usize| DecodeError {
        line: first_line + memchr::memchr_iter(b'\n', &bytes[..pos]).count() as u64,
        bytes: bytes[pos..(pos + len.max(1)).min(bytes.len())]
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(" "),
    };
    match encoding {
        Encoding::Utf16 => decode_utf16(bytes, first_line),
        // UTF-8 needs no copy: validate (SIMD) and borrow; std's validator finds the position
        Encoding::Utf8 | Encoding::Auto => match simdutf8::basic::from_utf8(bytes) {
            Ok(s) => Ok(std::borrow::Cow::Borrowed(s)),
            Err(_) => match std::str::from_utf8(bytes) {
                Ok(s) => Ok(std::borrow::Cow::Borrowed(s)),
                Err(e) => Err(bad_at(e.valid_up_to(), e.error_len().unwrap_or(1))),
            },
        },
        Encoding::Gbk | Encoding::Gb18030 => strict(encoding_rs::GB18030, bytes)
            .map(std::borrow::Cow::Owned)
            .map_err(|(start, len, _)| bad_at(start, len)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(data: &[u8], quoted: bool, header: usize, target: u64, block: usize) -> (Scan, Vec<Chunk>) {
        let mut s = Scanner::new(quoted.then_some(b','), header, target, true);
        let mut chunks = Vec::new();
        for b in data.chunks(block) {
            s.feed(b);
            chunks.extend(s.take_chunks());
        }
        let (scan, rest) = s.finish();
        chunks.extend(rest);
        (scan, chunks)
    }

    #[test]
    fn chunks_cover_the_data_and_respect_quotes() {
        let data = b"title\nh1,h2\na,1\n\"b\nstill b\",2\nc,3\nd,4\n";
        for block in [1, 2, 3, 7, 100] {
            let (s, chunks) = scan(data, true, 2, 4, block);
            assert_eq!(s.head, b"title\nh1,h2\n", "block {block}");
            let ranges: Vec<_> = chunks.iter().map(|c| (c.range.clone(), c.first_line)).collect();
            assert_eq!(ranges, vec![(12..16, 3), (16..30, 4), (30..34, 6), (34..38, 7)], "block {block}");
            assert!(s.utf8);
        }
    }

    #[test]
    fn a_stray_quote_inside_an_unquoted_field_is_data() {
        // `5"` is an inch mark, not a quote: csv-core reads it as data, and so must the split
        let data = b"h1,h2\na,5\"\nb,2\n\"c\nc\",3\nd,x\"y\n";
        for target in 1..8 {
            for block in [1, 3, 100] {
                let (_, chunks) = scan(data, true, 1, target, block);
                let starts: Vec<u64> = chunks.iter().map(|c| c.range.start).collect();
                for s in &starts {
                    assert!([6u64, 11, 15, 23].contains(s), "target {target} block {block}: cut at {s} {starts:?}");
                }
            }
        }
        let (_, chunks) = scan(data, true, 1, 1, 2);
        assert_eq!(chunks.iter().map(|c| c.first_line).collect::<Vec<_>>(), vec![2, 3, 4, 6]);
    }

    #[test]
    fn one_chunk_when_small_and_last_line_without_newline() {
        let (_, chunks) = scan(b"h\nx\ny", true, 1, 1 << 20, 4);
        assert_eq!(chunks, vec![Chunk { range: 2..5, first_line: 2 }]);
        let (_, chunks) = scan(b"h\n", true, 1, 1 << 20, 4);
        assert!(chunks.is_empty());
        let (s, _) = scan(b"", true, 1, 1 << 20, 4);
        assert!(!s.header_complete);
    }

    #[test]
    fn utf8_detection_across_blocks() {
        let text = "身份证号\n张三\n".as_bytes();
        assert!(scan(text, true, 1, 100, 1).0.utf8);
        let (gbk, _, _) = encoding_rs::GBK.encode("身份证号\n张三\n");
        assert!(!scan(&gbk, true, 1, 100, 3).0.utf8);
        assert_eq!(resolve(Encoding::Auto, &gbk, false), Encoding::Gb18030);
        assert_eq!(resolve(Encoding::Auto, b"\xEF\xBB\xBFa", true), Encoding::Utf8);
    }

    #[test]
    fn decode_errors_name_the_line() {
        let (mut gbk, _, _) = encoding_rs::GBK.encode("姓名\n张三\n李四\n");
        let gbk = gbk.to_mut();
        gbk.extend_from_slice(b"\x80\xFF\n");
        assert_eq!(decode(gbk, Encoding::Gbk, 10).unwrap_err().line, 13);
        let (ok, _, _) = encoding_rs::GBK.encode("姓名\n张三\n");
        assert_eq!(decode(&ok, Encoding::Gbk, 1).unwrap(), "姓名\n张三\n");
        let err = decode(b"ok\n\xFFbad\n", Encoding::Utf8, 1).unwrap_err();
        assert_eq!(err, DecodeError { line: 2, bytes: "FF".into() });
    }
}

#[cfg(test)]
mod crlf_tests {
    use super::*;

    #[test]
    fn title_rows_with_crlf() {
        let mut s = Scanner::new(Some(b','), 2, 1 << 20, true);
        s.feed(b"title\r\nh1,h2\r\na,1\r\nb,2\r\n");
        let (_, chunks) = s.finish();
        assert_eq!(chunks, vec![Chunk { range: 14..24, first_line: 3 }]);
    }
}
