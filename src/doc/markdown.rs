//! A document as Markdown: headings by depth, pipe tables, figures as their data tables.

use super::{Block, Document, Section, Table};

/// Text from exports and reasons as Markdown shows it, never as markup that runs or links: HTML
/// (`<script>`, `<img onerror>`), links and images (`[..](javascript:..)`), entities and a line
/// starting a heading are escaped. Emphasis is left alone — it only changes how text looks, and
/// escaping it would litter every masked number (`340524********7458`).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let body = line.trim_start();
        out.push_str(&line[..line.len() - body.len()]);
        if body.starts_with('#') {
            out.push('\\');
        }
        for c in body.chars() {
            if matches!(c, '\\' | '[' | ']' | '<' | '>' | '|' | '&' | '`') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

fn cell(s: &str) -> String {
    text(&s.replace('\n', " "))
}

/// A link target of ours (`#paper-C1`, http(s)); anything else is not made a link.
fn safe_href(href: &str) -> Option<String> {
    let ok = href.starts_with('#') || href.starts_with("https://") || href.starts_with("http://");
    ok.then(|| href.replace(' ', "%20").replace('(', "%28").replace(')', "%29").replace('<', "%3C").replace('>', "%3E"))
}

fn table(out: &mut String, t: &Table) {
    if let Some(c) = &t.caption {
        out.push_str(&format!("**{}**\n\n", cell(c)));
    }
    let (rows, more) = t.on_page();
    let cols = t.head.len().max(rows.iter().map(Vec::len).max().unwrap_or(0)).max(1);
    let mut head: Vec<String> = t.head.iter().map(|h| cell(h)).collect();
    head.resize(cols, String::new());
    out.push_str(&format!("| {} |\n", head.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(cols)));
    for r in rows {
        let mut row: Vec<String> = r
            .iter()
            .map(|c| match c {
                super::Cell::Link { text, href } => match safe_href(href) {
                    Some(h) => format!("[{}]({h})", cell(text)),
                    None => cell(text),
                },
                c => cell(&c.text()),
            })
            .collect();
        row.resize(cols, String::new());
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out.push('\n');
    if let Some(more) = more {
        out.push_str(&format!("{}\n\n", cell(&more)));
    }
}

fn section(out: &mut String, s: &Section, depth: usize) {
    if let Some(id) = &s.id {
        out.push_str(&format!("<a id=\"{id}\"></a>\n\n"));
    }
    out.push_str(&format!("{} {}\n\n", "#".repeat(depth.min(6)), cell(&s.title)));
    for b in &s.blocks {
        match b {
            Block::Para { text: t } => out.push_str(&format!("{}\n\n", text(t))),
            Block::List { items } => {
                for i in items {
                    out.push_str(&format!("- {}\n", cell(i)));
                }
                out.push('\n');
            }
            Block::Table(t) => table(out, t),
            Block::Figure(f) => {
                let mut data = f.data.clone();
                data.caption = Some(f.caption.clone());
                table(out, &data);
            }
            Block::Form(_) => {}
        }
    }
    for c in &s.sections {
        section(out, c, depth + 1);
    }
}

pub fn render(d: &Document) -> String {
    let mut out = format!("# {}\n\n", cell(&d.title));
    for (k, v) in &d.meta {
        out.push_str(&format!("- **{}**：{}\n", cell(k), cell(v)));
    }
    for n in &d.notices {
        out.push_str(&format!("\n> {}\n", cell(n)));
    }
    out.push('\n');
    for s in &d.sections {
        section(&mut out, s, 2);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn export_values_never_become_markup() {
        assert_eq!(text("<script>alert(1)</script>"), "\\<script\\>alert(1)\\</script\\>");
        assert_eq!(text("[点我](javascript:alert(1))"), "\\[点我\\](javascript:alert(1))");
        assert_eq!(text("![x](y) <img src=x onerror=alert(1)>"), "!\\[x\\](y) \\<img src=x onerror=alert(1)\\>");
        assert_eq!(text("# 标题\n> 引用"), "\\# 标题\n\\> 引用");
        assert_eq!(
            text("张三 340524********7458 领取 -1,200.00 元 (2025-03)"),
            "张三 340524********7458 领取 -1,200.00 元 (2025-03)"
        );
        assert_eq!(text("a &lt; b"), "a \\&lt; b");
    }
}
