//! Page images for OCR: PDF pages rendered grey by poppler's `pdftoppm`, TIFF frames split by
//! libtiff's `tiffsplit`, other image files as they are.
use super::{process, OcrConfig};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// An image covering at least this share of the page width makes the page a scan.
const SCAN_WIDTH_SHARE: f64 = 0.8;

/// Renders 1-based `page` to a grey, uncompressed TIFF in `scratch`; returns it and the
/// resolution used. Uncompressed because pdftoppm's PNG encoder took 0.75 CPU-seconds for an A4
/// page at 200 dpi (TIFF: 0.03), half as much again as reading the page; every engine reads TIFF.
pub fn pdf_page(
    path: &Path,
    page: u32,
    dpi: u32,
    scratch: &Path,
    config: &OcrConfig,
) -> Result<(PathBuf, u32)> {
    let dpi = scan_resolution(path, page, config)?
        .map_or(dpi, |native| native.min(dpi))
        .max(50);
    let stem = scratch.join(format!("page-{page}"));
    let page_arg = page.to_string();
    process::run_ok(
        Command::new("pdftoppm")
            .args(["-r", &dpi.to_string(), "-gray", "-singlefile"])
            .args(["-tiff", "-tiffcompression", "none"])
            .args(["-f", &page_arg, "-l", &page_arg])
            .arg(path)
            .arg(&stem),
        config.page_timeout(),
    )?;
    let image = stem.with_extension("tif");
    anyhow::ensure!(image.is_file(), "pdftoppm made no image of page {page}");
    Ok((image, dpi))
}

/// The resolution of the page's scanned image, when one image spans the page: rendering above it
/// only interpolates pixels.
fn scan_resolution(path: &Path, page: u32, config: &OcrConfig) -> Result<Option<u32>> {
    let page_arg = page.to_string();
    let listing = process::run_ok(
        Command::new("pdfimages")
            .args(["-list", "-f", &page_arg, "-l", &page_arg])
            .arg(path),
        config.page_timeout(),
    )?;
    let images = parse_image_list(&String::from_utf8_lossy(&listing.stdout));
    if images.iter().all(|image| image.x_ppi >= config.dpi as f64) {
        return Ok(None);
    }
    let Some(page_width) = page_width_inches(path, page, config)? else {
        return Ok(None);
    };
    Ok(images
        .iter()
        .filter(|image| image.width / image.x_ppi >= SCAN_WIDTH_SHARE * page_width)
        .map(|image| image.x_ppi.round() as u32)
        .max())
}

struct ListedImage {
    width: f64,
    x_ppi: f64,
}

/// Rows of `pdfimages -list`: page num type width height color comp bpc enc interp object ID
/// x-ppi y-ppi size ratio. Masks are not page content.
fn parse_image_list(listing: &str) -> Vec<ListedImage> {
    listing
        .lines()
        .skip(2)
        .filter_map(|row| {
            let columns: Vec<&str> = row.split_whitespace().collect();
            if columns.get(2) != Some(&"image") {
                return None;
            }
            let width: f64 = columns.get(3)?.parse().ok()?;
            let x_ppi: f64 = columns.get(12)?.parse().ok()?;
            (width > 0.0 && x_ppi > 0.0).then_some(ListedImage { width, x_ppi })
        })
        .collect()
}

fn page_width_inches(path: &Path, page: u32, config: &OcrConfig) -> Result<Option<f64>> {
    let page_arg = page.to_string();
    let info = process::run_ok(
        Command::new("pdfinfo")
            .args(["-f", &page_arg, "-l", &page_arg])
            .arg(path),
        config.page_timeout(),
    )?;
    // "Page    3 size: 595.276 x 841.89 pts (A4)"
    Ok(String::from_utf8_lossy(&info.stdout)
        .lines()
        .filter(|line| line.starts_with("Page") && line.contains(" size: "))
        .find_map(|line| {
            let size = line.split(" size: ").nth(1)?;
            let width: f64 = size.split_whitespace().next()?.parse().ok()?;
            Some(width / 72.0)
        }))
}

/// Every page of an image file, as files an engine can read.
pub fn image_pages(path: &Path, scratch: &Path, config: &OcrConfig) -> Result<Vec<PathBuf>> {
    if !is_tiff(path)? {
        // A copy under a plain name: engines get a path free of newlines and non-UTF-8 bytes.
        let copy = scratch.join("image");
        std::fs::copy(path, &copy)
            .with_context(|| format!("cannot copy {} for OCR", path.display()))?;
        return Ok(vec![copy]);
    }
    let prefix = scratch.join("frame-");
    process::run_ok(
        Command::new("tiffsplit").arg(path).arg(&prefix),
        config.page_timeout(),
    )?;
    // tiffsplit names frames frame-aaa.tif, frame-aab.tif, …: name order is page order.
    let mut frames: Vec<PathBuf> = std::fs::read_dir(scratch)
        .context("cannot list the split TIFF frames")?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|frame| {
            frame
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("frame-"))
        })
        .collect();
    frames.sort();
    anyhow::ensure!(!frames.is_empty(), "the TIFF file has no frames");
    Ok(frames)
}

fn is_tiff(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let read = file.read(&mut magic)?;
    Ok(read == 4 && (magic == *b"II*\0" || magic == *b"MM\0*"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pdfimages_listing() {
        let listing = "page   num  type   width height color comp bpc  enc interp  object ID x-ppi y-ppi size ratio\n\
            --------------------------------------------------------------------------------------------\n   \
            1     0 image    1654  2339  gray    1   8  jpeg   no        13  0    96    96  357K 9.4%\n   \
            1     1 smask     100   100  gray    1   8  image  no        14  0    72    72  1K 9.4%\n";
        let images = parse_image_list(listing);
        assert_eq!(images.len(), 1);
        assert_eq!(images[0].width, 1654.0);
        assert_eq!(images[0].x_ppi, 96.0);
    }
}
