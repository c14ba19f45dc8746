//! Charts as SVG (plotters' SVG backend; labels drawn as SVG text in the reader's fonts) with
//! the numbers they draw kept as a table for the formats that cannot show a picture.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Cell, Figure, Table};

/// One series of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

const COLOURS: [RGBColor; 4] =
    [RGBColor(0x2b, 0x57, 0x9a), RGBColor(0xc0, 0x39, 0x2b), RGBColor(0x7f, 0x8c, 0x8d), RGBColor(0x27, 0xae, 0x60)];

/// Text safe inside SVG text whatever the backend does with it.
fn plain(s: &str) -> String {
    s.replace('&', "＆").replace('<', "＜").replace('>', "＞").replace('"', "＂")
}

/// A grouped bar chart: one group per category, one bar per series.
pub fn bars(caption: &str, categories: &[String], series: &[Series]) -> Figure {
    let mut data = Table::new(&[]);
    data.head = std::iter::once("".to_string()).chain(categories.iter().cloned()).collect();
    data.caption = Some(caption.to_string());
    for s in series {
        let mut row = vec![Cell::Text(s.name.clone())];
        row.extend(s.values.iter().map(|v| if v.fract() == 0.0 { Cell::Int(*v as i64) } else { Cell::Rate(*v) }));
        data.push(row);
    }
    let svg = draw(categories, series).unwrap_or_else(|e| {
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><title>{}</title></svg>",
            plain(&e)
        )
    });
    Figure { caption: caption.to_string(), svg, data }
}

/// A label's width in pixels at `size` (CJK characters are square, Latin about half as wide).
fn text_width(s: &str, size: f64) -> f64 {
    s.chars().map(|c| if c.is_ascii() { size * 0.6 } else { size }).sum()
}

fn draw(categories: &[String], series: &[Series]) -> Result<String, String> {
    let n = categories.len().max(1);
    let max = series.iter().flat_map(|s| s.values.iter().copied()).fold(0.0f64, f64::max);
    // room above the bars for the legend
    let top = if max <= 0.0 { 1.0 } else { max * if series.len() > 1 { 1.35 } else { 1.15 } };
    let width = (120 + n as u32 * (28 + 14 * series.len() as u32)).clamp(480, 680);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, 270)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .margin_right(16)
            .x_label_area_size(34)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_label_formatter(&|y| if y.fract() == 0.0 { format!("{y:.0}") } else { format!("{y:.1}") })
            .label_style(("sans-serif", 11))
            .draw()
            .map_err(|e| e.to_string())?;
        let k = series.len().max(1) as f64;
        let w = 0.8 / k;
        for (j, s) in series.iter().enumerate() {
            let colour = COLOURS[j % COLOURS.len()];
            chart
                .draw_series(s.values.iter().enumerate().map(|(i, v)| {
                    let x0 = i as f64 - 0.4 + j as f64 * w;
                    Rectangle::new([(x0, 0.0), (x0 + w * 0.9, *v)], colour.filled())
                }))
                .map_err(|e| e.to_string())?
                .label(plain(&s.name))
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled()));
        }
        // category labels under their groups; every k-th when they would overlap
        let group_px = {
            let (a, _) = chart.backend_coord(&(0.0, 0.0));
            let (b, _) = chart.backend_coord(&(1.0, 0.0));
            (b - a).max(1) as f64
        };
        // a label too wide for its group goes on two lines; if still too wide, every k-th is shown
        let widest = categories.iter().map(|c| text_width(c, 11.0)).fold(0.0, f64::max);
        let two_lines = widest + 6.0 > group_px;
        let lines = |c: &str| -> Vec<String> {
            let chars: Vec<char> = c.chars().collect();
            if two_lines && chars.len() > 1 {
                let half = chars.len().div_ceil(2);
                vec![chars[..half].iter().collect(), chars[half..].iter().collect()]
            } else {
                vec![c.to_string()]
            }
        };
        let widest = categories.iter().flat_map(|c| lines(c)).map(|l| text_width(&l, 11.0)).fold(0.0, f64::max);
        let step = ((widest + 6.0) / group_px).ceil().max(1.0) as usize;
        let style = TextStyle::from(("sans-serif", 11).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        for (i, c) in categories.iter().enumerate() {
            if i % step != 0 && i + 1 != categories.len() {
                continue;
            }
            let (x, y) = chart.backend_coord(&(i as f64, 0.0));
            for (k, line) in lines(c).iter().enumerate() {
                root.draw(&Text::new(plain(line), (x, y + 5 + 13 * k as i32), style.clone()))
                    .map_err(|e| e.to_string())?;
            }
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK.mix(0.3))
                .label_font(("sans-serif", 11))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
