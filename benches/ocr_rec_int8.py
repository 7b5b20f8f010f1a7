#!/usr/bin/env python3
"""Can the OCR recogniser go faster? Speed and accuracy of PP-OCRv6 tiny recognition (the model
faster-paddle runs, benches/ocr_eval.py) in float and int8, and with narrower input.

Recognition is about 80% of faster-paddle's CPU time on a 200 dpi journal page (86-96 text lines
of up to a column's width, each resized to 48 pixels high). This takes the text lines faster-paddle
finds on journal pages (evaluation) and on non-journal PDFs (calibration), crops them to 48 pixels
high as PaddleOCR does, and runs the recogniser on ONNX Runtime, one thread, one line at a time:
- float, as shipped, with the share of time each operator takes;
- static int8 (onnxruntime.quantization, QDQ, per-channel int8 weights, uint8 activations,
  percentile calibration) on every convolution, calibrated on the calibration lines, and again
  calibrated on the evaluation lines themselves (the best a calibration set could do);
- int8 on the 10 pointwise convolutions of the last two stages that cost least accuracy when
  quantised alone (--sensitivity prints that cost for every convolution);
- float on lines squeezed to 85% of their width, or shrunk to 85% inside the 48-pixel frame.
Also the detector's time on one page in float and int8 (every convolution).
Columns: CPU ms per line (mean over the evaluation lines), and the character error rate of each variant's text against
the float model's text (edit distance / length): what the variant adds to the engine's own errors.

The models are the ONNX files inside the faster-paddle wheel's native library (found by their
graph name; nothing is downloaded). Needs: poppler-utils, pip faster-paddle onnx onnxruntime
numpy pillow rapidfuzz. Usage: benches/ocr_rec_int8.py [--sensitivity]; about 5 minutes.
"""
import argparse
import json
import math
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)
from PIL import Image
from rapidfuzz.distance import Levenshtein

PDFS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "pdf"
EVALUATION = [("zh_consensus_cancer_pain_mgmt_2025_cjpm_cnki.pdf", 3),
              ("zh_consensus_fibromyalgia_2023_sowise.pdf", 5),
              ("zh_guideline_np_assessment_2024_cjpm_cqvip.pdf", 4),
              ("zh_consensus_pca_cancer_pain_2023_cjco_acrobat.pdf", 2)]
CALIBRATION = [(name, page) for name in (
    "zh_guideline_diabetes_diet_2023_nhc_word.pdf", "zh_spec_basic_public_health_services_2017_word.pdf",
    "zh_standard_healthy_elderly_ws802_2022_word.pdf", "zh_guideline_hypertension_2010_wps_foxit_unigb.pdf",
    "zh_guideline_cancer_pain_tcm_draft_word_aes.pdf", "zh_textbook_tcm_internal_medicine_excerpt_distiller.pdf")
    for page in (2, 5, 9)]
# Chosen with --sensitivity: the pointwise convolutions of the last two stages (most of the work)
# whose quantisation alone adds at most 0.31%. Quantising the early ones as well saves no time:
# their quantise/dequantise steps cost what int8 gains.
LEAST_SENSITIVE = ["Conv.16", "Conv.17", "Conv.19", "Conv.20", "Conv.27", "Conv.28", "Conv.30", "Conv.31",
                   "Conv.33", "Conv.34"]


def parsed(candidate):
    try:
        return onnx.load_from_string(candidate)
    except Exception:  # not a model's first byte
        return None


def wheel_models():
    """The tiny detection and recognition ONNX models and the recogniser's characters, as bytes
    inside faster-paddle's native library: each ModelProto is found by its graph's name."""
    import faster_paddle
    data = Path(faster_paddle.__file__).with_name("faster_paddle.abi3.so").read_bytes()
    models = []
    # The tiny models are the last two of the four (small detection and recognition come first).
    for name in list(re.finditer(rb"\x12\x1ePaddlePaddle Graph in PIR mode", data))[2:]:
        # The graph (field 7, tag 0x3a) holds the name; the model's ir_version (tag 0x08) comes a
        # few bytes before it and the opset imports (tag 0x42) right after it.
        for tag in range(name.start() - 1, 0, -1):
            if data[tag] != 0x3A:
                continue
            length, shift, at = 0, 0, tag + 1
            while True:
                byte = data[at]; at += 1; length |= (byte & 0x7F) << shift; shift += 7
                if byte < 0x80:
                    break
            if at + length > name.start() and data[at] == 0x0A:
                end = at + length
                while data[end] == 0x42:
                    end += 2 + data[end + 1]
                models.append(next(model for start in range(tag - 1, tag - 64, -1)
                                   if data[start] == 0x08 and (model := parsed(data[start:end]))))
                break
    tiny_det, tiny_rec = models
    characters = json.JSONDecoder().raw_decode(data[data.index(b'["!", ', end):].decode("utf-8", "replace"))[0]
    return tiny_det, tiny_rec, characters + [" "]


def line_crops(pages, workdir):
    """48-pixel-high crops of the lines faster-paddle finds, normalised to [-1, 1]."""
    from faster_paddle import OcrEngine
    engine = OcrEngine(model_size="tiny", threads=1)
    crops = []
    for pdf, page in pages:
        stem = workdir / f"{Path(pdf).stem}-{page}"
        subprocess.run(["pdftoppm", "-r", "200", "-gray", "-png", "-singlefile", "-f", str(page),
                        "-l", str(page), str(PDFS / pdf), str(stem)], check=True)
        image = Image.open(f"{stem}.png").convert("L")
        for line in engine.ocr(Path(f"{stem}.png").read_bytes())["bounds"].values():
            if line["confidence"] < 0.5:
                continue
            (x0, y0), (x1, y1) = line["topLeftCoord"], line["bottomRightCoord"]
            crop = image.crop((int(x0), int(y0), math.ceil(x1), math.ceil(y1)))
            if min(crop.size) < 4:
                continue
            width = min(max(math.ceil(48 * crop.width / crop.height), 16), 3200)
            crops.append(np.asarray(crop.resize((width, 48), Image.BILINEAR), np.float32) / 127.5 - 1)
    return crops


def session(model):
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString() if isinstance(model, onnx.ModelProto) else model,
                                options, providers=["CPUExecutionProvider"])


def as_input(crop):
    return np.repeat(crop[None, None], 3, axis=1)


def recognise(model, crops, characters):
    """(texts, mean ms per line) of greedy CTC decoding, one line per run."""
    run = session(model)
    run.run(None, {"x": as_input(crops[0])})
    started, texts = time.process_time(), []
    for crop in crops:
        best = run.run(None, {"x": as_input(crop)})[0][0].argmax(-1)
        texts.append("".join(characters[k - 1] for i, k in enumerate(best) if k and (i == 0 or k != best[i - 1])))
    spent = time.process_time() - started
    return texts, spent * 1000 / len(crops)


def profile(model, workdir):
    """Each operator's share of one 48x960 line's run, and the rate of the pointwise
    convolutions (multiply-adds per second: a core's fused multiply-add peak bounds it)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.enable_profiling, options.profile_file_prefix = True, str(workdir / "profile")
    run = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    line = as_input(np.zeros((48, 960), np.float32))
    for _ in range(20):
        run.run(None, {"x": line})
    by_op, macs, pointwise_us = {}, 0, 0
    for event in json.loads(Path(run.end_profiling()).read_text()):
        if event.get("cat") != "Node" or not event["name"].endswith("_kernel_time"):
            continue
        op = event["args"]["op_name"]
        by_op[op] = by_op.get(op, 0) + event["dur"]
        shapes = [next(iter(t.values())) for t in event["args"].get("input_type_shape", [])]
        if op == "Conv" and len(shapes) > 1 and shapes[1][2:] == [1, 1] and shapes[1][1] > 1:
            out_channels, in_channels = shapes[1][:2]
            macs += out_channels * in_channels * math.prod(shapes[0][2:]) * shapes[0][0]
            pointwise_us += event["dur"]
    total = sum(by_op.values())
    shares = ", ".join(f"{op} {us / total:.0%}" for op, us in sorted(by_op.items(), key=lambda kv: -kv[1])[:4])
    print(f"float, one 48x960 line: {total / 20 / 1000:.1f} ms; {shares}; pointwise convolutions at "
          f"{macs / pointwise_us / 1000:.0f} G multiply-adds per second")


def detector_ms(model, workdir):
    """CPU ms of the detector on one A4 page at 200 dpi (1600 pixels high, as faster-paddle sizes
    it), in float and in static int8 calibrated on the calibration pages."""
    def page(png):
        image = Image.open(png).convert("RGB")
        scale = 1600 / max(image.size)
        width, height = (max(32, round(side * scale / 32) * 32) for side in image.size)
        normalised = (np.asarray(image.resize((width, height), Image.BILINEAR), np.float32) / 255
                      - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
        framed = np.zeros((1600, 1600, 3), np.float32)  # the calibrator needs one shape
        framed[:height, :width] = normalised
        return framed.transpose(2, 0, 1)[None].astype(np.float32)
    pages = [page(workdir / f"{Path(pdf).stem}-{number}.png") for pdf, number in CALIBRATION[::3]]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.pages = iter(pages)

        def get_next(self):
            x = next(self.pages, None)
            return None if x is None else {"x": x}
    source, target = workdir / "det.onnx", workdir / "det-int8.onnx"
    onnx.save(fused(model, workdir), source)
    quantize_static(source, target, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax, op_types_to_quantize=["Conv"])
    times = []
    for variant in (str(source), str(target)):
        run, x = session(variant), pages[0][:, :, :, :1120]
        run.run(None, {"x": x})
        started = time.process_time()
        for _ in range(5):
            run.run(None, {"x": x})
        times.append((time.process_time() - started) / 5 * 1000)
    return times


def error_rate(texts, reference):
    return sum(Levenshtein.distance(a, b) for a, b in zip(texts, reference)) / sum(map(len, reference))


def quantised(model, calibration, workdir, nodes=None):
    class Reader(CalibrationDataReader):
        def __init__(self):
            self.lines = iter(calibration)

        def get_next(self):
            crop = next(self.lines, None)
            if crop is None:
                return None
            padded = np.zeros((48, 960), np.float32)  # the histogram calibrator needs one shape
            padded[:, :min(960, crop.shape[1])] = crop[:, :960]
            return {"x": as_input(padded)}
    source, target = workdir / "float.onnx", workdir / "int8.onnx"
    onnx.save(model, source)
    quantize_static(source, target, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.Percentile, op_types_to_quantize=["Conv"],
                    nodes_to_quantize=nodes)
    return str(target)


def resized(crops, width_scale, height_scale):
    out = []
    for crop in crops:
        grey = Image.fromarray(((crop + 1) * 127.5).clip(0, 255).astype(np.uint8))
        width, height = max(8, round(crop.shape[1] * width_scale)), round(48 * height_scale)
        small = np.asarray(grey.resize((width, height), Image.BILINEAR), np.float32) / 127.5 - 1
        framed = np.full((48, width), np.percentile(crop, 90), np.float32)
        framed[(48 - height) // 2:(48 - height) // 2 + height] = small
        out.append(framed)
    return out


def fused(model, workdir):
    """The model with ONNX Runtime's own fusions (Gelu) applied, so that quantisation keeps them."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(workdir / "fused.onnx")
    ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return onnx.load(workdir / "fused.onnx")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sensitivity", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        det, rec, characters = wheel_models()
        rec = fused(rec, workdir)
        evaluation, calibration = line_crops(EVALUATION, workdir), line_crops(CALIBRATION, workdir)
        random.seed(1)
        calibration = random.sample(calibration, min(200, len(calibration)))
        print(f"{len(evaluation)} evaluation lines (mean width {np.mean([c.shape[1] for c in evaluation]):.0f}),"
              f" {len(calibration)} calibration lines", file=sys.stderr)
        profile(rec, workdir)
        reference, float_ms = recognise(rec, evaluation, characters)
        rows = [("float (as shipped)", float_ms, 0.0)]
        if args.sensitivity:
            for node in [n.name for n in rec.graph.node if n.op_type == "Conv"]:
                texts, ms = recognise(quantised(rec, calibration, workdir, [node]), evaluation, characters)
                rows.append((f"int8 {node} alone", ms, error_rate(texts, reference)))
        variants = [
            ("int8, every convolution", lambda: quantised(rec, calibration, workdir), evaluation),
            ("int8, every convolution, calibrated on the evaluation lines",
             lambda: quantised(rec, random.sample(evaluation, min(200, len(evaluation))), workdir), evaluation),
            ("int8, 10 least sensitive pointwise convolutions",
             lambda: quantised(rec, calibration, workdir, LEAST_SENSITIVE), evaluation),
            ("float, lines squeezed to 85% width", lambda: rec, resized(evaluation, 0.85, 1.0)),
            ("float, lines shrunk to 85% in the frame", lambda: rec, resized(evaluation, 0.85, 0.85)),
        ]
        for label, model, crops in variants:
            texts, ms = recognise(model(), crops, characters)
            rows.append((label, ms, error_rate(texts, reference)))
        print("detector, one page 1600x1120: %.0f ms float, %.0f ms int8" % tuple(detector_ms(det, workdir)))
        print("| recogniser | ms per line | CER against the float model's text |\n|---|---|---|")
        for label, ms, rate in rows:
            print(f"| {label} | {ms:.1f} | {rate * 100:.2f}% |")


if __name__ == "__main__":
    main()
