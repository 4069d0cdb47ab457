/* tekken_pretok.c — the Tekken pre-tokenizer: splits valid UTF-8 text exactly as tiktoken's
 * fancy-regex find_iter splits it with the Tekken pattern (spec section 3.2):
 *
 *   1 [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+
 *   2 [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*
 *   3 \p{N}
 *   4  ?[^\s\p{L}\p{N}]+[\r\n/]*
 *   5 \s*[\r\n]+
 *   6 \s+(?!\S)
 *   7 \s+
 *
 * Why a hand-written matcher instead of a regex library: this one pattern, evaluated with
 * leftmost-first backtracking semantics, reduces to a few scans over per-code-point class bits
 * (unicode_tables.c), with no compilation, no allocation and one table lookup per character.
 * bench/pretok_bench.c measures it against PCRE2 with JIT on the same pattern (see
 * bench/RESULTS.md): the hand-written scan is about 2x faster on every language tried and
 * splits identically, and it needs no compiled-pattern state or match data per thread. Each
 * alternative below states how backtracking resolves it; the golden and the randomized differential
 * test (scripts/tok_diff.py) check the result against mistral-common.
 *
 * Class names: A = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], B = [\p{Ll}\p{Lm}\p{Lo}\p{M}],
 * P = [^\r\n\p{L}\p{N}] (the optional prefix), Q = [^\s\p{L}\p{N}].
 */
#include "tokenizer/tekken.h"
#include "tokenizer/unicode.h"

/* Class of the character at s[i] (valid UTF-8 guaranteed by the caller); *next = its end. */
static inline unsigned cls_at(const uint8_t *s, size_t n, size_t i, size_t *next) {
    uint8_t c = s[i];
    if (c < 0x80) {
        *next = i + 1;
        return nemo_uc_stage2[c]; /* block 0 of the table holds U+0000..U+00FF */
    }
    uint32_t cp = 0xFFFD;
    int k = nemo_utf8_decode(s + i, n - i, &cp);
    if (k == 0) k = 1; /* unreachable for valid input; keeps the scan moving if not */
    *next = i + (size_t)k;
    return nemo_uc_class(cp);
}

/* A*B+ from i. Greedy A* takes the whole A-run; if the character after it is in B, B+ takes
 * the B-run from there. Otherwise A* gives characters back one at a time until B+ can start:
 * that is the last character of the A-run that is also in B (Lm/Lo/M), and B+ then ends right
 * after it (the next character, if any, is a pure Lu/Lt). Returns the end, or 0 (no match; a
 * match is never empty, so 0 cannot be a real end). */
static size_t match_ab_plus(const uint8_t *s, size_t n, size_t i) {
    size_t j = i, nx, last_ab_end = 0;
    while (j < n) {
        unsigned c = cls_at(s, n, j, &nx);
        if (!(c & NEMO_UC_A)) {
            if (!(c & NEMO_UC_B)) break;
            j = nx;
            while (j < n && (cls_at(s, n, j, &nx) & NEMO_UC_B)) j = nx;
            return j;
        }
        if (c & NEMO_UC_B) last_ab_end = nx;
        j = nx;
    }
    return last_ab_end;
}

/* A+B*: both greedy and nothing follows in the alternative, so no backtracking. 0 = no match. */
static size_t match_a_plus(const uint8_t *s, size_t n, size_t i) {
    size_t j = i, nx;
    while (j < n && (cls_at(s, n, j, &nx) & NEMO_UC_A)) j = nx;
    if (j == i) return 0;
    while (j < n && (cls_at(s, n, j, &nx) & NEMO_UC_B)) j = nx;
    return j;
}

/* Q+[\r\n/]* from i; 0 = no match. */
static size_t match_punct(const uint8_t *s, size_t n, size_t i) {
    size_t j = i, nx;
    while (j < n && !(cls_at(s, n, j, &nx) & (NEMO_UC_S | NEMO_UC_L | NEMO_UC_N))) j = nx;
    if (j == i) return 0;
    while (j < n && (s[j] == '\r' || s[j] == '\n' || s[j] == '/')) j++;
    return j;
}

size_t nemo_tekken_pretok_next(const uint8_t *s, size_t n, size_t i) {
    size_t n0, e;
    unsigned c0 = cls_at(s, n, i, &n0);
    int prefix = !(c0 & (NEMO_UC_L | NEMO_UC_N | NEMO_UC_CRLF)); /* c0 in P */

    /* 1, first with the optional prefix taken (greedy ?), then without it */
    if (prefix && n0 < n && (e = match_ab_plus(s, n, n0))) return e;
    if ((c0 & (NEMO_UC_A | NEMO_UC_B)) && (e = match_ab_plus(s, n, i))) return e;
    /* 2, same order; without the prefix it cannot fail when c0 is in A */
    if (prefix && n0 < n && (e = match_a_plus(s, n, n0))) return e;
    if (c0 & NEMO_UC_A) return match_a_plus(s, n, i);
    /* 3: a single digit */
    if (c0 & NEMO_UC_N) return n0;
    /* 4: with " " taken first; without it the run would have to start at the space, which is
     * \s and so not in Q. Any other character here that is not \s is in Q. */
    if (s[i] == ' ') {
        if (n0 < n && (e = match_punct(s, n, n0))) return e;
    } else if (!(c0 & NEMO_UC_S)) {
        return match_punct(s, n, i);
    }
    /* c0 is whitespace. Scan the whole \s run once. */
    size_t j = i, nx, last_crlf_end = 0, last_start = i;
    while (j < n) {
        unsigned c = cls_at(s, n, j, &nx);
        if (!(c & NEMO_UC_S)) break;
        if (c & NEMO_UC_CRLF) last_crlf_end = nx;
        last_start = j;
        j = nx;
    }
    /* 5: \s* backtracks until [\r\n]+ can match: that is the last CR/LF of the run, and
     * [\r\n]+ ends right after it (unless more CR/LF follow, which would make it not last). */
    if (last_crlf_end) return last_crlf_end;
    /* 6: the run up to the end of the text; else the run minus its last character, which
     * leaves a whitespace character for (?!\S) to see (needs a run of two or more). */
    if (j >= n) return j;
    if (last_start > i) return last_start;
    /* 7 */
    return j;
}
