//! A document as one self-contained HTML page: a minijinja template (escaping by default),
//! inline CSS laid out for A4 print, inline SVG charts, no scripts, and a Content-Security-
//! Policy that forbids any request — the page opens the same offline as on the intranet.

use serde::Serialize;

use super::{Block, Cell, Document, Section, Table};

const CSS: &str = r#"
@page { size: A4; margin: 16mm 14mm; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif; max-width: 182mm; margin: 1.5em auto; line-height: 1.55; color: #111; font-size: 10.5pt; }
h1 { font-size: 18pt; text-align: center; margin: .2em 0 .6em; }
h2 { font-size: 14pt; border-bottom: 2px solid #2b579a; padding-bottom: .1em; margin-top: 1.4em; break-after: avoid; }
h3 { font-size: 12pt; margin-top: 1.1em; break-after: avoid; }
h4, h5, h6 { font-size: 11pt; break-after: avoid; }
table { border-collapse: collapse; margin: .4em 0 .8em; width: 100%; font-size: 9pt; }
caption { text-align: left; font-weight: bold; padding: .2em 0; }
td, th { border: 1px solid #999; padding: .15em .4em; vertical-align: top; overflow-wrap: break-word; }
th { background: #e8edf5; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.s { white-space: nowrap; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
dl { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; }
dt { font-weight: bold; }
dd { margin: 0; }
p.notice { border-left: 4px solid #c0392b; padding-left: .6em; color: #444; }
figure { margin: .6em 0; break-inside: avoid; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-weight: bold; font-size: 9.5pt; }
section.paper { break-before: page; }
a { color: #2b579a; }
@media print { a { color: inherit; text-decoration: none; } body { margin: 0; max-width: none; } }
"#;

const TEMPLATE: &str = r#"<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ css|safe }}</style></head>
<body>
<h1>{{ title }}</h1>
{% if meta %}<dl>{% for kv in meta %}<dt>{{ kv[0] }}</dt><dd>{{ kv[1] }}</dd>{% endfor %}</dl>{% endif %}
{% for n in notices %}<p class="notice">{{ n }}</p>
{% endfor %}
{% for s in sections recursive %}<section{% if s.id %} id="{{ s.id }}"{% endif %}{% if s.class %} class="{{ s.class }}"{% endif %}>
<h{{ [loop.depth + 1, 6]|min }}>{{ s.title }}</h{{ [loop.depth + 1, 6]|min }}>
{% for b in s.blocks %}{% if b.kind == "para" %}<p>{{ b.text }}</p>
{% elif b.kind == "list" %}<ul>{% for i in b.items %}<li>{{ i }}</li>{% endfor %}</ul>
{% elif b.kind == "table" %}<table>{% if b.caption %}<caption>{{ b.caption }}</caption>{% endif %}<thead><tr>{% for h in b.head %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for r in b.rows %}<tr>{% for c in r %}<td{% if c.num %} class="n"{% elif c.short %} class="s"{% endif %}>{% if c.href %}<a href="{{ c.href }}">{{ c.text }}</a>{% else %}{{ c.text }}{% endif %}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
{% elif b.kind == "figure" %}<figure>{{ b.svg|safe }}<figcaption>{{ b.caption }}</figcaption></figure>
{% endif %}{% endfor %}
{{ loop(s.sections) }}</section>
{% endfor %}
</body></html>
"#;

#[derive(Serialize)]
struct CellView {
    text: String,
    href: Option<String>,
    num: bool,
    /// A few characters: kept on one line.
    short: bool,
}

#[derive(Serialize)]
struct BlockView {
    kind: &'static str,
    text: Option<String>,
    items: Vec<String>,
    caption: Option<String>,
    head: Vec<String>,
    rows: Vec<Vec<CellView>>,
    svg: Option<String>,
}

#[derive(Serialize)]
struct SectionView {
    id: Option<String>,
    class: Option<&'static str>,
    title: String,
    blocks: Vec<BlockView>,
    sections: Vec<SectionView>,
}

fn table(t: &Table, kind: &'static str) -> BlockView {
    BlockView {
        kind,
        text: None,
        items: vec![],
        caption: t.caption.clone(),
        head: t.head.clone(),
        rows: t
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| CellView {
                        short: c.text().chars().count() <= 4,
                        text: c.text(),
                        href: match c {
                            // only links inside the page: nothing may reach out
                            Cell::Link { href, .. } if href.starts_with('#') => Some(href.clone()),
                            _ => None,
                        },
                        num: c.is_number(),
                    })
                    .collect()
            })
            .collect(),
        svg: None,
    }
}

fn section(s: &Section) -> SectionView {
    SectionView {
        id: s.id.clone(),
        class: s.id.as_deref().filter(|i| i.starts_with("paper-")).map(|_| "paper"),
        title: s.title.clone(),
        blocks: s
            .blocks
            .iter()
            .map(|b| match b {
                Block::Para { text } => BlockView {
                    kind: "para",
                    text: Some(text.clone()),
                    items: vec![],
                    caption: None,
                    head: vec![],
                    rows: vec![],
                    svg: None,
                },
                Block::List { items } => BlockView {
                    kind: "list",
                    text: None,
                    items: items.clone(),
                    caption: None,
                    head: vec![],
                    rows: vec![],
                    svg: None,
                },
                Block::Table(t) => table(t, "table"),
                Block::Figure(f) => BlockView {
                    kind: "figure",
                    text: None,
                    items: vec![],
                    caption: Some(f.caption.clone()),
                    head: vec![],
                    rows: vec![],
                    svg: Some(f.svg.clone()),
                },
            })
            .collect(),
        sections: s.sections.iter().map(section).collect(),
    }
}

pub fn render(d: &Document) -> anyhow::Result<String> {
    let mut env = minijinja::Environment::new();
    env.add_template("doc.html", TEMPLATE)?;
    let t = env.get_template("doc.html")?;
    let sections: Vec<SectionView> = d.sections.iter().map(section).collect();
    Ok(t.render(minijinja::context! {
        title => d.title,
        meta => d.meta,
        notices => d.notices,
        sections => sections,
        css => CSS,
    })?)
}
