//! Horizontal bar charts as inline SVG, drawn with plotters' SVG backend.
use anyhow::{anyhow, Result};
use plotters::prelude::*;

pub struct Bar {
    pub label: String,
    pub value: u64,
}

impl Bar {
    pub fn new(label: &str, value: u64) -> Bar {
        Bar {
            label: label.to_string(),
            value,
        }
    }
}

pub fn bar_chart(bars: &[Bar]) -> Result<String> {
    if bars.is_empty() {
        return Ok("<p>(none)</p>".to_string());
    }
    let mut svg = String::new();
    let height = 40 + 28 * bars.len() as u32;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(1).max(1);
    {
        let root = SVGBackend::with_string(&mut svg, (900, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("chart: {e}"))?;
        let label_width = 300;
        let plot = root.margin(10, 10, 10, 10);
        let (labels, chart_area) = plot.split_horizontally(label_width);
        let step = (height - 20) / bars.len() as u32;
        for (row, bar) in bars.iter().enumerate() {
            let y = (row as u32 * step + step / 2) as i32;
            labels
                .draw(&Text::new(
                    bar.label.clone(),
                    (0, y - 7),
                    ("sans-serif", 14).into_font(),
                ))
                .map_err(|e| anyhow!("chart: {e}"))?;
            let width = chart_area.dim_in_pixel().0 as f64 - 90.0;
            let length = (bar.value as f64 / max as f64 * width) as i32;
            chart_area
                .draw(&Rectangle::new(
                    [(0, y - 9), (length.max(1), y + 9)],
                    RGBColor(70, 130, 180).filled(),
                ))
                .map_err(|e| anyhow!("chart: {e}"))?;
            chart_area
                .draw(&Text::new(
                    bar.value.to_string(),
                    (length + 6, y - 7),
                    ("sans-serif", 14).into_font(),
                ))
                .map_err(|e| anyhow!("chart: {e}"))?;
        }
        root.present().map_err(|e| anyhow!("chart: {e}"))?;
    }
    Ok(svg)
}
