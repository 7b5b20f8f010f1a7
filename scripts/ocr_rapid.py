"""OCR worker for medcorpus (src/ocr/rapid.rs): RapidOCR, i.e. PaddleOCR's PP-OCR models on ONNX Runtime.

Reads one image path per line on stdin and answers each with one JSON line on stdout:
{"lines": [{"box": [[x, y] × 4 corners, clockwise from top left], "text": "...", "score": 0.98}, ...]}
or {"error": "..."}.
Reading order is left to the caller. The models are the ones the `rapidocr` wheel ships; they are
named explicitly so that nothing is ever downloaded. One thread per worker: the caller runs as many
workers as it has cores to spare.
"""
import json
import sys
from pathlib import Path


def engine():
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
    return RapidOCR(
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


def recognise(ocr, path):
    result = ocr(path)
    lines = []
    for box, text, score in zip(
        result.boxes if result.boxes is not None else [],
        result.txts or [],
        result.scores or [],
    ):
        lines.append(
            {
                "box": [[float(x), float(y)] for x, y in box],
                "text": text,
                "score": float(score),
            }
        )
    return {"lines": lines}


def main():
    try:
        ocr = engine()
    except Exception as error:  # reported to the caller, which names the missing package
        print(json.dumps({"error": f"cannot start RapidOCR: {error}"}), flush=True)
        return
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        try:
            reply = recognise(ocr, path)
        except Exception as error:
            reply = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(reply, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
