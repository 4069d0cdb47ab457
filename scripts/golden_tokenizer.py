#!/usr/bin/env python3
"""golden_tokenizer.py — writes tests/golden/tokenizer/tekken_240718.json: texts and the ids
mistral-common's Tekkenizer gives them (no BOS/EOS), plus decode cases (special policies,
tokens that cut UTF-8 characters). tests/unit/test_tokenizer_tekken.c checks nemo.c against it.

Usage: /work/venv/bin/python scripts/golden_tokenizer.py   (needs mistral-common, pinned in
scripts/requirements-dev.txt; the tekken file comes from scripts/fixture.py)
"""
import base64
import os
import random
import sys

import mistral_common
from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy
from mistral_common.tokens.tokenizers.tekken import Tekkenizer

from golden_io import fixture, sha256, write_json_lines

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TEXTS = {
    "english": "The quick brown fox jumps over the lazy dog. It's 5 o'clock; don't panic!",
    "english_caps": "SYSTEM PROMPT: HTTP/1.1 200 OK, NASA's JSONParser and McDonald's iPhone.",
    "french": "Où est la bibliothèque ? Je voudrais un café crème, s'il vous plaît. À bientôt !",
    "german": "Größenwahnsinnige Straßenbahnhaltestelle; Donaudampfschifffahrtsgesellschaft.",
    "spanish": "¿Dónde está el baño? ¡Mañana será otro día! El niño comió piñas.",
    "italian": "Perché l'università è chiusa? Più tardi andrò a Città di Castello.",
    "portuguese": "Não sei se você já ouviu falar da canção \"Águas de Março\", é ótima.",
    "chinese": "我们今天去北京大学参观，天气很好。人工智能正在改变世界！",
    "japanese": "東京は日本の首都です。ひらがなとカタカナ、漢字を使います。ｶﾀｶﾅ半角も。",
    "korean": "안녕하세요, 저는 학생입니다. 한국어를 배우고 있어요!",
    "arabic": "مرحبا بالعالم! اللغة العربية جميلة جداً، أليس كذلك؟ ١٢٣",
    "hindi": "नमस्ते दुनिया! मैं हिंदी सीख रहा हूँ। क्या आप मदद करेंगे?",
    "russian": "Съешь же ещё этих мягких французских булок, да выпей чаю. ЁЛКИ-ПАЛКИ!",
    "thai": "สวัสดีครับ ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
    "hebrew": "שלום עולם! עִבְרִית עם ניקוד.",
    "greek": "Καλημέρα κόσμε! Ἀρχαῖα ἑλληνικά: ᾠδή, ΣΊΣΥΦΟΣ.",
    "devanagari_marathi_nepali": "मराठी भाषा सुंदर आहे। नेपाली: म नेपाली बोल्छु। संस्कृतम् ॐ",
    "bengali": "আমি বাংলায় গান গাই। ০১২৩৪",
    "tamil": "வணக்கம் உலகம்! தமிழ் மொழி மிகவும் பழமையானது.",
    "georgian": "გამარჯობა მსოფლიო! ᲛᲗᲐᲕᲠᲣᲚᲘ ᲐᲡᲝᲔᲑᲘ",
    "armenian": "Բարեւ աշխարհ! Հայերեն լեզու",
    "vietnamese": "Tiếng Việt có dấu: Nguyễn Thị Minh Khai, thành phố Hồ Chí Minh.",
    "turkish_polish_czech": "İstanbul'da ılık bir gün. Zażółć gęślą jaźń. Příliš žluťoučký kůň.",
    "ukrainian_mongolian": "Ґанок і їжак. Монгол хэл ӨҮ өү.",
    "amharic_ethiopic": "ሰላም ልዑል! ኢትዮጵያ",
    "khmer_lao_myanmar": "សួស្តី ສະບາຍດີ မင်္ဂလာပါ",
    "combining_marks": "e\u0301 a\u0308 n\u0303 Z\u0351\u0307\u0323a\u0300l\u0356g\u035bo \u0301x",
    "math_letters": "𝐀𝐁𝐂 𝒶𝒷𝒸 ℌℑℜ ǅǈǋ ᾈᾉ ʰʲ ª º",
    "python": "def f(x):\n    return [i ** 2 for i in range(x) if i % 2 == 0]  # squares\n\n\nprint(f(10))\n",
    "c": "#include <stdio.h>\nint main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n",
    "javascript": "const add = (a, b) => a + b;\nconsole.log(`sum=${add(1, 2)}`); // 3\r\n",
    "rust": "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}",
    "html_json_url": "<a href=\"https://example.com/path/to?x=1&y=2\">link</a> {\"k\": [1, 2.5e-3, null]} //\n/",
    "shell_sql": "SELECT id, name FROM users WHERE age >= 18;\n$ ls -la | grep '^d' > /dev/null 2>&1",
    "emoji": "I ❤️ NY 😀😃😄 👍🏽 🇫🇷🇯🇵🇺🇸 🏳️‍🌈 👨‍👩‍👧‍👦 🧑🏿‍💻 #️⃣ 1️⃣",
    "whitespace_spaces": "a  b   c    d     e\t\tf \t g",
    "whitespace_trailing": "end with spaces   ",
    "whitespace_only": " \t \u00a0 ",
    "whitespace_unicode": "a\u00a0b\u2000c\u2001d\u2002e\u2003f\u2009g\u200ah\u202fi\u205fj\u3000k\u1680l\u0085m",
    "line_separators": "one\u2028two\u2029three\u000bfour\u000cfive",
    "newlines": "a\n\nb\n\n\nc\r\nd\r\n\r\ne\n \n f\n\t\n",
    "crlf": "line one\r\nline two\r\n\r\nline three\r\n",
    "lonely_cr": "a\rb\r\rc \r d",
    "digits": "1234567890 3.14159 1,000,000 ٣٤٥ ०१२ ⅣⅫ ½ ²³ 10⁻⁹ 2024-07-18",
    "punctuation": "...!!!???---___*** \"quoted\" 'single' (paren) [bracket] {brace} <<>> //\n//",
    "slashes_newlines": "http://a/b//c\n/\n\n//\r\n/",
    "control_tokens": "[INST] Hello [/INST] </s><s> [TOOL_CALLS] [AVAILABLE_TOOLS] <unk> <pad> [IMG]",
    "controls_chars": "\u0000\u0001\u0007\u001b[31mred\u001b[0m\u007f\u0080\u009f",
    "format_chars": "zero\u200bwidth\u200cjoin\u200dmark\u200e\u200f\ufeffbom\u00adsoft",
    "private_unassigned": "\ue000\uf8ff\U000f0000 \u0378\u0379 \U0001e5d0\U00016d43\U00011bc0",
    "long_word": "Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz" * 3,
    "very_long_letters": "a" * 3000,
    "very_long_mixed": "".join("xyzzyplughqwertyuiopasdfghjkl"[i % 29] for i in range(2000)),
    "very_long_spaces": " " * 1000 + "x" + " " * 700,
    "very_long_punct": "=-" * 800 + "\n",
    "very_long_cjk": "漢字" * 600,
    "mixed_scripts": "Hello世界Привет123abcДЕФghi٤٥٦ВЫСОКИЙlow",
    "case_runs": "camelCaseWordsAndSHOUTINGWordsThenHTTPServerXMLHttpRequest aBC AbC ABc",
    "empty": "",
    "single_space": " ",
    "single_newline": "\n",
}


def main():
    path = fixture("tekken_240718.json")
    tok = Tekkenizer.from_file(path)
    cases = []
    for name, text in TEXTS.items():
        ids = tok.encode(text, bos=False, eos=False)
        assert tok.decode(ids) == text, name
        cases.append({"name": name, "text": text, "ids": ids})
    # random-ish long sample over mixed scripts, seeded
    rng = random.Random(240718)
    pool = "".join(t for t in TEXTS.values() if len(t) < 200)
    mixed = "".join(rng.choice(pool) for _ in range(4000))
    cases.append({"name": "shuffled_mix", "text": mixed,
                  "ids": tok.encode(mixed, bos=False, eos=False)})
    # invalid UTF-8 input: mistral-common takes str; bytes become str by errors="replace"
    invalid = []
    for raw in [b"ab\xffcd", b"\xe2\x82 x", b"\xf0\x9f\x98", b"\xc3\x28\xa0\xa1",
                b"\xed\xa0\x80 surrogate", b"\xf4\x90\x80\x80 too big", b"\xc0\xaf overlong",
                b"ok \xe2\x82\xac \xe2\x82"]:
        text = raw.decode("utf-8", errors="replace")
        invalid.append({"bytes_b64": base64.b64encode(raw).decode(), "text": text,
                        "ids": tok.encode(text, bos=False, eos=False)})
    # decode: special policies, and tokens that are not whole UTF-8 characters
    partial = [i for i in range(1000 + 256, 1000 + 3000)
               if not _valid(tok.id_to_byte_piece(i))][:6]
    decode = []
    for ids in [[1, 3, 22177, 1044, 4304, 1033, 4, 2], [22177, 10, 11, 999, 1033],
                partial, [partial[0], 3, partial[1]], [1000 + 0xE2, 1000 + 0x82, 1000 + 0xAC],
                [1000 + 0xE2, 1000 + 0x82, 1032], [1000 + 0xF0, 2, 1000 + 0x9F]]:
        decode.append({"ids": ids,
                       "skip": tok.decode(ids, SpecialTokenPolicy.IGNORE),
                       "keep": tok.decode(ids, SpecialTokenPolicy.KEEP)})
    out = {
        "generator": "scripts/golden_tokenizer.py",
        "mistral_common": mistral_common.__version__,
        "tekken_file": "tekken_240718.json",
        "tekken_sha256": sha256(path),
        "bos_id": tok.bos_id, "eos_id": tok.eos_id, "vocab_size": tok.n_words,
        "special_names": {str(i): tok.id_to_piece(i) for i in range(0, 21)},
        "bos_eos": {"text": "Hello!", "ids": tok.encode("Hello!", bos=True, eos=True)},
        "cases": cases,
        "invalid_utf8": invalid,
        "decode": decode,
    }
    dst = os.path.join(ROOT, "tests", "golden", "tokenizer", "tekken_240718.json")
    write_json_lines(dst, out)  # one object per line: small diffs when mistral-common changes
    print(f"wrote {dst}: {len(cases)} texts, {sum(len(c['ids']) for c in cases)} ids",
          file=sys.stderr)


def _valid(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


if __name__ == "__main__":
    main()
