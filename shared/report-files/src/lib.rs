//! The report templates of `oms_domain::reports` rendered as files, wherever they are
//! generated (`oms report` and `oms serve`'s schedule; the `export-orders` function in AWS).
//!
//! - CSV: one file per table, `{template}-{table}.csv`, a header row then the rows.
//! - XLSX: one workbook per template, `{template}.xlsx`, one sheet per table.
//! - HTML: one self-contained page per template, `{template}.html`: its charts as inline
//!   SVG and its tables, every value escaped; each chart also as `{template}-{chart}.svg`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rust_decimal::prelude::ToPrimitive as _;

use oms_domain::reports::{Cell, Chart, ChartKind, Document, Table};

/// The file formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Formats {
    pub csv: bool,
    pub xlsx: bool,
    pub html: bool,
}

impl Formats {
    pub const ALL: Formats = Formats { csv: true, xlsx: true, html: true };

    /// `csv`, `xlsx`, `html` or `all`, or several of them separated by commas.
    pub fn parse(raw: &str) -> anyhow::Result<Formats> {
        let mut formats = Formats::default();
        for name in raw.split(',').map(str::trim) {
            match name {
                "csv" => formats.csv = true,
                "xlsx" => formats.xlsx = true,
                "html" => formats.html = true,
                "all" => formats = Formats::ALL,
                other => anyhow::bail!("{other:?} is not a report format: csv, xlsx, html or all"),
            }
        }
        Ok(formats)
    }
}

/// Writes `documents` in `formats` into `out` (created if missing); the paths written.
pub fn write(documents: &[Document], formats: Formats, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("Failed to create {}", out.display()))?;
    let mut written = Vec::new();
    for document in documents {
        let stem = document.template.as_str();
        if formats.csv {
            for table in &document.tables {
                let path = out.join(format!("{stem}-{}.csv", table.name));
                write_csv(table, &path).with_context(|| format!("Failed to write {}", path.display()))?;
                written.push(path);
            }
        }
        if formats.xlsx {
            let path = out.join(format!("{stem}.xlsx"));
            write_xlsx(document, &path).with_context(|| format!("Failed to write {}", path.display()))?;
            written.push(path);
        }
        if formats.html {
            let mut charts = Vec::new();
            for chart in &document.charts {
                let svg = svg(chart).with_context(|| format!("Failed to draw the chart {}", chart.name))?;
                let path = out.join(format!("{stem}-{}.svg", chart.name));
                std::fs::write(&path, &svg).with_context(|| format!("Failed to write {}", path.display()))?;
                written.push(path);
                charts.push(svg);
            }
            let path = out.join(format!("{stem}.html"));
            std::fs::write(&path, html(document, &charts)).with_context(|| format!("Failed to write {}", path.display()))?;
            written.push(path);
        }
    }
    Ok(written)
}

fn write_csv(table: &Table, path: &Path) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_path(path)?;
    writer.write_record(&table.columns)?;
    for row in &table.rows {
        writer.write_record(row.iter().map(ToString::to_string))?;
    }
    writer.flush()?;
    Ok(())
}

fn write_xlsx(document: &Document, path: &Path) -> anyhow::Result<()> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    for table in &document.tables {
        let sheet = workbook.add_worksheet();
        sheet.set_name(table.name)?;
        for (col, name) in (0u16..).zip(&table.columns) {
            sheet.write_string_with_format(0, col, *name, &bold)?;
        }
        for (row, cells) in (1u32..).zip(&table.rows) {
            for (col, cell) in (0u16..).zip(cells) {
                match cell {
                    Cell::Text(text) => sheet.write_string(row, col, text)?,
                    Cell::Int(n) => sheet.write_number(row, col, *n as f64)?,
                    Cell::Decimal(d) => sheet.write_number(row, col, d.to_f64().unwrap_or_default())?,
                    Cell::Ratio(r) => sheet.write_number(row, col, *r)?,
                    Cell::Empty => continue,
                };
            }
        }
        sheet.autofit();
    }
    workbook.save(path)?;
    Ok(())
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The chart as an SVG document (plotters escapes its text).
pub fn svg(chart: &Chart) -> anyhow::Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (900, 460)).into_drawing_area();
        root.fill(&WHITE)?;
        let n = chart.categories.len().max(1);
        let max = chart.series.iter().flat_map(|s| s.values.iter().copied()).fold(0.0, f64::max);
        let top = if max > 0.0 { max * 1.1 } else { 1.0 };
        // Many bars: every bar labelled, the labels turned to run downwards.
        let crowded = chart.kind == ChartKind::Bar && n > 6;
        let mut context = ChartBuilder::on(&root)
            .caption(&chart.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(if crowded { 150 } else { 40 })
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)?;
        let categories = &chart.categories;
        let label = |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                categories.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        context
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .x_labels(if crowded { 0 } else { n.min(12) })
            .x_label_formatter(&label)
            .x_label_style(("sans-serif", 11))
            .y_desc(chart.y_label)
            .draw()?;
        if crowded {
            // The mesh centres its labels on the tick; turned, they must start below the axis.
            let style = TextStyle::from(("sans-serif", 11).into_font().transform(FontTransform::Rotate90))
                .pos(Pos::new(HPos::Left, VPos::Center));
            for (i, category) in categories.iter().enumerate() {
                let (x, y) = context.backend_coord(&(i as f64, 0.0));
                root.draw(&Text::new(category.as_str(), (x, y + 6), &style))?;
            }
        }
        let groups = chart.series.len().max(1) as f64;
        for (s, series) in chart.series.iter().enumerate() {
            let color = PALETTE[s % PALETTE.len()];
            let drawn = match chart.kind {
                ChartKind::Bar => context.draw_series(series.values.iter().enumerate().map(|(i, v)| {
                    let left = i as f64 - 0.4 + 0.8 * s as f64 / groups;
                    Rectangle::new([(left, 0.0), (left + 0.8 / groups, *v)], color.filled())
                }))?,
                ChartKind::Line => {
                    // A dot on each point, so a period of one day still shows.
                    let points = || series.values.iter().enumerate().map(|(i, v)| (i as f64, *v));
                    context.draw_series(points().map(|point| Circle::new(point, 3, color.filled())))?;
                    context.draw_series(LineSeries::new(points(), color.stroke_width(2)))?
                }
            };
            drawn
                .label(series.label.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
        }
        if !chart.series.is_empty() {
            context.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
        }
        root.present()?;
    }
    Ok(out)
}

/// `text` safe in HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:0 0 2em}\
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}td.n{text-align:right}th{background:#f3f3f3}\
figure{margin:0 0 2em}";

/// The page: the document's title, its charts (`charts`, the SVG of each, in order) and
/// its tables. Nothing outside it is loaded.
pub fn html(document: &Document, charts: &[String]) -> String {
    let title = escape(&document.title);
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head>\n<body><h1>{title}</h1>\n"
    );
    for svg in charts {
        // The SVG document's own XML declaration, if any, has no place inside HTML.
        let svg = svg.trim_start().strip_prefix("<?xml").and_then(|rest| rest.split_once("?>")).map_or(svg.as_str(), |(_, r)| r);
        let _ = writeln!(page, "<figure>{svg}</figure>");
    }
    for table in &document.tables {
        let _ = write!(page, "<h2>{}</h2>\n<table><thead><tr>", escape(&table.title));
        for column in &table.columns {
            let _ = write!(page, "<th>{}</th>", escape(column));
        }
        page.push_str("</tr></thead><tbody>\n");
        if table.rows.is_empty() {
            let _ = writeln!(page, "<tr><td colspan=\"{}\">none</td></tr>", table.columns.len());
        }
        for row in &table.rows {
            page.push_str("<tr>");
            for cell in row {
                let class = if matches!(cell, Cell::Text(_)) { "" } else { " class=\"n\"" };
                let _ = write!(page, "<td{class}>{}</td>", escape(&cell.to_string()));
            }
            page.push_str("</tr>\n");
        }
        page.push_str("</tbody></table>\n");
    }
    page.push_str("</body></html>\n");
    page
}
