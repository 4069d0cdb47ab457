#!/usr/bin/env python3
"""golden_gguf_vocab.py — writes the goldens of the GGUF vocabularies (tests/golden/gguf_vocab/):

  smollm2.json  SmolLM2-135M-Instruct.Q4_1.gguf (gpt2 BPE, pre "smollm"): for every text, the ids
                of llama.cpp (llama-cpp-python 0.3.36, Llama(vocab_only=True).tokenize(bytes,
                add_bos=False, special=False)) and of transformers' tokenizer loaded from the same
                GGUF (encode(add_special_tokens=False)); the ids of llama.cpp for the same
                vocabulary under the "gpt-2" pre-tokenizer (a copy made by gguf_vocab_make.py);
                invalid UTF-8 inputs (llama.cpp only); chat prompts from transformers'
                apply_chat_template(..., add_generation_prompt=True) with the GGUF's template.
  spm_v3.json   a "llama" GGUF made from Mistral's tokenizer.model.v3 by gguf_vocab_make.py:
                llama.cpp's ids and sentencepiece's (through mistral-common) for the same texts.

tests/unit/test_tokenizer_gguf.c compares nemo.c with llama.cpp's ids (the reference: nemo runs
the same GGUF files); the transformers / sentencepiece ids are recorded to show where the
references themselves disagree (the script prints those cases).

Usage: /work/venv/bin/python scripts/golden_gguf_vocab.py   (needs llama-cpp-python 0.3.36,
transformers, gguf, mistral-common; the fixtures come from scripts/fixture.py)
"""
import base64
import importlib.util
import os
import subprocess
import sys
import tempfile

from golden_io import fixture, write_json_lines

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tekken_texts():
    spec = importlib.util.spec_from_file_location(
        "golden_tokenizer", os.path.join(ROOT, "scripts", "golden_tokenizer.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return dict(m.TEXTS)


EXTRA = {
    "contractions": "I'm you're we've they'll she'd it's DON'T Y'ALL 'tis o'clock can't won't "
                    "'s 't 're 've 'm 'll 'd '' ' s",
    "digit_runs": "0 12 345 6789 1234567890123 a1b2c3 3.14 1e-9 v2.0.1 #42 $100 50% ٣٤٥ ²³",
    "space_runs": "a  b   c\t\t d \n\n  e   \n",
    "leading_spaces": "   leading and trailing   ",
    "letters_new_in_unicode16": "\U0001e5d0\U0001e5d1 \U00016d43x \U00011bc0",
    "cjk_ext_i": "\U0002ebf0\U0002ebf1 漢",
    "apostrophe_unicode": "it’s l’été ʼn",
    "special_text": "<|im_start|>user\nhi<|im_end|> <|endoftext|> <repo_name>",
    "long_word": "Pneumonoultramicroscopicsilicovolcanoconiosis" * 20,
    "long_digits": "9" * 500,
    "zero_width": "a\u200bb\u200dc\ufeffd",
    "tab_newline_mix": "\t\n\t \n \t",
    # long and repetitive: the encoder's per-call word memo (texts of 2 KB or more)
    "repetitive_long": "The cat sat on the mat; the dog didn't. 12 cats, 3 dogs! " * 80 +
                       "Über naïve café — 東京 東京 Привет Привет " * 40,
}

USER_TEXTS = ["a[REFERENCE_DOC_1]b", "[REFERENCE_DOC_12] x [REFERENCE_DOC_1]",
              "Doc:[REFERENCE_DOC_19][REFERENCE_DOC_1]9 end", "[REFERENCE_DOC_0]",
              "  [REFERENCE_DOC_3]  spaced  "]

INVALID = [b"ab\xffcd", b"\xe2\x82 x", b"\xf0\x9f\x98", b"\xc3\x28\xa0\xa1",
           b"\xed\xa0\x80 surrogate", b"\xc0\xaf overlong", b"ok \xe2\x82\xac \xe2\x82",
           b"\x80\x81 lone continuation", b"\xf8\x88\x80\x80\x80 five byte"]

CHATS = {
    "single_turn": [{"role": "user", "content": "What is the capital of France?"}],
    "system_multi_turn": [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Hi!"},
        {"role": "assistant", "content": "Hello. What do you need?"},
        {"role": "user", "content": "List 3 primes, please: 2, 3, ..."}],
    "no_system_multi_turn": [
        {"role": "user", "content": "Écris un haïku."},
        {"role": "assistant", "content": "Lune d'automne —\nle silence du jardin\ncoupé d'un grillon"},
        {"role": "user", "content": "Merci ! 😀"}],
    "system_only_user": [{"role": "system", "content": ""}, {"role": "user", "content": ""}],
    "whitespace_content": [{"role": "user", "content": "  spaced  \n\n"}],
    "code": [{"role": "user", "content": "def f(x):\n    return x ** 2\n\nprint(f(3))"}],
}


def llama(path):
    from llama_cpp import Llama
    return Llama(model_path=path, vocab_only=True, verbose=False)


def main():
    import llama_cpp
    import transformers
    from transformers import AutoTokenizer

    texts = tekken_texts()
    texts.update(EXTRA)
    smol = fixture("SmolLM2-135M-Instruct.Q4_1.gguf")
    tmp = tempfile.mkdtemp()
    gpt2_path = os.path.join(tmp, "smollm2_gpt2.gguf")
    make = [sys.executable, os.path.join(ROOT, "scripts", "gguf_vocab_make.py")]
    subprocess.run(make + ["repre", smol, gpt2_path, "--pre", "gpt-2"], check=True)

    ll = llama(smol)
    ll2 = llama(gpt2_path)
    hf = AutoTokenizer.from_pretrained(os.path.dirname(smol), gguf_file=os.path.basename(smol))
    cases, disagree = [], []
    for name, text in texts.items():
        b = text.encode("utf-8")
        ids = ll.tokenize(b, add_bos=False, special=False)
        hf_ids = hf.encode(text, add_special_tokens=False)
        gpt2 = ll2.tokenize(b, add_bos=False, special=False)
        cases.append({"name": name, "text": text, "ids": ids, "hf_ids": hf_ids,
                      "gpt2_ids": gpt2})
        if hf_ids != ids:
            disagree.append(name)
    invalid = [{"bytes_b64": base64.b64encode(raw).decode(),
                "ids": ll.tokenize(raw, add_bos=False, special=False),
                "gpt2_ids": ll2.tokenize(raw, add_bos=False, special=False)} for raw in INVALID]
    chats = []
    for name, msgs in CHATS.items():
        ids = hf.apply_chat_template(msgs, add_generation_prompt=True, tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "keys"):
            ids = ids["input_ids"]
        text = hf.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
        chats.append({"name": name, "request": {"messages": msgs}, "text": text,
                      "ids": list(ids)})
    out = {
        "generator": "scripts/golden_gguf_vocab.py",
        "llama_cpp_python": llama_cpp.__version__,
        "transformers": transformers.__version__,
        "gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "hf_disagrees_with_llama_cpp": disagree,
        "cases": cases,
        "invalid_utf8": invalid,
        "chats": chats,
    }
    dst = os.path.join(ROOT, "tests", "golden", "gguf_vocab", "smollm2.json")
    write_json_lines(dst, out)
    print(f"wrote {dst}: {len(cases)} texts; transformers differs from llama.cpp on: "
          f"{disagree or 'none'}", file=sys.stderr)

    # SentencePiece "llama" vocabulary (Mistral 7B v3)
    from mistral_common.tokens.tokenizers.sentencepiece import SentencePieceTokenizer
    v3 = fixture("tokenizer.model.v3")
    spm_path = os.path.join(tmp, "spm_v3.gguf")
    subprocess.run(make + ["spm", v3, spm_path], check=True)
    ls = llama(spm_path)
    sp = SentencePieceTokenizer(v3)
    cases, disagree = [], []
    for name, text in texts.items():
        if name == "special_text":
            continue
        ids = ls.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        sp_ids = sp.encode(text, bos=False, eos=False)
        cases.append({"name": name, "text": text, "ids": ids, "sp_ids": sp_ids})
        if sp_ids != ids:
            disagree.append(name)
    # the same vocabulary with its USER_DEFINED pieces kept as such ([REFERENCE_DOC_n]):
    # llama.cpp cuts them out of the text first and prefixes the next fragment with a space
    user_path = os.path.join(tmp, "spm_v3_user.gguf")
    subprocess.run(make + ["spm", v3, user_path, "--keep-user"], check=True)
    lu = llama(user_path)
    user_cases = []
    for text in USER_TEXTS:
        user_cases.append({"text": text, "ids": lu.tokenize(text.encode("utf-8"), add_bos=False,
                                                            special=False)})
    out = {
        "generator": "scripts/golden_gguf_vocab.py",
        "llama_cpp_python": llama_cpp.__version__,
        "source": "tokenizer.model.v3 via scripts/gguf_vocab_make.py spm",
        "user_defined_cases": user_cases,
        "sentencepiece_disagrees_with_llama_cpp": disagree,
        "bos_eos": {"text": "Hello!", "ids": ls.tokenize(b"Hello!", add_bos=True, special=False)},
        "cases": cases,
    }
    dst = os.path.join(ROOT, "tests", "golden", "gguf_vocab", "spm_v3.json")
    write_json_lines(dst, out)
    print(f"wrote {dst}: {len(cases)} texts; sentencepiece differs from llama.cpp on: "
          f"{disagree or 'none'}", file=sys.stderr)


if __name__ == "__main__":
    main()
