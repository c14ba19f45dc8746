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

struct Formats {
    bold: Format,
    head: Format,
    money: Format,
}

fn write_table(ws: &mut Worksheet, row: &mut u32, t: &Table, f: &Formats) -> anyhow::Result<()> {
    if let Some(c) = &t.caption {
        ws.write_with_format(*row, 0, c, &f.bold)?;
        *row += 1;
    }
    for (j, h) in t.head.iter().enumerate() {
        ws.write_with_format(*row, j as u16, h, &f.head)?;
    }
    *row += 1;
    for r in &t.rows {
        for (j, c) in r.iter().enumerate() {
            let col = j as u16;
            match c {
                Cell::Text(s) => {
                    ws.write(*row, col, s)?;
                }
                Cell::Link { text, .. } => {
                    ws.write(*row, col, text)?;
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
        ws.write_with_format(0, 0, &d.title, &f.bold)?;
        let mut row = 1u32;
        for (k, v) in &d.meta {
            ws.write(row, 0, k)?;
            ws.write(row, 1, v)?;
            row += 1;
        }
        for n in &d.notices {
            ws.write(row, 0, n)?;
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
