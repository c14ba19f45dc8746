//! A document as Markdown: headings by depth, pipe tables, figures as their data tables.

use super::{Block, Document, Section, Table};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn table(out: &mut String, t: &Table) {
    if let Some(c) = &t.caption {
        out.push_str(&format!("**{}**\n\n", cell(c)));
    }
    let cols = t.head.len().max(t.rows.iter().map(Vec::len).max().unwrap_or(0)).max(1);
    let mut head: Vec<String> = t.head.iter().map(|h| cell(h)).collect();
    head.resize(cols, String::new());
    out.push_str(&format!("| {} |\n", head.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(cols)));
    for r in &t.rows {
        let mut row: Vec<String> = r
            .iter()
            .map(|c| match c {
                super::Cell::Link { text, href } => format!("[{}]({})", cell(text), href),
                c => cell(&c.text()),
            })
            .collect();
        row.resize(cols, String::new());
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out.push('\n');
}

fn section(out: &mut String, s: &Section, depth: usize) {
    if let Some(id) = &s.id {
        out.push_str(&format!("<a id=\"{id}\"></a>\n\n"));
    }
    out.push_str(&format!("{} {}\n\n", "#".repeat(depth.min(6)), s.title));
    for b in &s.blocks {
        match b {
            Block::Para { text } => out.push_str(&format!("{text}\n\n")),
            Block::List { items } => {
                for i in items {
                    out.push_str(&format!("- {i}\n"));
                }
                out.push('\n');
            }
            Block::Table(t) => table(out, t),
            Block::Figure(f) => {
                let mut data = f.data.clone();
                data.caption = Some(f.caption.clone());
                table(out, &data);
            }
        }
    }
    for c in &s.sections {
        section(out, c, depth + 1);
    }
}

pub fn render(d: &Document) -> String {
    let mut out = format!("# {}\n\n", d.title);
    for (k, v) in &d.meta {
        out.push_str(&format!("- **{k}**：{v}\n"));
    }
    for n in &d.notices {
        out.push_str(&format!("\n> {n}\n"));
    }
    out.push('\n');
    for s in &d.sections {
        section(&mut out, s, 2);
    }
    out
}
