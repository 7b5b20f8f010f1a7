#!/usr/bin/env python3
"""OCR evaluation: character error rate and speed of each engine, by resolution and degradation.

Renders sampled pages of text PDFs in ../shared/corpus/pdf (pdftoppm, grey) at 150, 200 and 300 dpi,
clean and degraded (Gaussian blur, 0.8° rotation, JPEG quality 40, with Pillow), OCRs them through
the library (examples/ocr_pages.rs: the same code the pipeline runs) and compares with each page's
own text layer, taken two ways (--reference):
- raw: `pdftotext -raw`, the content-stream order. Producers draw running headers last, tables
  column by column, figure labels after their caption, so this charges an engine that reads as a
  reader does for every block the producer drew elsewhere.
- reading: `pdftotext` without options, poppler's reading order: it groups characters into lines,
  lines into blocks and flows, and orders the flows column by column (TextOutputDev). This is the
  reading-order text of the same layer. `-layout` is not: it keeps the physical layout, printing
  the lines of both columns of a two-column page side by side, so every line of a journal page
  interleaves two columns (faster-paddle at 200 dpi scores 44-90% CER against it on the journal
  pages; on the one-column textbook pages it equals the reading reference). Poppler's order is
  itself a guess, and on some sample pages a bad one (see --per-page): it reads the two columns
  of zh_consensus_perioperative_cancer_pain_2020 pages 2-3, and a text column beside a sidebar
  (textbook page 14), line by line across; it lists a table column by column and puts a running
  header's right end mid-page. It also joins words hyphenated at a line end, dropping the hyphen.
CER = edit distance / reference length, after NFKC, whitespace removed, for either reference.
Also OCRs zh_textbook_tcm_scanned_imageonly.pdf (pages 14-16 of the textbook excerpt) as a PDF.
Speed = pages per CPU-second (user + sys of the driver and its children, one OCR process at a
time), i.e. pages per second per core; rendering the eval images is not counted.

Sample: one page of each of the six files in SAMPLE per setting (--pages-per-file 2 takes two), the
3 scanned pages, 3 dpi × clean/degraded: 39 pages per engine. --sample journals takes instead every
page of the nine two-column Chinese journal PDFs in JOURNALS (every third of the 25-page guideline):
78 pages per setting, a wider check that reading order holds on layouts the six were not chosen for. On the 2-core VM shared with other
builds this took 2–4.5 min for faster-paddle, 10 min for rapidocr and 15 min for tesseract (psm 3
everywhere, psm 6 once).
Columns, for each reference: CER as defined above (median and worst page); CER with free block moves
(text runs of 10 or more characters may be moved at no cost, see below); order-free CER, a lower
bound that ignores reading order altogether (it differs between the references only where the
modes keep different text: -raw keeps overprinted text twice and end-of-line hyphens); then the
engine's mean confidence and pages per CPU-second. --per-page adds a table of every page's figures.

Needs: poppler-utils, tesseract-ocr + tesseract-ocr-chi-sim, pip faster-paddle rapidocr onnxruntime
rapidfuzz pillow.
Usage: benches/ocr_eval.py [--pages-per-file N] [--sample journals]
       [--engines faster-paddle:3,rapidocr:3,tesseract:3,tesseract:6]
       [--dpis 150,200,300] [--reference raw|reading|both] [--per-page] [--save pages.jsonl]
"""
import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path

from PIL import Image, ImageFilter
from rapidfuzz.distance import Levenshtein

REPO = Path(__file__).resolve().parent.parent
PDFS = REPO.parent / "shared" / "corpus" / "pdf"
DRIVER = REPO / "target" / "release" / "examples" / "ocr_pages"
# Journal pages (two-column CJK layouts from five producers) and one textbook: (file, page).
SAMPLE = [
    ("zh_consensus_pca_cancer_pain_2023_cjco_acrobat.pdf", [2, 4]),
    ("zh_consensus_cancer_pain_mgmt_2025_cjpm_cnki.pdf", [3, 6]),
    ("zh_consensus_fibromyalgia_2023_sowise.pdf", [2, 5]),
    ("zh_guideline_np_assessment_2024_cjpm_cqvip.pdf", [2, 4]),
    ("zh_consensus_perioperative_cancer_pain_2020_cjco_adultpdf.pdf", [2, 3]),
    ("zh_textbook_tcm_internal_medicine_excerpt_distiller.pdf", [14, 20]),
]
# Every page of the two-column Chinese journal PDFs in ../shared (--sample journals).
JOURNALS = [
    ("zh_consensus_pca_cancer_pain_2023_cjco_acrobat.pdf", range(1, 8)),
    ("zh_consensus_cancer_pain_mgmt_2025_cjpm_cnki.pdf", range(1, 16)),
    ("zh_consensus_fibromyalgia_2023_sowise.pdf", range(1, 12)),
    ("zh_guideline_np_assessment_2024_cjpm_cqvip.pdf", range(1, 11)),
    ("zh_consensus_perioperative_cancer_pain_2020_cjco_adultpdf.pdf", range(1, 9)),
    ("zh_consensus_opioid_ae_tcm_2019_cjco_adultpdf.pdf", range(1, 4)),
    ("zh_consensus_phn_2016_cjpm_cnki_watermark.pdf", range(1, 8)),
    ("zh_consensus_scs_2024_pumch_adultpdf_pua.pdf", range(1, 10)),
    ("zh_guideline_neuropathic_pain_2024_cjpainol_founder_enc.pdf", range(2, 26, 3)),
]
SCANNED = ("zh_textbook_tcm_scanned_imageonly.pdf", "zh_textbook_tcm_internal_medicine_excerpt_distiller.pdf", 14)
DPIS = [150, 200, 300]
# pdftotext options giving each reference text of a page's text layer (see the docstring).
REFERENCES = {"raw": ["-raw"], "reading": []}


def normalise(text):
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def cer(hypothesis, reference):
    reference = normalise(reference)
    return Levenshtein.distance(normalise(hypothesis), reference) / max(1, len(reference))


def order_free_cer(hypothesis, reference):
    """Character-bag difference: a lower bound of CER that ignores reading order (pdftotext -raw
    puts running headers, tables and side notes where the content stream has them, not where a
    reader, or an OCR engine, reads them)."""
    hypothesis, reference = Counter(normalise(hypothesis)), Counter(normalise(reference))
    missing = sum((reference - hypothesis).values())
    extra = sum((hypothesis - reference).values())
    return max(missing, extra) / max(1, sum(reference.values()))


def block_move_cer(hypothesis, reference, min_block=10):
    """CER when moving a run of at least `min_block` characters is free: pdftotext -raw follows
    the content stream, which puts running headers, figure labels and tables where the producer
    drew them (first, last, or mid-page), not where a reader reads them. Aligns, sets the matched
    text aside, and aligns the rest again until no run that long matches; what is left costs its
    edit distance. Order errors inside shorter runs, and misreadings, still count."""
    hypothesis, reference = normalise(hypothesis), normalise(reference)
    length, first = max(1, len(reference)), True
    while True:
        left_hypothesis, left_reference, matched = [], [], 0
        for op in Levenshtein.opcodes(hypothesis, reference):
            if op.tag == "equal" and (first or op.src_end - op.src_start >= min_block):
                matched += op.src_end - op.src_start
            else:
                left_hypothesis.append(hypothesis[op.src_start:op.src_end])
                left_reference.append(reference[op.dest_start:op.dest_end])
        if not first and matched == 0:
            return Levenshtein.distance(hypothesis, reference) / length
        first = False
        hypothesis, reference = "".join(left_hypothesis), "".join(left_reference)


def reference_text(pdf, page, reference):
    return subprocess.run(
        ["pdftotext", *REFERENCES[reference], "-enc", "UTF-8", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True, text=True, check=True,
    ).stdout


def score(hypothesis, references):
    """Each reference's (CER, CER with block moves free, order-free CER) of one page."""
    return {
        name: (cer(hypothesis, text), block_move_cer(hypothesis, text), order_free_cer(hypothesis, text))
        for name, text in references.items()
    }


def render(pdf, page, dpi, stem):
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", "-f", str(page), "-l", str(page), str(pdf), str(stem)],
        check=True,
    )
    return stem.with_suffix(".png")


def degrade(image_path, dpi, out):
    """A photocopied-then-photographed look: blur scaled to resolution, slight skew, JPEG."""
    image = Image.open(image_path).convert("L")
    image = image.filter(ImageFilter.GaussianBlur(radius=0.8 * dpi / 200))
    image = image.rotate(0.8, resample=Image.BICUBIC, fillcolor=255)
    image.save(out, "JPEG", quality=40)
    return out


def run_driver(engine, psm, dpi, inputs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [str(DRIVER), engine, str(psm), str(dpi), *map(str, inputs)],
        capture_output=True, text=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{engine}: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return [json.loads(line) for line in done.stdout.splitlines()], cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages-per-file", type=int, default=1)
    parser.add_argument("--sample", choices=["default", "journals"], default="default",
                        help="the six files' sample pages, or every page of the journal PDFs")
    parser.add_argument("--engines", default="faster-paddle:3,rapidocr:3,tesseract:3,tesseract:6")
    parser.add_argument("--dpis", default=",".join(map(str, DPIS)))
    parser.add_argument("--reference", choices=["raw", "reading", "both"], default="both",
                        help="text-layer order to compare with: content stream (-raw), "
                        "poppler's reading order, or both")
    parser.add_argument("--per-page", action="store_true", help="also print every page's figures")
    parser.add_argument("--save", help="append every page's OCR text and scores to this JSONL file")
    args = parser.parse_args()
    names = list(REFERENCES) if args.reference == "both" else [args.reference]
    print_header(names)
    subprocess.run(["cargo", "build", "--release", "-q", "--example", "ocr_pages"], cwd=REPO, check=True)
    engines = [(e.split(":")[0], int(e.split(":")[1])) for e in args.engines.split(",")]
    dpis = [int(d) for d in args.dpis.split(",")]
    if args.sample == "journals":
        pages = [(PDFS / f, p) for f, ps in JOURNALS for p in ps]
    else:
        pages = [(PDFS / f, p) for f, ps in SAMPLE for p in ps[: args.pages_per_file]]
    references = {(pdf, page): {n: reference_text(pdf, page, n) for n in names} for pdf, page in pages}
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        for dpi in dpis:
            for variant in ["clean", "degraded"]:
                images = {}
                for pdf, page in pages:
                    image = render(pdf, page, dpi, scratch / f"{pdf.stem}-{page}-{dpi}")
                    if variant == "degraded":
                        image = degrade(image, dpi, scratch / f"{pdf.stem}-{page}-{dpi}-degraded.jpg")
                    images[image] = (pdf, page)
                for engine, psm in engines:
                    if engine == "tesseract" and psm != 3 and (dpi != 200 or variant != "clean"):
                        continue  # other segmentation modes only at the reference setting
                    results, cpu = run_driver(engine, psm, dpi, list(images))
                    errors = [score(r["text"], references[images[Path(r["file"])]]) for r in results]
                    confidences = [r["confidence"] for r in results]
                    rows.append((engine, psm, dpi, variant, errors, confidences, cpu, results))
                    save(args.save, rows[-1], results)
                    print_row(rows[-1], flush=True)
        for engine, psm in engines:
            if engine == "tesseract" and psm != 3:
                continue
            scan, source, first = SCANNED
            inputs = [f"{PDFS / scan}:{n}" for n in (1, 2, 3)]
            results, cpu = run_driver(engine, psm, 200, inputs)
            errors = [
                score(r["text"], {n: reference_text(PDFS / source, first + i, n) for n in names})
                for i, r in enumerate(results)
            ]
            rows.append((engine, psm, "200 (image 96)", "imageonly.pdf", errors, [r["confidence"] for r in results],
                         cpu, results))
            save(args.save, rows[-1], results)
            print_row(rows[-1], flush=True)
    if args.per_page:
        print_pages(rows, names)


def save(path, row, results):
    if path:
        engine, psm, dpi, variant, errors, _, _, _ = row
        with open(path, "a", encoding="utf-8") as out:
            for result, scores in zip(results, errors):
                line = dict(result, psm=psm, setting=f"{dpi} {variant}")
                for name, (error, moved, order_free) in scores.items():
                    line[name] = {"cer": error, "block_move_cer": moved, "order_free_cer": order_free}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")


def engine_name(engine, psm):
    return engine if engine != "tesseract" else f"tesseract psm {psm}"


def print_header(names):
    per_reference = [f"{n}: {c}" for n in names for c in
                     ("median CER", "worst CER", "median CER, block moves free", "median order-free CER")]
    columns = ["engine", "dpi", "image", "pages", *per_reference, "median confidence", "pages per CPU-second"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns), flush=True)


def print_row(row, flush=False):
    engine, psm, dpi, variant, errors, confidences, cpu, _ = row
    figures = []
    for name in errors[0]:
        cers, moved, order_free = zip(*(page[name] for page in errors))
        figures += [statistics.median(cers), max(cers), statistics.median(moved), statistics.median(order_free)]
    print(
        f"| {engine_name(engine, psm)} | {dpi} | {variant} | {len(errors)} | "
        + "".join(f"{f:.1%} | " for f in figures)
        + f"{statistics.median(confidences):.3f} | {len(errors) / cpu:.3f} |",
        flush=flush,
    )


def print_pages(rows, names):
    per_reference = [f"{n}: {c}" for n in names for c in ("CER", "block moves free", "order-free")]
    columns = ["engine", "setting", "page", *per_reference, "confidence"]
    print("\n| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for engine, psm, dpi, variant, errors, _, _, results in rows:
        for result, scores in zip(results, errors):
            figures = "".join(f"{f:.1%} | " for name in names for f in scores[name])
            print(f"| {engine_name(engine, psm)} | {dpi} {variant} | {Path(result['file']).name} | {figures}"
                  f"{result['confidence']:.3f} |")


if __name__ == "__main__":
    main()
