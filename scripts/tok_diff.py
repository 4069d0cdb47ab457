#!/usr/bin/env python3
"""tok_diff.py — randomized differential test of `nemo tokenize` against mistral-common.

Builds N seeded random strings from mixed scripts, whitespace kinds, emoji sequences,
punctuation, digits, control-token spellings, random code points and (sometimes) invalid UTF-8
bytes; encodes them all in one `nemo tokenize --batch` process and with mistral-common's
Tekkenizer (the bytes decoded with errors="replace", as nemo.c documents), and reports every
difference. Exit 0 only if there is none.

Usage: python scripts/tok_diff.py [--n 100000] [--seed 1] [--bin build/release/nemo]
                                  [--tekken PATH]
"""
import argparse
import os
import random
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPTS = [
    "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿß",
    "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝ", "ǅǈǋǲᾈᾉᾊᾋᾘᾙᾨᾩ", "ʰʱʲʳʴʵʶʷʸˀˁˆˇˈ々〻ゝゞー",
    "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώ", "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя", "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
    "աբգդեզէըթժիլխծկհձղճմյնշոչպջռսվտրցւփքօֆ", "אבגדהוזחטיכלמנסעפצקרשת",
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي", "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652",
    "अआइईउऊऋएऐओऔकखगघङचछजझञटठडढणतथदधनपफबभमयरलवशषसह", "\u093e\u093f\u0940\u0941\u0942\u0947\u0948\u094b\u094c\u094d\u0902\u0903",
    "অআইঈউঊঋএঐওঔকখগঘঙচছজঝঞ", "அஆஇஈஉஊஎஏஐஒஓஔகஙசஞடணதநபமயரலவழளறன\u0bcd\u0bbe\u0bbf",
    "กขฃคฅฆงจฉชซฌญฎฏฐฑฒณดตถทธนบปผฝพฟภมยรลวศษสหฬอฮ\u0e31\u0e34\u0e35\u0e36\u0e37\u0e48\u0e49",
    "აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ", "ᲐᲑᲒᲓᲔᲕᲖᲗᲘᲙᲚᲛ",
    "가나다라마바사아자차카타파하한국어안녕하세요", "\u1100\u1161\u11a8\u1102\u1162",
    "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん",
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン",
    "ｱｲｳｴｵｶｷｸｹｺﾞﾟ", "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年",
    "ሀለሐመሠረሰሸቀበተቸኀነኘአከኸወዐዘዠየደጀገጠጨጰጸፀፈፐ", "កខគឃងចឆជឈញដឋឌឍណតថទធនបផពភមយរលវ",
    "\u0300\u0301\u0302\u0303\u0308\u030a\u0327\u0328\u20dd\u20e3\u0488", "ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ½¼¾²³¹⁰⁴",
    "0123456789", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९", "０１２３４５６７８９",
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "¡¿«»‹›“”‘’„‚–—…·•§¶©®™°±×÷€£¥¢",
    "。、「」『』【】〈〉《》！？：；，．", "←↑→↓↔⇒⇔∀∂∃∅∇∈∉∏∑√∞∧∨∩∪∫≈≠≡≤≥⊂⊃",
    "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad", "\ue000\ue001\uf8ff",
    "\U0001e5d0\U0001e5d1\U00016d43\U00011bc0\U0002ebf0\U00031350", "𝐀𝐁𝐂𝒶𝒷𝒸𝔄𝔅ℌℑ",
]
SPACES = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", " \n", "\n ", "\u00a0", "\u3000",
          "\u2028", "\u2029", "\u0085", "\u000b", "\u000c", "\u1680", "\u2000", "\u2003",
          "\u2009", "\u200a", "\u202f", "\u205f", " \t ", "\t\n", "\n\n\n", "    "]
EMOJI = ["😀", "👍🏽", "❤️", "🇫🇷", "🇯🇵", "🏳️‍🌈", "👨‍👩‍👧‍👦", "🧑🏿‍💻", "#️⃣", "1️⃣", "🤷‍♀️", "🐈‍⬛",
         "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "☺︎", "✌🏻"]
SPECIAL = ["[INST]", "[/INST]", "</s>", "<s>", "<unk>", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]",
           "<SPECIAL_20>", "<pad>", "[IMG]", "[/TOOL_RESULTS]"]
WORDS = ["the", "The", "HTTP", "McDonald", "iPhone", "don't", "l'eau", "naïve", "straße",
         "日本語", "русский", "def", "return", "0x1F", "foo_bar", "fooBar", "://", "==", "->"]
INVALID = [b"\xff", b"\xfe", b"\x80", b"\xbf", b"\xc0\xaf", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98",
           b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xc3\x28"]


def rand_cp(rng):
    while True:
        cp = rng.choice([rng.randrange(0x80, 0x800), rng.randrange(0x800, 0x10000),
                         rng.randrange(0x10000, 0x32000), rng.randrange(0x0, 0x110000)])
        if not 0xD800 <= cp < 0xE000:
            return chr(cp)


def rand_string(rng):
    parts = []
    for _ in range(rng.randrange(1, 16)):
        k = rng.random()
        if k < 0.35:
            s = rng.choice(SCRIPTS)
            parts.append("".join(rng.choice(s) for _ in range(rng.randrange(1, 12))))
        elif k < 0.55:
            parts.append(rng.choice(SPACES))
        elif k < 0.63:
            parts.append(rng.choice(WORDS))
        elif k < 0.70:
            parts.append(rng.choice(EMOJI))
        elif k < 0.74:
            parts.append(rng.choice(SPECIAL))
        elif k < 0.84:
            parts.append("".join(rand_cp(rng) for _ in range(rng.randrange(1, 4))))
        elif k < 0.87:
            c = rng.choice(SCRIPTS[0] + SCRIPTS[6] + "=-_ " + SCRIPTS[26])
            parts.append(c * rng.randrange(20, 300))  # long runs: the heap BPE path
        else:
            parts.append(rng.choice(SCRIPTS[32] + SCRIPTS[33] + "/\n\r"))
    b = "".join(parts).encode("utf-8")
    if rng.random() < 0.05:  # invalid UTF-8 spliced in at a byte position
        i = rng.randrange(0, len(b) + 1)
        b = b[:i] + rng.choice(INVALID) + b[i:]
    return b


def batch(prog, binary, tokenizer, data):
    """The ids `nemo tokenize --batch` gives for each byte string of data (one process)."""
    payload = b"".join(b"%d\n" % len(b) + b for b in data)
    r = subprocess.run([binary, "tokenize", "--tokenizer", tokenizer, "--batch"], input=payload,
                       capture_output=True, check=False)
    if r.returncode != 0:
        sys.exit(f"{prog}: {binary} failed ({r.returncode}): {r.stderr.decode()[-2000:]}")
    lines = r.stdout.decode().split("\n")
    if len(lines) != len(data) + 1:
        sys.exit(f"{prog}: expected {len(data)} output lines, got {len(lines) - 1}")
    return [[int(x) for x in line.split()] for line in lines[:-1]]


def count_diffs(data, want, got, ref):
    """How many strings nemo's ids (got) differ on from the reference's (want); prints the first
    10, with the first differing id."""
    bad = 0
    for i, (b, w, g) in enumerate(zip(data, want, got)):
        if g != w:
            bad += 1
            if bad <= 10:
                k = next((j for j in range(min(len(g), len(w))) if g[j] != w[j]),
                         min(len(g), len(w)))
                print(f"DIFF #{i}: {b!r}\n  first difference at id {k}: nemo {g[k:k + 6]} "
                      f"{ref} {w[k:k + 6]}")
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "release", "nemo"))
    ap.add_argument("--tekken", default=None)
    args = ap.parse_args()
    from mistral_common.tokens.tokenizers.tekken import Tekkenizer

    tekken = args.tekken or subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "fixture.py"), "tekken_240718.json"],
        check=True, capture_output=True, text=True).stdout.strip()
    rng = random.Random(args.seed)
    data = [rand_string(rng) for _ in range(args.n)]
    t0 = time.time()
    tok = Tekkenizer.from_file(tekken)
    want = [tok.encode(b.decode("utf-8", errors="replace"), bos=False, eos=False) for b in data]
    t1 = time.time()
    got = batch("tok_diff", args.bin, tekken, data)
    t2 = time.time()
    bad = count_diffs(data, want, got, "mistral-common")
    nbytes = sum(len(b) for b in data)
    print(f"tok_diff: seed {args.seed}: {args.n} strings, {nbytes} bytes, "
          f"{sum(len(w) for w in want)} ids: {bad} differences "
          f"(mistral-common {t1 - t0:.1f}s, nemo {t2 - t1:.1f}s)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
