"""Tokenises sentences with HF transformers from a medcorpus vocab/ folder, for tests/vocab.rs.

stdin: {"dir": "...", "sentences": ["...", ...]}
stdout: {"transformers": "<version>", "auto": [[ids]...], "vocab_txt": [[ids]...]}
"auto" loads the folder with AutoTokenizer.from_pretrained (tokenizer.json);
"vocab_txt" builds BertTokenizerFast(vocab=path) from vocab.txt alone. (transformers 5.x
silently ignores `vocab_file=`: the keyword is `vocab`.)
"""
import json
import os
import sys

from transformers import AutoTokenizer, BertTokenizerFast
import transformers

request = json.load(sys.stdin)
folder = request["dir"]
auto = AutoTokenizer.from_pretrained(folder)
from_vocab = BertTokenizerFast(vocab=os.path.join(folder, "vocab.txt"), do_lower_case=True)
print(json.dumps({
    "transformers": transformers.__version__,
    "auto_class": type(auto).__name__,
    "auto_size": len(auto),
    "vocab_txt_size": len(from_vocab),
    "auto": [auto(s)["input_ids"] for s in request["sentences"]],
    "vocab_txt": [from_vocab(s)["input_ids"] for s in request["sentences"]],
}))
