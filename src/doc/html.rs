//! A document as one self-contained HTML page: a minijinja template (escaping by default),
//! inline CSS laid out for A4 print, inline SVG charts, no scripts, and a Content-Security-
//! Policy that forbids any request — the page opens the same offline as on the intranet.

use serde::Serialize;

use super::{Block, Cell, Document, Section, Table};

const CSS: &str = r#"
@page { size: A4; margin: 16mm 14mm; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif; max-width: 1200px; margin: 1.5em auto; padding: 0 1em; line-height: 1.55; color: #111; font-size: 10.5pt; }
h1 { font-size: 18pt; text-align: center; margin: .2em 0 .6em; }
h2 { font-size: 14pt; border-bottom: 2px solid #2b579a; padding-bottom: .1em; margin-top: 1.4em; break-after: avoid; }
h3 { font-size: 12pt; margin-top: 1.1em; break-after: avoid; }
h4, h5, h6 { font-size: 11pt; break-after: avoid; }
table { border-collapse: collapse; margin: .4em 0 .8em; width: 100%; font-size: 9pt; }
caption { text-align: left; font-weight: bold; padding: .2em 0; }
td, th { border: 1px solid #999; padding: .15em .4em; vertical-align: top; overflow-wrap: anywhere; }
th { white-space: nowrap; }
td.t { min-width: 4.5em; }
td.w { min-width: 10em; }
table.narrow { width: auto; min-width: 40%; }
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
nav { display: flex; flex-wrap: wrap; gap: .2em 1.2em; border-bottom: 1px solid #ccd; padding: .3em 0; margin-bottom: .8em; }
nav a { text-decoration: none; white-space: nowrap; }
nav .who { margin-left: auto; color: #555; white-space: nowrap; }
form { margin: .5em 0 1em; padding: .5em .7em; border: 1px solid #ccd; border-radius: 4px; background: #fafbfd; }
form .fields { display: flex; flex-wrap: wrap; gap: .4em 1em; align-items: flex-end; }
form label { display: flex; flex-direction: column; font-size: 9pt; color: #333; min-width: 8em; }
form label.wide { flex-basis: 100%; }
form legend, form .legend { font-weight: bold; margin-bottom: .3em; }
input, select, textarea { font: inherit; padding: .2em .3em; border: 1px solid #999; border-radius: 3px; }
textarea { width: 100%; min-height: 3em; box-sizing: border-box; }
button { font: inherit; padding: .25em 1em; border: 1px solid #2b579a; background: #2b579a; color: #fff; border-radius: 3px; cursor: pointer; }
.scroll { overflow-x: auto; }
@media (max-width: 600px) { body { margin: .5em; font-size: 10pt; } form label { min-width: 45%; } td, th { padding: .15em .25em; } }
@media print { a { color: inherit; text-decoration: none; } body { margin: 0; padding: 0; max-width: none; } nav, form { display: none; } td.w { min-width: 7em; } }
"#;

const TEMPLATE: &str = r#"<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ css|safe }}</style></head>
<body>
{% if nav %}<nav>{% for l in nav %}{% if l[1] %}<a href="{{ l[1] }}">{{ l[0] }}</a>{% else %}<span class="who">{{ l[0] }}</span>{% endif %}{% endfor %}</nav>{% endif %}
<h1>{{ title }}</h1>
{% if meta %}<dl>{% for kv in meta %}<dt>{{ kv[0] }}</dt><dd>{{ kv[1] }}</dd>{% endfor %}</dl>{% endif %}
{% for n in notices %}<p class="notice">{{ n }}</p>
{% endfor %}
{% for s in sections recursive %}<section{% if s.id %} id="{{ s.id }}"{% endif %}{% if s.class %} class="{{ s.class }}"{% endif %}>
<h{{ [loop.depth + 1, 6]|min }}>{{ s.title }}</h{{ [loop.depth + 1, 6]|min }}>
{% for b in s.blocks %}{% if b.kind == "para" %}<p>{{ b.text }}</p>
{% elif b.kind == "list" %}<ul>{% for i in b.items %}<li>{{ i }}</li>{% endfor %}</ul>
{% elif b.kind == "form" %}<form action="{{ b.form.action }}" method="{{ b.form.method }}">{% if b.form.legend %}<div class="legend">{{ b.form.legend }}</div>{% endif %}<div class="fields">
{% for f in b.form.fields %}{% if f.kind == "hidden" %}<input type="hidden" name="{{ f.name }}" value="{{ f.value }}">
{% elif f.kind == "textarea" %}<label class="wide">{{ f.label }}<textarea name="{{ f.name }}"{% if f.required %} required{% endif %}>{{ f.value }}</textarea></label>
{% elif f.kind == "select" %}<label>{{ f.label }}<select name="{{ f.name }}">{% for o in f.options %}<option value="{{ o[0] }}"{% if o[0] == f.value %} selected{% endif %}>{{ o[1] }}</option>{% endfor %}</select></label>
{% elif f.kind == "checkbox" %}<label><span><input type="checkbox" name="{{ f.name }}" value="1"{% if f.value %} checked{% endif %}> {{ f.label }}</span></label>
{% elif f.kind == "number" %}<label>{{ f.label }}<input type="text" inputmode="decimal" name="{{ f.name }}" value="{{ f.value }}"{% if f.required %} required{% endif %}></label>
{% else %}<label>{{ f.label }}<input type="{{ f.kind }}" name="{{ f.name }}" value="{{ f.value }}"{% if f.required %} required{% endif %}></label>
{% endif %}{% endfor %}<button type="submit">{{ b.form.submit }}</button></div></form>
{% elif b.kind == "table" %}<div class="scroll"><table{% if b.head|length <= 2 %} class="narrow"{% endif %}>{% if b.caption %}<caption>{{ b.caption }}</caption>{% endif %}<thead><tr>{% for h in b.head %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for r in b.rows %}<tr>{% for c in r %}<td{% if c.num %} class="n"{% elif c.short %} class="s"{% elif b.wide[loop.index0] %} class="w"{% else %} class="t"{% endif %}>{% if c.href %}<a href="{{ c.href }}">{{ c.text }}</a>{% else %}{{ c.text }}{% endif %}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>{% if b.more %}<p class="more">{{ b.more }}</p>{% endif %}
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

#[derive(Serialize, Default)]
struct BlockView {
    kind: &'static str,
    /// Per column: its texts run long (titles, names) — it gets room for ten characters, so a
    /// Chinese title never wraps a character per line beside a column of long codes.
    wide: Vec<bool>,
    form: Option<super::Form>,
    text: Option<String>,
    items: Vec<String>,
    caption: Option<String>,
    head: Vec<String>,
    rows: Vec<Vec<CellView>>,
    /// How many more rows the workbook has than the page shows.
    more: Option<String>,
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

/// `2025-12-31`.
fn is_date(s: &str) -> bool {
    s.len() == 10 && s.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() })
}

/// A link that stays in the page (`#…`) or on the same server (`/…`, not `//host`).
fn same_origin(href: &str) -> bool {
    href.starts_with('#') || (href.starts_with('/') && !href.starts_with("//") && !href.contains('\\'))
}

/// The columns whose texts are long: the longest of them has more than eight characters, and
/// they are mostly not numbers or codes.
fn wide_columns(t: &Table) -> Vec<bool> {
    (0..t.head.len())
        .map(|i| {
            let texts: Vec<String> =
                t.on_page().0.iter().filter_map(|r| r.get(i)).filter(|c| !c.is_number()).map(Cell::text).collect();
            let wordy = texts.iter().filter(|s| !s.is_ascii()).count();
            texts.iter().any(|s| s.chars().count() > 8) && wordy * 2 >= texts.len()
        })
        .collect()
}

fn table(t: &Table, kind: &'static str) -> BlockView {
    BlockView {
        wide: wide_columns(t),
        form: None,
        kind,
        text: None,
        items: vec![],
        caption: t.caption.clone(),
        head: t.head.clone(),
        more: t.on_page().1,
        rows: t
            .on_page()
            .0
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| CellView {
                        // a few characters, or a date: kept on one line
                        short: c.text().chars().count() <= 4 || is_date(&c.text()),
                        text: c.text(),
                        href: match c {
                            // only links inside the page or to the workbench's own pages:
                            // nothing may reach out
                            Cell::Link { href, .. } if same_origin(href) => Some(href.clone()),
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
                    wide: vec![],
                    form: None,
                    kind: "para",
                    text: Some(text.clone()),
                    items: vec![],
                    caption: None,
                    head: vec![],
                    rows: vec![],
                    more: None,
                    svg: None,
                },
                Block::List { items } => BlockView {
                    wide: vec![],
                    form: None,
                    kind: "list",
                    text: None,
                    items: items.clone(),
                    caption: None,
                    head: vec![],
                    rows: vec![],
                    more: None,
                    svg: None,
                },
                Block::Table(t) => table(t, "table"),
                Block::Form(f) => BlockView { kind: "form", form: Some(f.clone()), ..Default::default() },
                Block::Figure(f) => BlockView {
                    wide: vec![],
                    form: None,
                    kind: "figure",
                    text: None,
                    items: vec![],
                    caption: Some(f.caption.clone()),
                    head: vec![],
                    rows: vec![],
                    more: None,
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
    let nav: Vec<(String, String)> =
        d.nav.iter().map(|(l, h)| (l.clone(), if same_origin(h) { h.clone() } else { String::new() })).collect();
    Ok(t.render(minijinja::context! {
        nav => nav,
        title => d.title,
        meta => d.meta,
        notices => d.notices,
        sections => sections,
        css => CSS,
    })?)
}
