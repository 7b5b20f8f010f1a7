"""Checks medcorpus's tokenised outputs with tools written independently of it.

Usage: check_megatron.py OUTPUT_DIR VOCAB_TXT

- Reads megatron/{split}_text_sentence.{bin,idx} with a reader written from the MMIDIDX layout of
  Megatron-LM's megatron/core/datasets/indexed_dataset.py (numpy only), and checks every sequence
  equals HF BertTokenizerFast (no special tokens) on the matching line of bert/{split}-*.txt, and
  the document indices equal the blank-line-separated blocks there.
- Checks the word-start sidecar has the same shape, and wwm/{split}-*.ref.txt (HF chinese_ref) has
  one JSON list per non-blank text line with positions of single Chinese characters.
- Loads docs/*.jsonl.zst with datasets.load_dataset("json", ...) unchanged.
Prints a JSON summary; exits non-zero on the first mismatch.
"""
import glob
import json
import os
import struct
import sys

import numpy as np

DTYPES = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 6: np.float64, 7: np.float32, 8: np.uint16}


def read_indexed(prefix):
    with open(prefix + ".idx", "rb") as f:
        idx = f.read()
    assert idx[:9] == b"MMIDIDX\x00\x00", "bad magic"
    version, = struct.unpack_from("<Q", idx, 9)
    assert version == 1, version
    code = idx[17]
    n_seq, n_doc = struct.unpack_from("<QQ", idx, 18)
    offset = 34
    lengths = np.frombuffer(idx, np.int32, n_seq, offset)
    offset += lengths.nbytes
    pointers = np.frombuffer(idx, np.int64, n_seq, offset)
    offset += pointers.nbytes
    doc_idx = np.frombuffer(idx, np.int64, n_doc, offset)
    offset += doc_idx.nbytes
    assert offset == len(idx), f"{len(idx) - offset} trailing bytes in {prefix}.idx"
    dtype = np.dtype(DTYPES[code])
    data = np.fromfile(prefix + ".bin", dtype=np.uint8)
    seqs = []
    for length, pointer in zip(lengths, pointers):
        seqs.append(np.frombuffer(data, dtype, int(length), int(pointer)).tolist())
    expected_end = int(pointers[-1]) + int(lengths[-1]) * dtype.itemsize if n_seq else 0
    assert expected_end == len(data), "bin size does not match the index"
    return dtype, seqs, doc_idx.tolist()


def text_blocks(paths):
    """Sentences per document, and the non-blank lines of each shard."""
    docs, per_shard = [], []
    for path in paths:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        shard_lines = []
        for block in text.split("\n\n"):
            lines = [l for l in block.split("\n") if l]
            if lines:
                docs.append(lines)
                shard_lines.extend(lines)
        per_shard.append(shard_lines)
    return docs, per_shard


def is_chinese_char(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def main():
    out, vocab = sys.argv[1], sys.argv[2]
    import transformers
    from transformers import BertTokenizerFast

    # transformers 5 ignores vocab_file= (see shared hf-reference README): pass vocab=.
    tokenizer = BertTokenizerFast(vocab=vocab)
    assert len(tokenizer) > 1000, f"vocabulary not loaded: {len(tokenizer)} tokens"
    summary = {"transformers": transformers.__version__}
    for split in ["train", "valid"]:
        texts = sorted(glob.glob(os.path.join(out, "bert", f"{split}-*.txt")))
        docs, per_shard = text_blocks(texts)
        lines = [l for d in docs for l in d]
        prefix = os.path.join(out, "megatron", f"{split}_text_sentence")
        dtype, seqs, doc_idx = read_indexed(prefix)
        assert dtype == np.uint16 if len(tokenizer) < 65500 else np.int32, dtype
        assert len(seqs) == len(lines), f"{split}: {len(seqs)} sequences, {len(lines)} lines"
        expected_doc_idx = [0]
        for d in docs:
            expected_doc_idx.append(expected_doc_idx[-1] + len(d))
        assert doc_idx == expected_doc_idx, f"{split}: document indices differ"
        hf = tokenizer(lines, add_special_tokens=False)["input_ids"] if lines else []
        for i, (ours, theirs) in enumerate(zip(seqs, hf)):
            assert ours == theirs, f"{split} line {i}: {lines[i]!r}\nours   {ours}\ntheirs {theirs}"
        _, starts, start_doc_idx = read_indexed(prefix + "_wordstart")
        assert start_doc_idx == doc_idx
        assert [len(s) for s in starts] == [len(s) for s in seqs]
        assert all(s[0] == 1 and set(s) <= {0, 1} for s in starts)
        refs = sorted(glob.glob(os.path.join(out, "wwm", f"{split}-*.ref.txt")))
        assert [os.path.basename(r)[: -len(".ref.txt")] for r in refs] == [
            os.path.basename(t)[: -len(".txt")] for t in texts
        ], "one ref file per text shard"
        n_refs = 0
        line_no = 0
        for ref_path, shard_lines in zip(refs, per_shard):
            with open(ref_path, encoding="utf-8") as f:
                ref_lines = [json.loads(l) for l in f.read().splitlines() if l.strip()]
            assert len(ref_lines) == len(shard_lines), ref_path
            for ref, line in zip(ref_lines, shard_lines):
                tokens = tokenizer.convert_ids_to_tokens(seqs[line_no])
                for p in ref:
                    token = tokens[p - 1]  # position 0 is [CLS]
                    assert p >= 2, (line, ref)
                    assert token == "[UNK]" or (len(token) == 1 and is_chinese_char(ord(token))), (line, p, token)
                    assert starts[line_no][p - 1] == 0, "a ref position continues a word"
                n_refs += len(ref)
                line_no += 1
        summary[split] = {"sequences": len(seqs), "documents": len(docs), "tokens": sum(map(len, seqs)),
                          "ref_positions": n_refs, "text_shards": len(texts)}

    import datasets

    files = sorted(glob.glob(os.path.join(out, "docs", "*.jsonl.zst")))
    ds = datasets.load_dataset("json", data_files=files, split="train")
    summary["datasets"] = datasets.__version__
    summary["docs_rows"] = ds.num_rows
    summary["docs_columns"] = sorted(ds.column_names)

    mlm_files = sorted(glob.glob(os.path.join(out, "mlm", "train-*.jsonl.zst")))
    if mlm_files:
        mlm = datasets.load_dataset("json", data_files=mlm_files, split="train")
        cls, sep = tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]"])
        for row in mlm:
            ids, segs, pos = row["input_ids"], row["segment_ids"], row["masked_lm_positions"]
            assert ids[0] == cls and ids[-1] == sep and len(ids) <= 128, ids
            assert len(segs) == len(ids) and segs[0] == 0 and segs[-1] == 1
            assert segs == sorted(segs), "segment ids are 0s then 1s"
            b_start = segs.index(1)
            assert ids[b_start - 1] == sep or b_start - 1 in pos
            assert pos == sorted(set(pos)) and 0 < len(pos) <= 20 and 0 not in pos
            assert len(row["masked_lm_ids"]) == len(pos)
            assert row["next_sentence_labels"] in (0, 1)
        summary["mlm_instances"] = mlm.num_rows
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
