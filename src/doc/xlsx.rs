//! A document as an xlsx workbook (rust_xlsxwriter): a summary sheet (概况) with the facts and
//! every table that has no sheet of its own, then one sheet per named table. Money is written
//! as numbers in 元 with two decimals, counts as integers, so a reader can sum and filter.

use rust_xlsxwriter::{Format, Workbook, Worksheet};

use super::{Cell, Document, Table};

/// A sheet name Excel accepts: no []:*?/\, at most 31 characters, unique in the workbook.
fn sheet_name(want: &str, taken: &mut Vec<String>) -> String {
    let clean: String = want.chars().map(|c| if "[]:*?/\\".contains(c) { '_' } else { c }).take(31).collect::<String>();
    let clean = if clean.trim().is_empty() { "Sheet".to_string() } else { clean };
    let mut name = clean.clone();
    let mut n = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
        let suffix = format!("({n})");
        name = format!("{}{suffix}", clean.chars().take(31 - suffix.chars().count()).collect::<String>());
        n += 1;
    }
    taken.push(name.clone());
    name
}

/// Excel's limit on a cell's text.
const CELL_CHARS: usize = 32_767;

/// A text as a cell can hold it: cut at Excel's limit with a visible mark, never the whole
/// workbook failed for one long value (a note, an evidence value).
fn fit(s: &str) -> std::borrow::Cow<'_, str> {
    const MARK: &str = "…【超出Excel单元格32767字上限，以下已截断；全文见问题底稿HTML或Markdown】";
    if s.len() <= CELL_CHARS || s.chars().count() <= CELL_CHARS {
        return std::borrow::Cow::Borrowed(s);
    }
    let keep = CELL_CHARS - MARK.chars().count();
    let mut out: String = s.chars().take(keep).collect();
    out.push_str(MARK);
    std::borrow::Cow::Owned(out)
}

struct Formats {
    bold: Format,
    head: Format,
    money: Format,
}

fn write_table(ws: &mut Worksheet, row: &mut u32, t: &Table, f: &Formats) -> anyhow::Result<()> {
    if let Some(c) = &t.caption {
        ws.write_with_format(*row, 0, fit(c).as_ref(), &f.bold)?;
        *row += 1;
    }
    for (j, h) in t.head.iter().enumerate() {
        ws.write_with_format(*row, j as u16, fit(h).as_ref(), &f.head)?;
    }
    *row += 1;
    for r in &t.rows {
        for (j, c) in r.iter().enumerate() {
            let col = j as u16;
            match c {
                Cell::Text(s) => {
                    ws.write(*row, col, fit(s).as_ref())?;
                }
                Cell::Link { text, .. } => {
                    ws.write(*row, col, fit(text).as_ref())?;
                }
                Cell::Int(n) => {
                    ws.write(*row, col, *n as f64)?;
                }
                Cell::Money(fen) => {
                    ws.write_with_format(*row, col, *fen as f64 / 100.0, &f.money)?;
                }
                Cell::Rate(r) => {
                    ws.write(*row, col, (*r * 10.0).round() / 10.0)?;
                }
                Cell::Empty => {}
            }
        }
        *row += 1;
    }
    *row += 1;
    Ok(())
}

pub fn render(d: &Document) -> anyhow::Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let f = Formats {
        bold: Format::new().set_bold(),
        head: Format::new().set_bold().set_background_color(0xE8EDF5),
        money: Format::new().set_num_format("#,##0.00"),
    };
    let mut taken = Vec::new();
    let tables = d.tables();
    {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name("概况", &mut taken))?;
        ws.write_with_format(0, 0, fit(&d.title).as_ref(), &f.bold)?;
        let mut row = 1u32;
        for (k, v) in &d.meta {
            ws.write(row, 0, fit(k).as_ref())?;
            ws.write(row, 1, fit(v).as_ref())?;
            row += 1;
        }
        for n in &d.notices {
            ws.write(row, 0, fit(n).as_ref())?;
            row += 1;
        }
        row += 1;
        for t in tables.iter().filter(|t| t.sheet.is_none()) {
            write_table(ws, &mut row, t, &f)?;
        }
        ws.set_column_width(0, 22)?;
        ws.set_column_width(1, 22)?;
    }
    for t in tables.iter().filter(|t| t.sheet.is_some()) {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(t.sheet.as_deref().unwrap_or_default(), &mut taken))?;
        let mut row = 0u32;
        let mut plain = (*t).clone();
        plain.caption = None;
        write_table(ws, &mut row, &plain, &f)?;
        ws.set_freeze_panes(1, 0)?;
        for j in 0..t.head.len() {
            ws.set_column_width(j as u16, 16)?;
        }
    }
    Ok(wb.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_value_is_cut_with_a_mark_and_the_workbook_is_made() {
        let long = "证".repeat(40_000);
        let cut = super::fit(&long);
        assert_eq!(cut.chars().count(), super::CELL_CHARS);
        assert!(cut.ends_with("全文见问题底稿HTML或Markdown】"));
        assert_eq!(super::fit("短"), "短");
        let mut d = super::super::Document {
            nav: vec![],
            title: "测试".into(),
            meta: vec![],
            notices: vec![],
            sections: vec![],
        };
        let mut s = super::super::Section::new("一");
        let mut t = super::super::Table::new(&["说明"]);
        t.push(vec![long.clone().into()]);
        s.table(t);
        d.sections.push(s);
        let bytes = super::render(&d).unwrap();
        assert!(bytes.len() > 1000);
    }
}
