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
/// page at 200 dpi (TIFF: 0.03), about half what reading the page costs; every engine reads TIFF.
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
    let images = listed_images(path, page, page, config)?;
    if images.iter().all(|image| image.x_ppi >= config.dpi as f64) {
        return Ok(None);
    }
    let Some(&(_, page_width, _)) = page_sizes_inches(path, page, page, config)?.first() else {
        return Ok(None);
    };
    Ok(images
        .iter()
        .filter(|image| image.width / image.x_ppi >= SCAN_WIDTH_SHARE * page_width)
        .map(|image| image.x_ppi.round() as u32)
        .max())
}

/// For each page from `first` to `last` that shows images, the share of its area they cover
/// (overlaps counted twice, at most 1).
pub fn image_shares(
    path: &Path,
    first: u32,
    last: u32,
    config: &OcrConfig,
) -> Result<Vec<(u32, f64)>> {
    let images = listed_images(path, first, last, config)?;
    Ok(page_sizes_inches(path, first, last, config)?
        .into_iter()
        .filter_map(|(page, width, height)| {
            let covered: f64 = images
                .iter()
                .filter(|image| image.page == page)
                .map(|image| image.width / image.x_ppi * image.height / image.y_ppi)
                .sum();
            (covered > 0.0).then(|| (page, (covered / (width * height)).min(1.0)))
        })
        .collect())
}

struct ListedImage {
    page: u32,
    width: f64,
    height: f64,
    x_ppi: f64,
    y_ppi: f64,
}

fn listed_images(
    path: &Path,
    first: u32,
    last: u32,
    config: &OcrConfig,
) -> Result<Vec<ListedImage>> {
    let listing = process::run_ok(
        Command::new("pdfimages")
            .args(["-list", "-f", &first.to_string(), "-l", &last.to_string()])
            .arg(path),
        config.page_timeout(),
    )?;
    Ok(parse_image_list(&String::from_utf8_lossy(&listing.stdout)))
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
            let number = |i: usize| columns.get(i)?.parse::<f64>().ok().filter(|n| *n > 0.0);
            Some(ListedImage {
                page: columns.first()?.parse().ok()?,
                width: number(3)?,
                height: number(4)?,
                x_ppi: number(12)?,
                y_ppi: number(13)?,
            })
        })
        .collect()
}

/// (page, width, height) in inches of the pages from `first` to `last`.
fn page_sizes_inches(
    path: &Path,
    first: u32,
    last: u32,
    config: &OcrConfig,
) -> Result<Vec<(u32, f64, f64)>> {
    let info = process::run_ok(
        Command::new("pdfinfo")
            .args(["-f", &first.to_string(), "-l", &last.to_string()])
            .arg(path),
        config.page_timeout(),
    )?;
    Ok(parse_page_sizes(&String::from_utf8_lossy(&info.stdout)))
}

/// "Page    3 size: 595.276 x 841.89 pts (A4)" lines of pdfinfo, in inches.
fn parse_page_sizes(info: &str) -> Vec<(u32, f64, f64)> {
    info.lines()
        .filter_map(|line| {
            let (page, size) = line.strip_prefix("Page")?.split_once(" size: ")?;
            let mut numbers = size.split_whitespace();
            let width: f64 = numbers.next()?.parse().ok()?;
            let height: f64 = numbers.nth(1)?.parse().ok()?;
            Some((page.trim().parse().ok()?, width / 72.0, height / 72.0))
        })
        .collect()
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
        assert_eq!(
            (images[0].page, images[0].width, images[0].height),
            (1, 1654.0, 2339.0)
        );
        assert_eq!((images[0].x_ppi, images[0].y_ppi), (96.0, 96.0));
    }

    #[test]
    fn reads_pdfinfo_page_sizes() {
        let info =
            "Pages:          16\nPage    9 size: 595.3 x 841.9 pts (A4)\nPage    9 rot:  0\n\
            Page   10 size: 612 x 792 pts (letter)\n";
        let sizes = parse_page_sizes(info);
        assert_eq!(sizes.len(), 2);
        assert_eq!(sizes[1], (10, 8.5, 11.0));
        assert!((sizes[0].1 - 8.268).abs() < 0.001 && (sizes[0].2 - 11.693).abs() < 0.001);
    }
}
