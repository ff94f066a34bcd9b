//! The one chart module: reports get inline SVG, emails get PNG (drawn at 2× for sharp displays),
//! both from the same drawing code. Text in PNGs is drawn with the DejaVu Sans font compiled into
//! the binary, so no system font (fontconfig, freetype) is needed.

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

/// The font compiled in (DejaVu Sans; licence in assets/fonts/DejaVuSans-LICENSE.txt).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Bars up, bars across, or a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Vertical bars, one per label (a time series of periods).
    Bar,
    /// Horizontal bars, one per label (categories such as stages).
    Hbar,
    /// A line through the points.
    Line,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "bar" => Some(Kind::Bar),
            "hbar" => Some(Kind::Hbar),
            "line" => Some(Kind::Line),
            _ => None,
        }
    }
}

/// One chart's data.
#[derive(Debug, Clone)]
pub struct Chart {
    pub name: String,
    pub kind: Kind,
    pub title: String,
    pub labels: Vec<String>,
    pub values: Vec<f64>,
    /// Values are money in this currency (axis and alt text say so).
    pub currency: Option<String>,
    /// Display size in CSS pixels.
    pub width: u32,
    pub height: u32,
}

const ACCENT: RGBColor = RGBColor(0x2b, 0x6c, 0xb0);
const GRID: RGBColor = RGBColor(0xe2, 0xe8, 0xf0);
const INK: RGBColor = RGBColor(0x2d, 0x37, 0x48);

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font (checked by a test); a failure would only lose text.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

impl Chart {
    /// A value as the axis and alt text show it.
    pub fn value_text(&self, v: f64) -> String {
        match &self.currency {
            Some(c) => crate::output::money_short(v, c),
            None if v.fract() == 0.0 && v.abs() < 1e15 => {
                let digits = crate::output::group_thousands(v.abs() as u64);
                if v < 0.0 { format!("-{digits}") } else { digits }
            }
            None => format!("{v:.2}"),
        }
    }

    /// Alt text carrying every number of the chart (or, past 14 points, the first, last, lowest
    /// and highest), so that nothing is only in the picture.
    pub fn alt(&self) -> String {
        if self.values.is_empty() {
            return format!("{}: no data", self.title);
        }
        let point = |i: usize| format!("{} {}", self.labels[i], self.value_text(self.values[i]));
        if self.values.len() <= 14 {
            let all: Vec<String> = (0..self.values.len()).map(point).collect();
            return format!("{}: {}", self.title, all.join("; "));
        }
        let (mut lo, mut hi) = (0, 0);
        for (i, v) in self.values.iter().enumerate() {
            if *v < self.values[lo] {
                lo = i;
            }
            if *v > self.values[hi] {
                hi = i;
            }
        }
        format!(
            "{}: {} points from {} to {}; first {}, last {}, lowest {}, highest {}",
            self.title,
            self.values.len(),
            self.labels[0],
            self.labels[self.labels.len() - 1],
            point(0),
            point(self.values.len() - 1),
            point(lo),
            point(hi)
        )
    }

    /// The chart as an SVG element, for reports (inline, no external references).
    pub fn svg(&self) -> Result<String> {
        register_font();
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (self.width, self.height)).into_drawing_area();
            self.draw(&root, 1.0)?;
            root.present().map_err(|e| anyhow!("chart {}: {e}", self.name))?;
        }
        Ok(out)
    }

    /// The chart as a PNG of `scale` times its display size, for email.
    pub fn png(&self, scale: u32) -> Result<Vec<u8>> {
        register_font();
        let (w, h) = (self.width * scale, self.height * scale);
        let mut rgb = vec![255u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            self.draw(&root, f64::from(scale))?;
            root.present().map_err(|e| anyhow!("chart {}: {e}", self.name))?;
        }
        let png = encode_png(&rgb, w, h)?;
        Ok(png)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let px = |v: f64| (v * s).round() as u32;
        let fail = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("chart {}: {e}", self.name);
        root.fill(&WHITE).map_err(fail)?;
        let n = self.values.len();
        if n == 0 {
            root.draw(&Text::new("no data", (px(10.0) as i32, px(20.0) as i32), ("sans-serif", 12.0 * s).into_font()))
                .map_err(fail)?;
            return Ok(());
        }
        let max = self.values.iter().copied().fold(0.0_f64, f64::max);
        let min = self.values.iter().copied().fold(0.0_f64, f64::min);
        let top = if max <= 0.0 { 1.0 } else { max * 1.1 };
        let label_style = ("sans-serif", 11.0 * s).into_font().color(&INK);
        let fmt_value = |v: &f64| self.value_text(*v);
        let every = n.div_ceil(8).max(1);
        let label_of = |i: usize| self.labels.get(i).cloned().unwrap_or_default();
        match self.kind {
            Kind::Hbar => {
                let longest = self.labels.iter().map(|l| l.chars().count()).max().unwrap_or(4) as f64;
                let mut chart = ChartBuilder::on(root)
                    .margin(px(6.0))
                    .x_label_area_size(px(20.0))
                    .y_label_area_size(px(14.0 + 6.5 * longest.min(24.0)))
                    .build_cartesian_2d(min..top, (0..n).into_segmented())
                    .map_err(fail)?;
                chart
                    .configure_mesh()
                    .disable_y_mesh()
                    .light_line_style(TRANSPARENT)
                    .bold_line_style(GRID.stroke_width(px(1.0)))
                    .x_labels(4)
                    .x_label_formatter(&fmt_value)
                    .y_labels(n)
                    .y_label_formatter(&|seg| match seg {
                        // The first label on top: the axis counts upward.
                        SegmentValue::CenterOf(i) if *i < n => label_of(n - 1 - *i),
                        _ => String::new(),
                    })
                    .label_style(label_style.clone())
                    .axis_style(GRID.stroke_width(px(1.0)))
                    .draw()
                    .map_err(fail)?;
                chart
                    .draw_series(self.values.iter().enumerate().map(|(i, v)| {
                        let row = n - 1 - i;
                        let mut bar = Rectangle::new(
                            [(0.0, SegmentValue::Exact(row)), (*v, SegmentValue::Exact(row + 1))],
                            ACCENT.filled(),
                        );
                        bar.set_margin(px(3.0), px(3.0), 0, 0);
                        bar
                    }))
                    .map_err(fail)?;
            }
            Kind::Bar => {
                let mut chart = ChartBuilder::on(root)
                    .margin(px(6.0))
                    .x_label_area_size(px(22.0))
                    .y_label_area_size(px(56.0))
                    .build_cartesian_2d((0..n).into_segmented(), min..top)
                    .map_err(fail)?;
                chart
                    .configure_mesh()
                    .disable_x_mesh()
                    .light_line_style(TRANSPARENT)
                    .bold_line_style(GRID.stroke_width(px(1.0)))
                    .y_labels(4)
                    .y_label_formatter(&fmt_value)
                    .x_labels(n)
                    .x_label_formatter(&|seg| match seg {
                        SegmentValue::CenterOf(i) if i % every == 0 => label_of(*i),
                        _ => String::new(),
                    })
                    .label_style(label_style.clone())
                    .axis_style(GRID.stroke_width(px(1.0)))
                    .draw()
                    .map_err(fail)?;
                chart
                    .draw_series(self.values.iter().enumerate().map(|(i, v)| {
                        let mut bar = Rectangle::new(
                            [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), *v)],
                            ACCENT.filled(),
                        );
                        bar.set_margin(0, 0, px(2.0), px(2.0));
                        bar
                    }))
                    .map_err(fail)?;
            }
            Kind::Line => {
                let mut chart = ChartBuilder::on(root)
                    .margin(px(6.0))
                    .x_label_area_size(px(22.0))
                    .y_label_area_size(px(56.0))
                    .build_cartesian_2d(0..n.saturating_sub(1).max(1), min..top)
                    .map_err(fail)?;
                chart
                    .configure_mesh()
                    .disable_x_mesh()
                    .light_line_style(TRANSPARENT)
                    .bold_line_style(GRID.stroke_width(px(1.0)))
                    .y_labels(4)
                    .y_label_formatter(&fmt_value)
                    .x_labels(n.min(8))
                    .x_label_formatter(&|i| label_of(*i))
                    .label_style(label_style.clone())
                    .axis_style(GRID.stroke_width(px(1.0)))
                    .draw()
                    .map_err(fail)?;
                chart
                    .draw_series(LineSeries::new(
                        self.values.iter().enumerate().map(|(i, v)| (i, *v)),
                        ACCENT.stroke_width(px(2.0)),
                    ))
                    .map_err(fail)?;
            }
        }
        Ok(())
    }
}

/// An 8-bit RGB image as PNG: the signature, IHDR, one zlib-compressed IDAT and IEND. Rows use
/// the "Up" filter (the difference to the row above): a chart's rows are mostly alike, so they
/// become runs of zeros that deflate to almost nothing. Written here
/// on flate2 rather than with a PNG crate: that crate's dependencies would change the build
/// inputs of the bundled DuckDB and recompile it (vendor/README.md).
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    use std::io::Write as _;
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let stride = w as usize * 3;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let mut previous = vec![0u8; stride];
    let mut filtered = vec![0u8; stride];
    for row in rgb.chunks(stride).take(h as usize) {
        for (f, (a, b)) in filtered.iter_mut().zip(row.iter().zip(&previous)) {
            *f = a.wrapping_sub(*b);
        }
        z.write_all(&[2])?;
        z.write_all(&filtered)?;
        previous.copy_from_slice(row);
    }
    let idat = z.finish()?;
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, filter method 0, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

/// `▁▂▄▇`: a sparkline of `values` in block characters (text, so it reads in any client).
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let (lo, hi) = finite.iter().fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
    finite
        .iter()
        .map(|v| {
            if (hi - lo).abs() < f64::EPSILON { BARS[3] } else { BARS[(((v - lo) / (hi - lo)) * 7.0).round() as usize] }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(kind: Kind) -> Chart {
        Chart {
            name: "revenue".into(),
            kind,
            title: "Revenue per week".into(),
            labels: (1..=6).map(|i| format!("W{i}")).collect(),
            values: vec![100.0, 250.0, 0.0, 1200.5, 800.0, 640.0],
            currency: Some("USD".into()),
            width: 560,
            height: 200,
        }
    }

    #[test]
    fn the_font_parses() {
        assert!(ab_glyph_font_ok());
    }

    fn ab_glyph_font_ok() -> bool {
        plotters::style::register_font("test-font", FontStyle::Normal, FONT).is_ok()
    }

    #[test]
    fn every_kind_draws_as_svg_and_png() {
        for kind in [Kind::Bar, Kind::Hbar, Kind::Line] {
            let c = chart(kind);
            let svg = c.svg().unwrap();
            assert!(svg.starts_with("<svg") && svg.contains("W1"), "{kind:?}: {svg}");
            let png = c.png(2).unwrap();
            assert_eq!(&png[1..4], b"PNG");
            // Width and height in the IHDR chunk: twice the display size.
            assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 1120);
            assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 400);
        }
    }

    #[test]
    fn alt_text_has_every_number() {
        let alt = chart(Kind::Bar).alt();
        assert_eq!(alt, "Revenue per week: W1 $100; W2 $250; W3 $0; W4 $1,201; W5 $800; W6 $640");
        assert_eq!(sparkline(&[1.0, 2.0, 3.0, 8.0]), "▁▂▃█");
        assert_eq!(sparkline(&[5.0, 5.0]), "▄▄");
    }
}
