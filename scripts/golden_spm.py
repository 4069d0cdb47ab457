#!/usr/bin/env python3
"""golden_spm.py — writes the SentencePiece goldens tests/golden/spm/{v1,v2,v3}.json.

Usage: /work/venv/bin/python scripts/golden_spm.py [--out tests/golden/spm]

For each of tokenizer.model.v1/v2/v3 (pinned fixtures, see scripts/fixture.py) it records
mistral-common's SentencePieceTokenizer.encode(s, bos, eos) and decode(ids) over a fixed
multilingual corpus, plus a seeded slice of the random strings that scripts/spm_diff.py uses,
plus decode-only cases (random id sequences with control and byte pieces, which exercise the
leading-space rule and U+FFFD for broken byte runs). tests/unit/test_spm.c checks every case.
The versions of sentencepiece and mistral-common and the model sha256 are stored with them.
"""
import argparse
import hashlib
import json
import os
import random
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Fixed corpus: the languages NeMo names plus others, code, emoji, whitespace of every kind,
# byte-fallback characters and text spelling control tokens.
CORPUS = [
    "", " ", "  ", "Hello", " Hello", "Hello world!", "  Hello  world  ", "hello\tworld",
    "The quick brown fox jumps over the lazy dog.",
    "Bonjour, comment ça va ? J'espère que tout va bien à Paris.",
    "Grüße aus München! Die Straße ist schön, Übermäßig große Äpfel.",
    "¿Dónde está la biblioteca? El niño comió paella en Valencia.",
    "Buongiorno! Perché la città è così bella? Però è caro.",
    "Olá, tudo bem? A ação de graças é amanhã, não é?",
    "你好，世界！今天天气很好，我们去公园散步吧。",
    "日本語のテキストです。カタカナとひらがな、漢字を含みます。",
    "안녕하세요, 세계! 한국어 문장을 토큰화합니다.",
    "مرحبا بالعالم! هذه جملة باللغة العربية.",
    "नमस्ते दुनिया! यह हिंदी में एक वाक्य है।",
    "Привет, мир! Съешь же ещё этих мягких французских булок.",
    "Γειά σου Κόσμε! Ελληνικά γράμματα.",
    "שלום עולם! זה משפט בעברית.",
    "สวัสดีชาวโลก ภาษาไทย",
    "Xin chào thế giới! Tiếng Việt có dấu.",
    "Merhaba dünya! Türkçe karakterler: ğüşıöç İ",
    "Witaj świecie! Zażółć gęślą jaźń.",
    "ሰላም ዓለም", "გამარჯობა მსოფლიო", "Բարեւ աշխարհ", "ᚠᛇᚻ᛫ᛒᛦᚦ", "ꦲꦏ꧀ꦱꦫꦗꦮ",
    "emoji: 😀😃😄 👍🏽 ❤️ 👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷🇩🇪🇯🇵 🧑🏿‍🚀",
    "family 👩‍❤️‍💋‍👨 and flags 🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    "line1\nline2\n\nline4\n", "crlf\r\nline\r\n", "tabs\t\tand  spaces   end   ",
    "\n\n\n", "\t", " \t \n ", "\u00a0non-breaking\u00a0space", "ideographic\u3000space",
    "zero\u200bwidth\u200cjoiner\u200d!", "\u2028line\u2029para",
    "1234567890", "3.14159265358979", "1,000,000.00", "x = 42; y = 0x1F; z = 1e-10",
    "def f(x):\n    return x ** 2  # square\n",
    "int main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}",
    "fn main() { let v: Vec<u8> = vec![1, 2, 3]; println!(\"{:?}\", v); }",
    "<html><body class=\"x\">&amp; &lt;</body></html>",
    "SELECT * FROM users WHERE id = 1 AND name LIKE '%a%';",
    "[INST] What is the capital of France? [/INST]", "[INST]", "[/INST]", "<s>", "</s>",
    "<unk>", "[TOOL_CALLS][{\"name\": \"f\"}]", "[AVAILABLE_TOOLS]", "[IMG][PREFIX][MIDDLE]",
    "[REFERENCE_DOC_1]", "a[REFERENCE_DOC_12]b", "[REFERENCE_DOC_0][REFERENCE_DOC_19]",
    "[REFERENCE_DOC_1", "<0x41>", "▁", "▁▁x ▁", "\x00", "a\x00b", "\x01\x02\x1f\x7f",
    "rare: \U0001d518\U0001d52b\U0001d526 \U00010348 \U0001f9ff \ue000\uf8ff \U0010fffd",
    "Ω≈ç√∫˜µ≤≥÷ åß∂ƒ©˙∆˚¬…æ œ∑´®†¥¨ˆøπ“‘",
    "ﬁﬂ ＡＢＣ ｱｲｳ ①②③ ㍿ ™ ℃",
    "Supercalifragilisticexpialidocious " * 3,
    "pneumonoultramicroscopicsilicovolcanoconiosis" * 20,
    "a" * 1000, " " * 100, "\n" * 50, "ab" * 300, "😀" * 50, "你" * 200,
    "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft",
]

# Raw byte strings that are not valid UTF-8 (lone continuation bytes, truncated sequences,
# overlongs, surrogates, values above U+10FFFF).
BYTE_CASES = [
    b"\xff", b"\xff\xfeab", b"a\x80b", b"\xe3\x81", b"\xe3\x81 x", b"\xc0\xaf", b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80", b"\xf0\x9f\x98", b"ok \xf0\x9f\x98\x80 \xf0\x9f", b"\xc3\xa9\xc3",
    b"[INST]\xff[/INST]", b"\x80" * 20,
]

# Pools for random strings (shared with spm_diff.py).
POOLS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "0123456789", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "     ", "\t\n\r", ["\r\n", "\n\n", "  ", "\u00a0", "\u3000", "\u2009", "\u200b"],
    "àáâäæçèéêëìíîïñòóôöùúûüÿßœÀÉÎÖÜ", "абвгдежзийклмнопрстуфхцчшщъыьэюяАБВ",
    "αβγδεζηθικλμνξοπρστυφχψω", "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年",
    "あいうえおかきくけこさしすせそアイウエオカキクケコ", "가나다라마바사아자차카타파하한국어",
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي", "अआइईउऊकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह",
    "אבגדהוזחטיכלמנסעפצקרשת", "กขคฆงจฉชซฌญฎฏฐฑฒณดตถทธนบปผฝพฟภมยรลวศษสหฬอฮ",
    ["😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "🏳️‍🌈", "❤️", "🧑🏿‍🚀", "\u200d", "\ufe0f"],
    ["[INST]", "[/INST]", "<s>", "</s>", "<unk>", "[REFERENCE_DOC_3]", "[TOOL_CALLS]", "▁",
     "<0x0A>", "[control_8]", "[IMG]"],
    ["\U0001d518", "\U00010348", "\ue000", "\U0010fffd", "\x00", "\x7f", "\ufffd", "\u0301",
     "\U0002a6d6", "\U0001f9ff"],
    ["the", " the", "ing", "tion", " and", "def ", "return", "    ", "http://", "://"],
]


def random_string(rng):
    """A random string built from mixed scripts, whitespace and tricky pieces."""
    n = rng.choice([0, 1, 2, 3, 5, 8, 13, 21, 40, 80])
    fav = rng.sample(range(len(POOLS)), 3)  # bias each string towards a few pools
    out = []
    for _ in range(n):
        pool = POOLS[rng.choice(fav) if rng.random() < 0.7 else rng.randrange(len(POOLS))]
        if rng.random() < 0.03:
            out.append(chr(rng.choice([rng.randrange(0x20, 0xD800),
                                       rng.randrange(0xE000, 0x110000)])))
        else:
            out.append(rng.choice(pool))
    return "".join(out)


_KINDS = {}  # id(processor) -> (byte ids, control ids)


def random_ids(rng, sp):
    """A random id sequence for decode-only checks: controls, bytes, unk, normal pieces."""
    n_pieces = sp.get_piece_size()
    if id(sp) not in _KINDS:
        _KINDS[id(sp)] = ([i for i in range(n_pieces) if sp.is_byte(i)],
                          [i for i in range(n_pieces) if sp.is_control(i)])
    byte_ids, ctrl_ids = _KINDS[id(sp)]
    out = []
    for _ in range(rng.randrange(0, 12)):
        r = rng.random()
        if r < 0.35:
            out.append(rng.choice(byte_ids))
        elif r < 0.5:
            out.append(rng.choice(ctrl_ids))
        elif r < 0.55:
            out.append(sp.unk_id())
        else:
            out.append(rng.randrange(n_pieces))
    return out


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def fixture(name):
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "fixture.py"), name],
                          check=True, capture_output=True, text=True).stdout.strip()


def load(version):
    """(mistral-common tokenizer, sentencepiece processor, path) for tokenizer.model.VERSION."""
    from mistral_common.tokens.tokenizers.sentencepiece import SentencePieceTokenizer
    path = fixture("tokenizer.model." + version)
    tok = SentencePieceTokenizer(path)
    return tok, tok._model, path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "golden", "spm"))
    ap.add_argument("--random", type=int, default=150, help="random strings per model")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    import mistral_common
    import sentencepiece
    from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy
    os.makedirs(args.out, exist_ok=True)
    for version in ("v1", "v2", "v3"):
        tok, sp, path = load(version)
        rng = random.Random(args.seed)
        texts = list(CORPUS) + [random_string(rng) for _ in range(args.random)]
        cases = []
        for i, text in enumerate(texts):
            bos, eos = (i % 3 == 1), (i % 5 == 2)
            ids = tok.encode(text, bos=bos, eos=eos)
            cases.append({"text": text, "bos": bos, "eos": eos, "ids": ids,
                          "decoded": tok.decode(ids, SpecialTokenPolicy.IGNORE)})
        decode_cases = []
        for _ in range(150):
            ids = random_ids(rng, sp)
            decode_cases.append({"ids": ids, "decoded": sp.decode(ids)})
        # Invalid UTF-8 cannot reach mistral-common (it takes str) but can reach the C API:
        # record what sentencepiece itself does with the raw bytes (U+FFFD per bad byte).
        byte_cases = []
        for raw in BYTE_CASES:
            byte_cases.append({"hex": raw.hex(), "ids": sp.encode(raw)})
        n = sp.get_piece_size()
        doc = {
            "generator": "scripts/golden_spm.py",
            "model": "tokenizer.model." + version,
            "model_sha256": sha256(path),
            "sentencepiece": sentencepiece.__version__,
            "mistral_common": mistral_common.__version__,
            "seed": args.seed,
            "vocab_size": n,
            "bos_id": sp.bos_id(),
            "eos_id": sp.eos_id(),
            "unk_id": sp.unk_id(),
            "control": [i for i in range(n) if sp.is_control(i)],
            "named": {p: sp.piece_to_id(p) for p in
                      ["<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[TOOL_CALLS]",
                       "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]",
                       "[/TOOL_RESULTS]", "[IMG]", "[PREFIX]", "[MIDDLE]", "[SUFFIX]",
                       "[REFERENCE_DOC_0]", "<0x0A>", "▁the", "▁"]
                      if sp.piece_to_id(p) != sp.unk_id() or p == "<unk>"},
            "cases": cases,
            "decode_cases": decode_cases,
            "byte_cases": byte_cases,
        }
        out = os.path.join(args.out, version + ".json")
        with open(out, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        print(f"{out}: {len(cases)} encode cases, {len(decode_cases)} decode cases",
              file=sys.stderr)


if __name__ == "__main__":
    main()
