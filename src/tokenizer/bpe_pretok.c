/* bpe_pretok.c — the named pre-tokenizers of GGUF BPE vocabularies (tokenizer.ggml.pre), each
 * splitting a text fragment into the words BPE runs on, as llama.cpp 0.3.36's
 * unicode_regex_split does for that name:
 *
 *   gpt2    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *   smollm  first \p{N} (every digit its own word), then the gpt2 pattern on the rest
 *   tekken  Mistral NeMo's pattern (tekken_pretok.c), the way mistral-common splits it
 *
 * For gpt2 and smollm the text goes through llama.cpp's lenient UTF-8 reading first (a byte
 * that does not start a sequence becomes U+FFFD; overlong and surrogate forms are read as the
 * code point they spell and written back in shortest form), and the classes are llama.cpp's:
 * \p{L} and \p{N} from Unicode 15.1 (NEMO_UC_L151 / N151), \s = White_Space. The gpt2 pattern is
 * matched the way llama.cpp's hand-written matcher does (case-sensitive contractions, a run of
 * spaces gives its last one to the next word). Tekken text is repaired the Python way
 * (errors="replace") instead, because mistral-common is the reference for NeMo; llama.cpp's own
 * approximation of that pattern differs from it on some marks and non-Latin letters. */
#include "tokenizer/bpe.h"
#include "tokenizer/tekken.h"
#include "tokenizer/unicode.h"

#include <stdlib.h>

/* llama.cpp's unicode_cpt_from_utf8 + its error handling: *adv bytes read. */
static uint32_t lax_cp(const uint8_t *s, size_t n, size_t *adv) {
    uint8_t c = s[0];
    *adv = 1;
    if (c < 0x80) return c;
    if (!(c & 0x40)) return 0xFFFD;
    int k = !(c & 0x20) ? 2 : !(c & 0x10) ? 3 : !(c & 0x08) ? 4 : 0;
    if (!k || (size_t)k > n) return 0xFFFD;
    uint32_t cp = c & (0x7F >> k);
    for (int i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0xFFFD;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    *adv = (size_t)k;
    /* beyond U+10FFFF llama.cpp throws while writing the word back; we keep going */
    return cp > 0x10FFFF ? 0xFFFD : cp;
}

static size_t put_cp(uint32_t cp, uint8_t *o) {
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | (cp >> 6));
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12));
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18));
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

enum { F_L = 1, F_N = 2, F_S = 4, F_ANY = 8 }; /* F_ANY: inside the fragment */

typedef struct split {
    const uint32_t *cp;
    size_t n;
    uint8_t *word; /* scratch for one word's UTF-8 (4 bytes per code point) */
    nemo_bpe_emit emit;
    void *user;
} split;

static unsigned flags_of(uint32_t cp) {
    unsigned c = nemo_uc_class(cp), f = F_ANY;
    if (c & NEMO_UC_L151) f |= F_L;
    if (c & NEMO_UC_N151) f |= F_N;
    if (c & NEMO_UC_S) f |= F_S;
    return f;
}

static int emit_word(split *s, size_t a, size_t b) {
    size_t k = 0;
    for (size_t i = a; i < b; i++) k += put_cp(s->cp[i], s->word + k);
    return s->emit(s->user, s->word, k);
}

/* The gpt2 pattern over code points [a, e). */
static int gpt2_range(split *s, size_t a, size_t e) {
    const uint32_t *cp = s->cp;
#define FL(i) ((i) < e ? flags_of(cp[i]) : 0u)
    size_t pos = a;
    while (pos < e) {
        size_t start = pos;
        uint32_t c = cp[pos];
        if (c == '\'' && pos + 1 < e) {
            uint32_t c1 = cp[pos + 1];
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                pos += 2;
                goto word;
            }
            if (pos + 2 < e) {
                uint32_t c2 = cp[pos + 2];
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') ||
                    (c1 == 'l' && c2 == 'l')) {
                    pos += 3;
                    goto word;
                }
            }
        }
        unsigned f2 = c == ' ' ? FL(pos + 1) : FL(pos);
        if (f2 & F_L) {
            pos += c == ' ';
            while (FL(pos) & F_L) pos++;
            goto word;
        }
        if (f2 & F_N) {
            pos += c == ' ';
            while (FL(pos) & F_N) pos++;
            goto word;
        }
        if ((f2 & F_ANY) && !(f2 & (F_S | F_L | F_N))) {
            pos += c == ' ';
            for (;;) {
                unsigned f = FL(pos);
                if (!(f & F_ANY) || (f & (F_S | F_L | F_N))) break;
                pos++;
            }
            goto word;
        }
        {
            size_t ws = 0;
            while (FL(pos + ws) & F_S) ws++;
            if (ws > 1 && pos + ws < e) /* \s+(?!\S): leave the last space to the next word */
                pos += ws - 1;
            else if (ws > 0)
                pos += ws;
            else
                pos++;
        }
    word:
        if (emit_word(s, start, pos)) return 1;
    }
#undef FL
    return 0;
}

static int smollm_range(split *s) {
    size_t a = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!(nemo_uc_class(s->cp[i]) & NEMO_UC_N151)) continue;
        if (i > a && gpt2_range(s, a, i)) return 1;
        if (emit_word(s, i, i + 1)) return 1;
        a = i + 1;
    }
    return a < s->n ? gpt2_range(s, a, s->n) : 0;
}

static int tekken_split(const uint8_t *s, size_t n, nemo_bpe_emit emit, void *user) {
    uint8_t *fixed = NULL;
    size_t valid = nemo_utf8_valid_prefix(s, n);
    if (valid < n) {
        fixed = nemo_utf8_replace_invalid(s, n, valid, &n);
        if (!fixed) return -1;
        s = fixed;
    }
    int r = 0;
    for (size_t i = 0; i < n && !r;) {
        size_t e = nemo_tekken_pretok_next(s, n, i);
        r = emit(user, s + i, e - i);
        i = e;
    }
    free(fixed);
    return r;
}

int nemo_bpe_pretok(nemo_bpe_pre pre, const uint8_t *s, size_t n, nemo_bpe_emit emit, void *user) {
    if (!n) return 0;
    if (pre == NEMO_BPE_PRE_TEKKEN) return tekken_split(s, n, emit, user);
    uint32_t *cp = malloc(n * sizeof *cp);
    uint8_t *word = malloc(4 * n);
    if (!cp || !word) {
        free(cp);
        free(word);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t adv;
        cp[k++] = lax_cp(s + i, n - i, &adv);
        i += adv;
    }
    split sp = {cp, k, word, emit, user};
    int r = pre == NEMO_BPE_PRE_SMOLLM ? smollm_range(&sp) : gpt2_range(&sp, 0, k);
    free(cp);
    free(word);
    return r;
}
