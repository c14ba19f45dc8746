//! The "Excel" files web systems hand over: an HTML table saved as `.xls` (GBK or UTF-8, a
//! `<meta charset>`, title rows above the header, `&nbsp;` for empty cells, cells spanning
//! rows and columns). Read as a grid of text, the way a workbook sheet is: a spanned cell's text
//! fills its whole span, as a merged cell's value does.
//!
//! A tolerant reader of tables only, not an HTML parser: tags other than the table's are
//! dropped, unclosed cells end at the next cell or row, and nothing it meets can make it fail
//! or allocate beyond the input's size times the spans it declares (capped).

/// The largest span honoured (a `colspan="100000"` in a hostile file is cut to it).
const MAX_SPAN: usize = 256;
/// The largest grid built (rows × columns).
const MAX_CELLS: usize = 50_000_000;

/// Whether the bytes are an HTML document holding a table (whatever the file's extension).
pub fn looks_like_html(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let start = lower.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
    lower[start..].starts_with(b"<") && memchr::memmem::find(&lower, b"<table").is_some()
        || memchr::memmem::find(&lower, b"<html").is_some() && memchr::memmem::find(bytes, b"<table").is_some()
}

/// The document as text: a UTF-8 BOM, else the charset its `<meta>` names, else UTF-8 when it
/// is valid UTF-8, else GB 18030. Returns the text and the encoding used.
pub fn decode(bytes: &[u8]) -> (String, &'static str) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return (String::from_utf8_lossy(rest).into_owned(), "utf-8");
    }
    let head: String = bytes[..bytes.len().min(4096)].iter().map(|b| b.to_ascii_lowercase() as char).collect();
    let charset = head.find("charset").map(|i| {
        head[i + 7..]
            .trim_start_matches(['=', ' ', '"', '\''])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>()
    });
    let gb = matches!(charset.as_deref(), Some("gbk" | "gb2312" | "gb18030" | "x-gbk" | "cp936"));
    if !gb && std::str::from_utf8(bytes).is_ok() {
        return (String::from_utf8_lossy(bytes).into_owned(), "utf-8");
    }
    (encoding_rs::GB18030.decode(bytes).0.into_owned(), "gbk")
}

/// One cell as written: its text and spans.
struct Written {
    text: String,
    cols: usize,
    rows: usize,
}

/// The largest table of the document as a grid of text (spans filled), and its title, if any.
pub fn table(text: &str) -> (Vec<Vec<String>>, Option<String>) {
    let lower = text.to_ascii_lowercase();
    let title = lower.find("<title").and_then(|i| {
        let open = lower[i..].find('>')? + i + 1;
        let close = lower[open..].find("</title")? + open;
        Some(cell_text(&text[open..close])).filter(|t| !t.is_empty())
    });
    let mut best: Vec<Vec<Written>> = Vec::new();
    let mut current: Vec<Vec<Written>> = Vec::new();
    let mut row: Option<Vec<Written>> = None;
    let mut pos = 0;
    let bytes = lower.as_bytes();
    while let Some(off) = memchr::memchr(b'<', &bytes[pos..]) {
        let at = pos + off;
        let end = match memchr::memchr(b'>', &bytes[at..]) {
            Some(e) => at + e + 1,
            None => break,
        };
        let tag = &lower[at + 1..end - 1];
        let name: String = tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let closing = tag.starts_with('/');
        match (name.as_str(), closing) {
            ("table", false) => {
                current = Vec::new();
            }
            ("table", true) => {
                if let Some(r) = row.take() {
                    current.push(r);
                }
                if current.len() > best.len() {
                    best = std::mem::take(&mut current);
                }
            }
            ("tr", false) => {
                if let Some(r) = row.replace(Vec::new()) {
                    current.push(r);
                }
            }
            ("tr", true) => {
                if let Some(r) = row.take() {
                    current.push(r);
                }
            }
            ("td" | "th", false) => {
                // the cell runs to its closing tag, or the next cell or row
                let rest = &lower[end..];
                let stop = ["</td", "</th", "<td", "<th", "</tr", "<tr", "</table"]
                    .iter()
                    .filter_map(|t| rest.find(t))
                    .min()
                    .unwrap_or(rest.len());
                let span = |attr: &str| {
                    tag.find(attr)
                        .map(|i| {
                            tag[i + attr.len()..]
                                .trim_start_matches(['=', ' ', '"', '\''])
                                .chars()
                                .take_while(char::is_ascii_digit)
                                .collect::<String>()
                        })
                        .and_then(|n| n.parse::<usize>().ok())
                        .unwrap_or(1)
                        .clamp(1, MAX_SPAN)
                };
                row.get_or_insert_with(Vec::new).push(Written {
                    text: cell_text(&text[end..end + stop]),
                    cols: span("colspan"),
                    rows: span("rowspan"),
                });
                pos = end + stop;
                continue;
            }
            _ => {}
        }
        pos = end;
    }
    if let Some(r) = row.take() {
        current.push(r);
    }
    if current.len() > best.len() {
        best = current;
    }
    (grid(best), title)
}

/// Lays the written cells out, each span filled with its cell's text.
fn grid(rows: Vec<Vec<Written>>) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<Option<String>>> = Vec::new();
    let mut cells = 0usize;
    for (r, written) in rows.into_iter().enumerate() {
        while out.len() <= r {
            out.push(Vec::new());
        }
        let mut c = 0;
        for w in written {
            // the next column not taken by a span from above
            while out[r].get(c).is_some_and(Option::is_some) {
                c += 1;
            }
            for dr in 0..w.rows {
                for dc in 0..w.cols {
                    cells += 1;
                    if cells > MAX_CELLS {
                        return finish(out);
                    }
                    while out.len() <= r + dr {
                        out.push(Vec::new());
                    }
                    let line = &mut out[r + dr];
                    if line.len() <= c + dc {
                        line.resize(c + dc + 1, None);
                    }
                    line[c + dc] = Some(w.text.clone());
                }
            }
            c += w.cols;
        }
    }
    finish(out)
}

fn finish(rows: Vec<Vec<Option<String>>>) -> Vec<Vec<String>> {
    rows.into_iter().map(|r| r.into_iter().map(Option::unwrap_or_default).collect()).collect()
}

/// A cell's text: tags dropped (`<br>` a space), entities decoded, blanks collapsed.
fn cell_text(html: &str) -> String {
    let mut plain = String::with_capacity(html.len());
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => {
                in_tag = true;
                plain.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => plain.push(ch),
            _ => {}
        }
    }
    let decoded = entities(&plain);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `&nbsp;` `&amp;` `&lt;` `&gt;` `&quot;` `&#39;` `&#NNNN;` `&#xHHHH;`; anything else as written.
fn entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest[..rest.len().min(12)].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..end];
        let ch = match name {
            "nbsp" | "#160" => Some(' '),
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" | "#39" => Some('\''),
            n if n.starts_with("#x") || n.starts_with("#X") => {
                u32::from_str_radix(&n[2..], 16).ok().and_then(char::from_u32)
            }
            n if n.starts_with('#') => n[1..].parse::<u32>().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_web_export_reads_as_its_grid() {
        let html = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\"><title>发放明细</title></head><body>\
            <table border=1><tr><td colspan=3>清河县低保发放明细</td></tr>\
            <tr><th rowspan=2>序号</th><th colspan=2>户主</th></tr><tr><th>姓名</th><th>身份证号</th></tr>\
            <tr><td>1</td><td>张&nbsp;三</td><td>34052419800101001X</td></tr>\
            <tr><td>2<td>&#26446;四<td>&nbsp;</tr></table></body></html>";
        let (g, title) = table(html);
        assert_eq!(title.as_deref(), Some("发放明细"));
        assert_eq!(g[0], vec!["清河县低保发放明细"; 3]);
        assert_eq!(g[1], vec!["序号", "户主", "户主"]);
        assert_eq!(g[2], vec!["序号", "姓名", "身份证号"]);
        assert_eq!(g[3], vec!["1", "张 三", "34052419800101001X"]);
        assert_eq!(g[4], vec!["2", "李四", ""]);
        assert!(looks_like_html(html.as_bytes()));
        assert!(!looks_like_html(b"PK\x03\x04 a zip"));
        let (bytes, _, _) = encoding_rs::GBK.encode(html);
        assert_eq!(decode(&bytes), (html.to_string(), "gbk"));
    }

    #[test]
    fn hostile_spans_and_broken_markup_end_quietly() {
        let (g, _) = table("<table><tr><td colspan=99999999 rowspan=99999999>x</td></tr><tr><td>&#xFFFFFFFF;<td>&amp");
        assert!(g.len() <= MAX_SPAN + 1 && g[0].len() <= MAX_SPAN);
        let (g, _) = table("<table><tr><td>a</td");
        assert_eq!(g, vec![vec!["a"]]);
        assert!(table("").0.is_empty());
    }
}
