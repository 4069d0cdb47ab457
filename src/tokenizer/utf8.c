/* utf8.c — UTF-8 validation and the U+FFFD replacement rule (maximal subpart, as in Python's
 * errors="replace"), shared by the encoders (invalid input: tekken_encode.c, bpe_pretok.c) and
 * the decoders (tokens that cut characters apart). Declared in tokenizer/unicode.h. */
#include "tokenizer/unicode.h"

#include <stdlib.h>
#include <string.h>

size_t nemo_utf8_invalid_len(const uint8_t *s, size_t n, int *incomplete) {
    *incomplete = 0;
    uint8_t c = s[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 1; /* stray continuation byte, C0/C1 or F5..FF */
    }
    /* second byte has a lead-specific range, later ones are plain continuation bytes */
    for (size_t i = 1; i < need; i++) {
        if (i >= n) {
            *incomplete = 1;
            return i;
        }
        uint8_t b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) return i;
    }
    return need; /* only reached for a valid character: callers do not ask for those */
}

size_t nemo_utf8_valid_prefix(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        /* ASCII runs dominate most text: check 8 bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            __builtin_memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= n) break;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        int k = nemo_utf8_decode(s + i, n - i, &cp);
        if (!k) return i;
        i += (size_t)k;
    }
    return n;
}

uint8_t *nemo_utf8_replace_invalid(const uint8_t *s, size_t n, size_t valid, size_t *out_len) {
    uint8_t *o = malloc(valid + (n - valid) * 3 + 1);
    if (!o) return NULL;
    memcpy(o, s, valid);
    size_t w = valid, i = valid;
    while (i < n) {
        size_t v = nemo_utf8_valid_prefix(s + i, n - i);
        memcpy(o + w, s + i, v);
        w += v;
        i += v;
        if (i >= n) break;
        int incomplete;
        i += nemo_utf8_invalid_len(s + i, n - i, &incomplete);
        memcpy(o + w, "\xEF\xBF\xBD", 3);
        w += 3;
    }
    *out_len = w;
    return o;
}
