//! Wide exports to long: a roster with a column per month (1月 … 12月, the year only in the
//! sheet or file name) lands as a row per month that was paid.
//!
//! The connector declares which headers become rows (a pattern), the column their period lands
//! in, the column each cell lands in, and where the year comes from:
//!
//! ```toml
//! [unpivot]
//! columns = '^(\d{1,2})月$'       # the headers that become rows; capture 1 is the month
//! into    = "pay_month"           # … lands the period (year + month: 2025-03)
//! value   = "amount"              # … lands the cell
//! year    = "$sheet"              # the year, from the sheet name (2025年度); or "$file", or "2025"
//! ```
//!
//! Empty cells, zeros and dashes are no row. Every other column repeats on each row a source row
//! becomes, so a household roster lands both the households (collapsed) and the payments. The
//! manifest counts the source rows and the cells that became rows.

use regex::Regex;

use super::convert::RawRows;
use super::spec::UnpivotSpec;
use super::value::Cell;
use crate::codes::text;

/// A connector's compiled `[unpivot]`.
#[derive(Debug, Clone)]
pub struct Unpivot {
    /// The headers that become rows.
    pub columns: Regex,
    /// Indices (in the connector's input columns) of the column the period lands in.
    pub into: Vec<usize>,
    /// Indices of the column each cell lands in.
    pub value: Vec<usize>,
    /// Where the year comes from.
    pub year: Option<Year>,
    /// The year inside it.
    pub year_pattern: Regex,
}

/// Where an unpivot's year comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Year {
    Sheet,
    File,
    Fixed(String),
}

/// One export column that becomes rows: its index in the export, its header and the period it
/// lands as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WideColumn {
    pub index: usize,
    pub header: String,
    pub period: String,
}

impl Unpivot {
    /// Compiles `[unpivot]` against the connector's input columns (name → indices).
    pub fn compile(spec: &UnpivotSpec, indices: impl Fn(&str) -> Vec<usize>) -> Result<Unpivot, String> {
        let columns = Regex::new(&spec.columns).map_err(|e| format!("unpivot.columns `{}`: {e}", spec.columns))?;
        let pattern = spec.year_pattern.as_deref().unwrap_or(r"(\d{4})");
        let year_pattern = Regex::new(pattern).map_err(|e| format!("unpivot.year_pattern `{pattern}`: {e}"))?;
        let into = indices(&spec.into);
        let value = indices(&spec.value);
        if into.is_empty() {
            return Err(format!("unpivot.into: `{}` is not a column of this connector", spec.into));
        }
        if value.is_empty() {
            return Err(format!("unpivot.value: `{}` is not a column of this connector", spec.value));
        }
        let year = spec.year.as_deref().map(|y| match y {
            "$sheet" => Year::Sheet,
            "$file" => Year::File,
            other => Year::Fixed(other.to_string()),
        });
        Ok(Unpivot { columns, into, value, year, year_pattern })
    }

    /// The columns of an export that become rows, with their periods. An export with none is an
    /// error: the connector was written for a wide export.
    pub fn plan(&self, headers: &[String], sheet: Option<&str>, file_name: &str) -> Result<Vec<WideColumn>, String> {
        let year = match &self.year {
            None => None,
            Some(from) => {
                let (place, text) = match from {
                    Year::Sheet => ("the sheet name", sheet.unwrap_or_default()),
                    Year::File => ("the file name", file_name),
                    Year::Fixed(y) => ("unpivot.year", y.as_str()),
                };
                let caps = self.year_pattern.captures(text).ok_or_else(|| {
                    format!("unpivot: no year in {place} `{text}` (year_pattern `{}`)", self.year_pattern.as_str())
                })?;
                Some(caps.get(1).or_else(|| caps.get(0)).map(|m| m.as_str().to_string()).unwrap_or_default())
            }
        };
        let mut out = Vec::new();
        // a header under a group (`发放金额(元)/3月`) is matched by its own name, unless the
        // pattern names the group too
        let whole = self.columns.as_str().contains('/');
        for (index, h) in headers.iter().enumerate() {
            let key = text::clean(h);
            let key = if whole { key.trim() } else { key.rsplit('/').next().unwrap_or_default().trim() };
            let Some(caps) = self.columns.captures(key) else { continue };
            let part = caps.get(1).or_else(|| caps.get(0)).map(|m| m.as_str()).unwrap_or_default().to_string();
            let period = match (&year, part.parse::<u32>()) {
                (Some(y), Ok(m)) if (1..=12).contains(&m) => format!("{y}-{m:02}"),
                (Some(y), _) => format!("{y}{part}"),
                (None, _) => part,
            };
            out.push(WideColumn { index, header: h.clone(), period });
        }
        if out.is_empty() {
            return Err(format!(
                "unpivot: no header matches `{}` (headers: {})",
                self.columns.as_str(),
                headers.join(", ")
            ));
        }
        Ok(out)
    }
}

/// The rows of a wide export, one per cell of its wide columns that holds a value. Columns
/// `base..` of `inner` are the wide columns, in the order of `wide`.
pub struct Unpivoted<'a> {
    inner: &'a dyn RawRows,
    unpivot: &'a Unpivot,
    wide: &'a [WideColumn],
    base: usize,
    /// (source row, wide column) of each row
    rows: Vec<(usize, usize)>,
    /// Source rows.
    pub source_rows: usize,
}

impl<'a> Unpivoted<'a> {
    pub fn new(inner: &'a dyn RawRows, unpivot: &'a Unpivot, wide: &'a [WideColumn], base: usize) -> Self {
        let mut rows = Vec::new();
        for r in 0..inner.len() {
            for k in 0..wide.len() {
                if holds_value(&inner.cell(base + k, r)) {
                    rows.push((r, k));
                }
            }
        }
        Unpivoted { inner, unpivot, wide, base, rows, source_rows: inner.len() }
    }
}

/// Whether a wide cell is a row: not empty, not a dash, not zero.
fn holds_value(c: &Cell<'_>) -> bool {
    match c {
        Cell::Empty => false,
        Cell::Int(i) => *i != 0,
        Cell::Number(x) => *x != 0.0,
        Cell::Text(t) => {
            let t = text::clean(t);
            let t = t.trim();
            !(t.is_empty()
                || matches!(t, "-" | "--" | "—" | "——" | "/" | "无")
                || t.replace(',', "").parse::<f64>().is_ok_and(|x| x == 0.0))
        }
        _ => true,
    }
}

impl RawRows for Unpivoted<'_> {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn cell(&self, column: usize, row: usize) -> Cell<'_> {
        let (r, k) = self.rows[row];
        if self.unpivot.into.contains(&column) {
            Cell::Text(&self.wide[k].period)
        } else if self.unpivot.value.contains(&column) {
            self.inner.cell(self.base + k, r)
        } else {
            self.inner.cell(column, r)
        }
    }

    fn line(&self, row: usize) -> u64 {
        self.inner.line(self.rows[row].0)
    }

    fn record(&self, row: usize) -> String {
        let (r, k) = self.rows[row];
        format!("{} [{}]", self.inner.record(r), self.wide[k].header)
    }

    fn first_text(&self, row: usize) -> Option<String> {
        self.inner.first_text(self.rows[row].0)
    }

    fn defect(&self, row: usize) -> Option<(String, String)> {
        self.inner.defect(self.rows[row].0)
    }

    fn mapped(&self, column: usize) -> bool {
        self.unpivot.into.contains(&column) || self.unpivot.value.contains(&column) || self.inner.mapped(column)
    }

    fn code_word(&self, column: usize, code: &str) -> Option<&str> {
        self.inner.code_word(column, code)
    }

    fn header_unit(&self, column: usize) -> Option<&'static str> {
        if self.unpivot.value.contains(&column) {
            self.inner.header_unit(self.base)
        } else {
            self.inner.header_unit(column)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::spec::UnpivotSpec;

    fn unpivot(year: Option<&str>) -> Unpivot {
        let spec = UnpivotSpec {
            columns: r"^(\d{1,2})月$".into(),
            into: "pay_month".into(),
            value: "amount".into(),
            year: year.map(str::to_string),
            year_pattern: None,
        };
        Unpivot::compile(&spec, |n| match n {
            "pay_month" => vec![3],
            "amount" => vec![4],
            _ => vec![],
        })
        .unwrap()
    }

    #[test]
    fn month_headers_take_the_year_of_the_sheet() {
        let headers: Vec<String> = ["户主", "身份证号", "1月", "2月", "12月", "合计"].map(String::from).to_vec();
        let plan = unpivot(Some("$sheet")).plan(&headers, Some("2025年度"), "x.xlsx").unwrap();
        let got: Vec<(usize, &str)> = plan.iter().map(|w| (w.index, w.period.as_str())).collect();
        assert_eq!(got, vec![(2, "2025-01"), (3, "2025-02"), (4, "2025-12")]);
        let e = unpivot(Some("$sheet")).plan(&headers, Some("城关镇"), "x.xlsx").unwrap_err();
        assert!(e.contains("no year in the sheet name `城关镇`"), "{e}");
        let e = unpivot(None).plan(&["户主".to_string()], None, "x.xlsx").unwrap_err();
        assert!(e.contains("no header matches"), "{e}");
        let plan = unpivot(Some("$file")).plan(&headers, None, "2024年低保花名册.xls").unwrap();
        assert_eq!(plan[0].period, "2024-01");
    }

    #[test]
    fn empty_zero_and_dash_cells_are_no_row() {
        for (c, row) in [
            (Cell::Empty, false),
            (Cell::Text(" "), false),
            (Cell::Text("—"), false),
            (Cell::Text("0.00"), false),
            (Cell::Number(0.0), false),
            (Cell::Int(0), false),
            (Cell::Text("1,040.00"), true),
            (Cell::Number(520.0), true),
        ] {
            assert_eq!(holds_value(&c), row, "{c:?}");
        }
    }
}
