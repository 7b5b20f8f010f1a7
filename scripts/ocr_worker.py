"""OCR worker for medcorpus (src/ocr/worker.rs): PaddleOCR's PP-OCR models on ONNX Runtime, through
one of two PyPI packages that ship the models inside their wheel:

- `faster-paddle`: PP-OCRv6 tiny detection and recognition (Rust pre/post-processing); about five
  times less CPU per page than the small models at nearly the same accuracy (benches/ocr_eval.py);
- `rapidocr`: PP-OCRv6 small detection and recognition, plus the PP-OCR v2.0 line-angle classifier.

Usage: python -c SCRIPT faster-paddle|rapidocr. Reads one image path per line on stdin and answers
each with one JSON line on stdout:
{"lines": [{"box": [[x, y] × 4 corners, clockwise from top left], "text": "...", "score": 0.98}, ...]}
or {"error": "..."}.
Reading order is left to the caller. Only models inside the wheels are used (faster-paddle's
`medium` and rapidocr's default model choice would download): nothing is ever downloaded. One
thread per worker: the caller runs as many workers as it has cores to spare.
"""
import json
import sys
from pathlib import Path


def faster_paddle():
    from faster_paddle import OcrEngine

    engine = OcrEngine(model_size="tiny", threads=1)

    def recognise(path):
        result = engine.ocr(Path(path).read_bytes())
        lines = []
        for found in result["bounds"].values():
            (x0, y0), (x1, y1) = found["topLeftCoord"], found["bottomRightCoord"]
            lines.append(
                {
                    "box": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
                    "text": found["text"],
                    "score": float(found["confidence"]),
                }
            )
        return lines

    return recognise


def rapidocr():
    import rapidocr
    from rapidocr import RapidOCR

    models = Path(rapidocr.__file__).parent / "models"
    det, rec, cls = (
        models / "PP-OCRv6_det_small.onnx",
        models / "PP-OCRv6_rec_small.onnx",
        models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    )
    for model in (det, rec, cls):
        if not model.is_file():
            raise FileNotFoundError(f"the rapidocr wheel has no {model.name}")
    engine = RapidOCR(
        params={
            "Global.log_level": "error",
            # Pages are big: keep full resolution up to an A4 page at 300 dpi.
            "Global.max_side_len": 3600,
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            "Det.model_path": str(det),
            "Rec.model_path": str(rec),
            "Cls.model_path": str(cls),
        }
    )

    def recognise(path):
        result = engine(path)
        return [
            {"box": [[float(x), float(y)] for x, y in box], "text": text, "score": float(score)}
            for box, text, score in zip(
                result.boxes if result.boxes is not None else [],
                result.txts or [],
                result.scores or [],
            )
        ]

    return recognise


BACKENDS = {"faster-paddle": faster_paddle, "rapidocr": rapidocr}


def main():
    try:
        recognise = BACKENDS[sys.argv[1]]()
    except Exception as error:  # reported to the caller, which names the missing package
        print(json.dumps({"error": f"cannot start {sys.argv[1:]}: {error}"}), flush=True)
        return
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        try:
            reply = {"lines": recognise(path)}
        except Exception as error:
            reply = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(reply, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
