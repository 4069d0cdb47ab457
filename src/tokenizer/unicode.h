/* unicode.h — what the Tekken pre-tokenizer needs to know about a code point (its class bits,
 * from the generated table in unicode_tables.c) and the UTF-8 helpers shared by encoding and
 * decoding: strict decoding of one character, and the U+FFFD repair of invalid bytes exactly as
 * Python's bytes.decode("utf-8", errors="replace") does it (which is what tiktoken's decode and
 * mistral-common's string handling produce). */
#ifndef NEMO_TOKENIZER_UNICODE_H
#define NEMO_TOKENIZER_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Class bits of one code point (see scripts/gen_unicode_tables.py). */
enum {
    NEMO_UC_A = 1,     /* [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] */
    NEMO_UC_B = 2,     /* [\p{Ll}\p{Lm}\p{Lo}\p{M}] */
    NEMO_UC_L = 4,     /* \p{L} */
    NEMO_UC_N = 8,     /* \p{N} */
    NEMO_UC_S = 16,    /* \s (White_Space) */
    NEMO_UC_CRLF = 32, /* '\r' or '\n' */
    NEMO_UC_L151 = 64, /* \p{L} in Unicode 15.1 (llama.cpp's tables; bpe_pretok.c) */
    NEMO_UC_N151 = 128 /* \p{N} in Unicode 15.1 */
};

extern const uint16_t nemo_uc_stage1[0x110000 >> 8];
extern const uint8_t nemo_uc_stage2[];

static inline unsigned nemo_uc_class(uint32_t cp) {
    return nemo_uc_stage2[((uint32_t)nemo_uc_stage1[cp >> 8] << 8) | (cp & 0xff)];
}

/* Length of the valid UTF-8 character at s[0..n) (1..4), or 0 if the bytes there are not a
 * complete, valid character (overlong, surrogate, > U+10FFFF, truncated). *cp gets the value. */
static inline int nemo_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp) {
    uint8_t c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2) return 0;
    if (c < 0xE0) {
        if (n < 2 || (s[1] & 0xC0) != 0x80) return 0;
        *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        if (n < 3) return 0;
        uint8_t lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        if (s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80) return 0;
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4) return 0;
        uint8_t lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        if (s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
              ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    return 0;
}

/* For bytes at s[0..n) that do not start a valid character: how many bytes one U+FFFD replaces
 * (the "maximal subpart" rule Python follows: a lead byte plus the continuation bytes that were
 * still acceptable, or 1). If the bytes are a valid but truncated prefix that runs into the end
 * of the buffer, *incomplete is set (a streaming decoder waits for more bytes instead). */
size_t nemo_utf8_invalid_len(const uint8_t *s, size_t n, int *incomplete);

/* Index of the first byte of s[0..n) that is not valid UTF-8, or n if all of it is valid. */
size_t nemo_utf8_valid_prefix(const uint8_t *s, size_t n);

/* A malloc'd copy of s[0..n) with each invalid sequence replaced by U+FFFD, as Python's
 * bytes.decode("utf-8", errors="replace") gives it (the str mistral-common would see); valid is
 * nemo_utf8_valid_prefix(s, n), already known to the callers. Its length goes to *out_len;
 * NULL when out of memory. */
uint8_t *nemo_utf8_replace_invalid(const uint8_t *s, size_t n, size_t valid, size_t *out_len);

#endif
