//! One document model — sections, paragraphs, lists, tables, figures — for everything
//! searchlight hands to people: working papers (问题底稿), pre-inspection briefs (巡前情况通报)
//! and, later, mail digests. Built once, rendered to Markdown, HTML (a template engine that
//! escapes by default; inline CSS and SVG, no scripts, laid out for A4) and xlsx, so the three
//! never disagree. ID numbers are masked by [`Document::redact`], the one redactor's pass over
//! every text of the document, before any rendering.

mod chart;
mod html;
mod markdown;
mod xlsx;

use serde::Serialize;

pub use crate::codes::text::{fen_of, money_fen};
pub use chart::{Series, bars};

/// Output format of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Md,
    Html,
    Xlsx,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Md => "md",
            Format::Html => "html",
            Format::Xlsx => "xlsx",
        }
    }
}

/// A document: a title, a few labelled facts under it, notices, and sections.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Document {
    /// A page's navigation (label, path) — pages of the workbench only; files have none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nav: Vec<(String, String)>,
    pub title: String,
    pub meta: Vec<(String, String)>,
    /// Short notices shown under the facts (身份证号已脱敏 …).
    pub notices: Vec<String>,
    pub sections: Vec<Section>,
}

/// A section with its own subsections; its depth gives its heading level.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Section {
    /// Anchor for links inside the document.
    pub id: Option<String>,
    pub title: String,
    pub blocks: Vec<Block>,
    pub sections: Vec<Section>,
    /// Left out of the workbook (a brief's embedded working papers: the workbook is for rows,
    /// the papers have their own).
    pub not_in_workbook: bool,
}

/// A block of content.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Block {
    Para {
        text: String,
    },
    List {
        items: Vec<String>,
    },
    Table(Table),
    Figure(Figure),
    /// A form of the workbench (HTML only; Markdown and xlsx leave it out).
    Form(Form),
}

/// A form: where it goes, its fields and its button. A form that changes something carries the
/// session's form token as a hidden field.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Form {
    pub action: String,
    /// `get` (filters) or `post` (changes).
    pub method: &'static str,
    pub fields: Vec<Field>,
    pub submit: String,
    /// A short title over the form.
    pub legend: Option<String>,
}

/// One field of a form.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub name: String,
    pub label: String,
    /// `text`, `password`, `date`, `number` (an amount: typed as text with a decimal keypad, so
    /// `1,200.50` and cents are not refused by the browser), `textarea`, `select`, `checkbox` or
    /// `hidden`.
    pub kind: &'static str,
    pub value: String,
    /// A select's options: value, label.
    pub options: Vec<(String, String)>,
    pub required: bool,
}

impl Field {
    pub fn new(name: &str, label: &str, kind: &'static str) -> Field {
        Field {
            name: name.into(),
            label: label.into(),
            kind,
            value: String::new(),
            options: Vec::new(),
            required: false,
        }
    }
    pub fn hidden(name: &str, value: impl Into<String>) -> Field {
        Field { value: value.into(), ..Field::new(name, "", "hidden") }
    }
    pub fn value(mut self, v: impl Into<String>) -> Field {
        self.value = v.into();
        self
    }
    pub fn options(mut self, o: Vec<(String, String)>) -> Field {
        self.options = o;
        self
    }
    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }
}

/// A table. `sheet` names the xlsx sheet it gets to itself; tables without one are stacked on
/// the summary sheet.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Table {
    pub caption: Option<String>,
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub sheet: Option<String>,
    /// At most this many rows on a page (HTML, Markdown), the rest said to be in the workbook;
    /// a workbook always has every row.
    pub page_rows: Option<usize>,
}

/// A table cell. Money is kept in integer 分 to the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "t", content = "v", rename_all = "lowercase")]
pub enum Cell {
    Text(String),
    Int(i64),
    Money(i64),
    /// A number shown with one decimal (a rate).
    Rate(f64),
    Link {
        text: String,
        href: String,
    },
    Empty,
}

impl Cell {
    /// The cell as text (what Markdown and HTML show).
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Money(f) => money_fen(*f),
            Cell::Rate(r) => format!("{r:.1}"),
            Cell::Link { text, .. } => text.clone(),
            Cell::Empty => String::new(),
        }
    }

    pub fn is_number(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Money(_) | Cell::Rate(_))
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

/// A chart: its SVG for HTML, and the numbers it draws as a table for Markdown and xlsx.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub caption: String,
    pub svg: String,
    pub data: Table,
}

impl Section {
    pub fn new(title: impl Into<String>) -> Section {
        Section { title: title.into(), ..Default::default() }
    }

    pub fn with_id(mut self, id: impl Into<String>) -> Section {
        self.id = Some(id.into());
        self
    }

    pub fn para(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Para { text: text.into() });
        self
    }

    pub fn list(&mut self, items: Vec<String>) -> &mut Self {
        self.blocks.push(Block::List { items });
        self
    }

    pub fn table(&mut self, t: Table) -> &mut Self {
        self.blocks.push(Block::Table(t));
        self
    }

    pub fn figure(&mut self, f: Figure) -> &mut Self {
        self.blocks.push(Block::Figure(f));
        self
    }

    pub fn form(&mut self, f: Form) -> &mut Self {
        self.blocks.push(Block::Form(f));
        self
    }
}

impl Table {
    pub fn new(head: &[&str]) -> Table {
        Table { head: head.iter().map(|s| s.to_string()).collect(), ..Default::default() }
    }

    pub fn caption(mut self, c: impl Into<String>) -> Table {
        self.caption = Some(c.into());
        self
    }

    pub fn sheet(mut self, s: impl Into<String>) -> Table {
        self.sheet = Some(s.into());
        self
    }

    /// Shows at most `n` rows on a page; the workbook keeps them all.
    pub fn page_rows(mut self, n: usize) -> Table {
        self.page_rows = Some(n);
        self
    }

    /// The rows a page shows, and a line saying how many more the workbook has (if any).
    pub fn on_page(&self) -> (&[Vec<Cell>], Option<String>) {
        match self.page_rows {
            Some(n) if self.rows.len() > n => (
                &self.rows[..n],
                Some(format!(
                    "共 {} 行，此处列出前 {n} 行；全部 {} 行见 Excel 版本。",
                    self.rows.len(),
                    self.rows.len()
                )),
            ),
            _ => (&self.rows, None),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }
}

impl Document {
    /// Every text of the document through one function (the redactor): facts, notices,
    /// headings, paragraphs, list items, table cells and link texts, chart labels.
    pub fn redact(&mut self, f: &dyn Fn(&str) -> String) {
        fn table(t: &mut Table, f: &dyn Fn(&str) -> String) {
            t.caption = t.caption.as_deref().map(f);
            t.head = t.head.iter().map(|h| f(h)).collect();
            for r in &mut t.rows {
                for c in r {
                    match c {
                        Cell::Text(s) => *s = f(s),
                        Cell::Link { text, .. } => *text = f(text),
                        _ => {}
                    }
                }
            }
        }
        fn section(s: &mut Section, f: &dyn Fn(&str) -> String) {
            s.title = f(&s.title);
            for b in &mut s.blocks {
                match b {
                    Block::Para { text } => *text = f(text),
                    Block::List { items } => items.iter_mut().for_each(|i| *i = f(i)),
                    Block::Table(t) => table(t, f),
                    Block::Figure(fig) => {
                        // the picture's labels are its data table's categories and series names,
                        // which pass here; its coordinates (long decimals) must not be touched
                        fig.caption = f(&fig.caption);
                        table(&mut fig.data, f);
                    }
                    Block::Form(form) => {
                        form.legend = form.legend.as_deref().map(f);
                        // hidden fields are the page's own tokens and numbers, never shown
                        for field in form.fields.iter_mut().filter(|x| x.kind != "hidden") {
                            field.label = f(&field.label);
                            field.value = f(&field.value);
                            field.options.iter_mut().for_each(|o| o.1 = f(&o.1));
                        }
                    }
                }
            }
            for c in &mut s.sections {
                section(c, f);
            }
        }
        self.title = f(&self.title);
        for (k, v) in &mut self.meta {
            *k = f(k);
            *v = f(v);
        }
        self.notices.iter_mut().for_each(|n| *n = f(n));
        for s in &mut self.sections {
            section(s, f);
        }
    }

    /// The document in a format: text for Markdown and HTML, bytes for xlsx.
    pub fn render(&self, format: Format) -> anyhow::Result<Vec<u8>> {
        Ok(match format {
            Format::Md => markdown::render(self).into_bytes(),
            Format::Html => html::render(self)?.into_bytes(),
            Format::Xlsx => xlsx::render(self)?,
        })
    }

    /// Every table of the document that belongs in a workbook, depth first (with the figures'
    /// data tables).
    pub fn tables(&self) -> Vec<&Table> {
        fn walk<'a>(s: &'a Section, out: &mut Vec<&'a Table>) {
            if s.not_in_workbook {
                return;
            }
            for b in &s.blocks {
                match b {
                    Block::Table(t) => out.push(t),
                    Block::Figure(f) => out.push(&f.data),
                    _ => {}
                }
            }
            for c in &s.sections {
                walk(c, out);
            }
        }
        let mut out = Vec::new();
        for s in &self.sections {
            walk(s, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_in_fen_prints_exactly() {
        assert_eq!(money_fen(0), "0.00");
        assert_eq!(money_fen(5), "0.05");
        assert_eq!(money_fen(123_456_789), "1,234,567.89");
        assert_eq!(money_fen(-100_000), "-1,000.00");
        // beyond what a double holds exactly
        assert_eq!(money_fen(9_007_199_254_740_993), "90,071,992,547,409.93");
        assert_eq!(fen_of(0.1 + 0.2), 30);
    }

    fn sample() -> Document {
        let mut s = Section::new("一、概况 <b>").with_id("s1");
        s.para("段落 & 340524198001010013");
        let mut t = Table::new(&["名称", "金额"]).sheet("低保");
        t.push(vec!["甲<script>".into(), Cell::Money(12_345)]);
        t.push(vec![Cell::Link { text: "C1".into(), href: "#paper-C1".into() }, Cell::Empty]);
        s.table(t);
        s.figure(bars(
            "图1 趋势",
            &["R1".into(), "R2".into()],
            &[Series { name: "新增".into(), values: vec![1.0, 3.0] }],
        ));
        Document {
            nav: Vec::new(),
            title: "测试".into(),
            meta: vec![("单位".into(), "县教育局".into())],
            notices: vec![],
            sections: vec![s],
        }
    }

    #[test]
    fn a_page_lists_its_first_rows_and_says_the_workbook_has_them_all() {
        let mut s = Section::new("附录");
        let mut t = Table::new(&["对象", "金额"]).sheet("明细").page_rows(2);
        for k in 1..=5 {
            t.push(vec![format!("对象{k}号").into(), Cell::Money(k * 100)]);
        }
        s.table(t);
        let d = Document { title: "测试".into(), sections: vec![s], ..Default::default() };
        for format in [Format::Html, Format::Md] {
            let page = String::from_utf8(d.render(format).unwrap()).unwrap();
            assert!(page.contains("对象2号") && !page.contains("对象3号"), "{page}");
            assert!(page.contains("共 5 行，此处列出前 2 行；全部 5 行见 Excel"), "{page}");
        }
        let bytes = d.render(Format::Xlsx).unwrap();
        let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let sheet = calamine::Reader::worksheet_range(&mut book, "明细").unwrap();
        let names: Vec<String> = sheet.rows().filter_map(|r| r.first().map(|c| c.to_string())).collect();
        assert!(names.contains(&"对象5号".to_string()), "{names:?}");
        assert!(!names.iter().any(|n| n.contains("共 5 行")), "{names:?}");
    }

    #[test]
    fn html_escapes_text_and_keeps_its_svg() {
        let html = String::from_utf8(sample().render(Format::Html).unwrap()).unwrap();
        assert!(html.contains("甲&lt;script&gt;"), "{html}");
        assert!(!html.contains("<script"));
        assert!(html.contains("<svg"));
        assert!(html.contains("id=\"s1\""));
        assert!(html.contains("href=\"#paper-C1\""));
        assert!(html.contains("123.45"));
        assert!(html.contains("Content-Security-Policy"));
    }

    #[test]
    fn markdown_tables_and_redaction_reach_every_text() {
        let mut d = sample();
        d.redact(&|s: &str| s.replace("340524198001010013", "340524********0013"));
        let md = String::from_utf8(d.render(Format::Md).unwrap()).unwrap();
        assert!(md.contains("340524********0013"));
        assert!(!md.contains("198001010013"));
        assert!(md.contains("| 甲\\<script\\> | 123.45 |"), "markup from data is text: {md}");
        assert!(md.contains("| 新增 |"), "{md}");
    }
}
