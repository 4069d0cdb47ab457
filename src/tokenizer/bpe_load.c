/* bpe_load.c — builds a byte-level BPE vocabulary (bpe.h) from GGUF metadata: the token
 * strings and types, the merges, and the tables the encoder looks things up in. Every array is
 * checked against the token count and every merge must name two known tokens whose
 * concatenation is a token too (as Hugging Face tokenizers requires); errors name the file and
 * the key, the index and what was found. */
#include "checkpoint/gguf.h"
#include "tokenizer/bpe.h"
#include "tokenizer/unicode.h"

#include <stdio.h>
#include <stdlib.h>

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes
 * map in order to U+0100.. so that every token string is printable. */
static int printable(unsigned c) {
    return (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF);
}

uint32_t nemo_bpe_byte_cp(uint8_t c) {
    if (printable(c)) return c;
    uint32_t k = 0;
    for (unsigned b = 0; b < c; b++) k += !printable(b);
    return 256 + k;
}

/* Inverse of the map: the byte a code point stands for, or -1. */
static int cp_byte(uint32_t cp) {
    if (cp < 256) return printable(cp) ? (int)cp : -1;
    if (cp >= 256 + 68) return -1;
    uint32_t k = cp - 256;
    for (unsigned b = 0; b < 256; b++)
        if (!printable(b) && k-- == 0) return (int)b;
    return -1;
}

static int put_utf8(uint32_t cp, char *o) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

static uint32_t hash_str(const char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 0x100000001b3ull;
    return (uint32_t)(h ^ (h >> 32));
}

int32_t nemo_bpe_lookup(const nemo_bpe *b, const char *s, size_t n) {
    for (uint32_t i = hash_str(s, n) & b->hmask;; i = (i + 1) & b->hmask) {
        int32_t id = b->htab[i];
        if (id < 0) return -1;
        if (b->tlen[id] == n && !memcmp(b->text + b->toff[id], s, n)) return id;
    }
}

static uint32_t hash_pair(uint64_t key) {
    key *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(key >> 32);
}

const nemo_bpe_merge *nemo_bpe_find_merge(const nemo_bpe *b, int32_t left, int32_t right) {
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    for (uint32_t i = hash_pair(key) & b->mmask;; i = (i + 1) & b->mmask) {
        const nemo_bpe_merge *m = &b->merges[i];
        if (m->res < 0) return NULL;
        if (m->key == key) return m;
    }
}

void nemo_bpe_free(nemo_bpe *b) {
    if (!b) return;
    free(b->type);
    free(b->text);
    free(b->toff);
    free(b->tlen);
    free(b->piece);
    free(b->poff);
    free(b->plen);
    free(b->htab);
    free(b->merges);
    free(b->user);
    free(b);
}

/* The bytes a token decodes to (llama.cpp's token_to_piece): byte-level decoding for NORMAL
 * tokens (a character outside the byte map is kept as its UTF-8), the string itself for
 * CONTROL / UNKNOWN / USER_DEFINED, the byte for BYTE tokens <0xAB>, nothing otherwise. */
static size_t decode_piece(const char *s, size_t n, int type, uint8_t *out) {
    if (type == NEMO_TT_CONTROL || type == NEMO_TT_UNKNOWN || type == NEMO_TT_USER_DEFINED) {
        memcpy(out, s, n);
        return n;
    }
    if (type == NEMO_TT_BYTE) {
        unsigned v;
        char tail;
        if (n == 6 && sscanf(s, "<0x%2x%c", &v, &tail) == 2 && tail == '>') {
            out[0] = (uint8_t)v;
            return 1;
        }
        memcpy(out, s, n);
        return n;
    }
    if (type != NEMO_TT_NORMAL) return 0;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = nemo_utf8_decode((const uint8_t *)s + i, n - i, &cp);
        int byte = k ? cp_byte(cp) : -1;
        if (byte >= 0) {
            out[o++] = (uint8_t)byte;
        } else {
            if (!k) k = 1;
            memcpy(out + o, s + i, (size_t)k);
            o += (size_t)k;
        }
        i += (size_t)k;
    }
    return o;
}

static nemo_status oom(nemo_error *err) {
    return nemo_fail(err, NEMO_ERR_NOMEM, "gguf vocab: out of memory");
}

static nemo_status load_tokens(nemo_bpe *b, const nemo_gguf *g, const nemo_gguf_array *tok,
                               const nemo_gguf_array *types, nemo_error *err) {
    int32_t n = b->n;
    uint64_t total = 0;
    for (int32_t i = 0; i < n; i++) {
        uint64_t len;
        nemo_gguf_arr_str(tok, (uint64_t)i, &len);
        total += (len ? len : 24) + 1;
    }
    if (total > UINT32_MAX / 2)
        return nemo_fail(err, NEMO_ERR_FORMAT,
                         "%s: key 'tokenizer.ggml.tokens': %llu bytes of "
                         "token text is more than this build handles",
                         g->name, (unsigned long long)total);
    b->type = malloc((size_t)n);
    b->text = malloc(total);
    b->piece = malloc(total);
    b->toff = malloc((size_t)n * sizeof *b->toff);
    b->tlen = malloc((size_t)n * sizeof *b->tlen);
    b->poff = malloc((size_t)n * sizeof *b->poff);
    b->plen = malloc((size_t)n * sizeof *b->plen);
    uint32_t hsize = 16;
    while (hsize < 2u * (uint32_t)n) hsize *= 2;
    b->htab = malloc(hsize * sizeof *b->htab);
    b->hmask = hsize - 1;
    if (!b->type || !b->text || !b->piece || !b->toff || !b->tlen || !b->poff || !b->plen ||
        !b->htab)
        return oom(err);
    memset(b->htab, 0xff, hsize * sizeof *b->htab);
    uint32_t t = 0, p = 0;
    for (int32_t i = 0; i < n; i++) {
        uint64_t len;
        const char *s = nemo_gguf_arr_str(tok, (uint64_t)i, &len);
        int64_t ty = types ? nemo_gguf_arr_int(types, (uint64_t)i) : NEMO_TT_NORMAL;
        b->type[i] = ty >= NEMO_TT_NORMAL && ty <= NEMO_TT_BYTE ? (uint8_t)ty : NEMO_TT_UNDEFINED;
        b->toff[i] = t;
        if (len == 0) /* llama.cpp renames empty tokens so that they stay unique */
            len = (uint64_t)snprintf(b->text + t, 24, "[EMPTY_%d]", (int)i);
        else
            memcpy(b->text + t, s, len);
        b->tlen[i] = (uint32_t)len;
        b->text[t + len] = 0;
        b->poff[i] = p;
        b->plen[i] = (uint32_t)decode_piece(b->text + t, len, b->type[i], b->piece + p);
        p += b->plen[i];
        t += (uint32_t)len + 1;
        int32_t dup = nemo_bpe_lookup(b, b->text + b->toff[i], len);
        if (dup >= 0)
            return nemo_fail(err, NEMO_ERR_FORMAT,
                             "%s: key 'tokenizer.ggml.tokens': tokens %d and %d are both '%.64s'",
                             g->name, (int)dup, (int)i, b->text + b->toff[i]);
        uint32_t h = hash_str(b->text + b->toff[i], len) & b->hmask;
        while (b->htab[h] >= 0) h = (h + 1) & b->hmask;
        b->htab[h] = i;
    }
    for (int c = 0; c < 256; c++) {
        char u[4];
        int k = put_utf8(nemo_bpe_byte_cp((uint8_t)c), u);
        b->byte_id[c] = nemo_bpe_lookup(b, u, (size_t)k);
    }
    return NEMO_OK;
}

static nemo_status load_merges(nemo_bpe *b, const nemo_gguf *g, nemo_error *err) {
    const char *key = "tokenizer.ggml.merges";
    nemo_gguf_array m;
    nemo_status st = nemo_gguf_get_strings(g, key, &m, err);
    if (st == NEMO_ERR_MISSING)
        return nemo_fail(err, NEMO_ERR_FORMAT,
                         "%s: key '%s' is missing (a gpt2 vocabulary needs "
                         "its BPE merges)",
                         g->name, key);
    if (st) return st;
    if (m.count > INT32_MAX)
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: key '%s': %llu merges is too many", g->name,
                         key, (unsigned long long)m.count);
    uint32_t size = 16;
    while (size < 2 * m.count + 2) size *= 2;
    b->merges = malloc(size * sizeof *b->merges);
    if (!b->merges) return oom(err);
    for (uint32_t i = 0; i < size; i++) b->merges[i] = (nemo_bpe_merge){0, 0, -1};
    b->mmask = size - 1;
    char *cat = NULL;
    size_t cat_cap = 0;
    for (uint64_t i = 0; i < m.count; i++) {
        uint64_t len;
        const char *s = nemo_gguf_arr_str(&m, i, &len);
        /* "A B": the first space after the first byte (llama.cpp's word.find(' ', 1)) */
        const char *sp = len > 1 ? memchr(s + 1, ' ', len - 1) : NULL;
        if (!sp) {
            free(cat);
            return nemo_fail(err, NEMO_ERR_FORMAT,
                             "%s: key '%s': merge %llu ('%.*s') is not two tokens separated by "
                             "a space",
                             g->name, key, (unsigned long long)i, (int)(len < 64 ? len : 64), s);
        }
        size_t ll = (size_t)(sp - s), rl = len - ll - 1;
        int32_t l = nemo_bpe_lookup(b, s, ll), r = nemo_bpe_lookup(b, sp + 1, rl);
        if (cat_cap < len) {
            char *nc = realloc(cat, len);
            if (!nc) {
                free(cat);
                return oom(err);
            }
            cat = nc;
            cat_cap = len;
        }
        memcpy(cat, s, ll);
        memcpy(cat + ll, sp + 1, rl);
        int32_t res = l >= 0 && r >= 0 ? nemo_bpe_lookup(b, cat, ll + rl) : -1;
        if (res < 0) {
            st = nemo_fail(err, NEMO_ERR_FORMAT,
                           "%s: key '%s': merge %llu ('%.*s') names %s '%.*s' that is not in "
                           "tokenizer.ggml.tokens",
                           g->name, key, (unsigned long long)i, (int)(len < 64 ? len : 64), s,
                           l < 0 || r < 0 ? "a token" : "a merged token",
                           (int)(l < 0   ? ll
                                 : r < 0 ? rl
                                         : ll + rl),
                           l < 0   ? s
                           : r < 0 ? sp + 1
                                   : cat);
            free(cat); /* after the message: it may quote cat */
            return st;
        }
        uint64_t k = (uint64_t)(uint32_t)l << 32 | (uint32_t)r;
        uint32_t h = hash_pair(k) & b->mmask;
        while (b->merges[h].res >= 0 && b->merges[h].key != k) h = (h + 1) & b->mmask;
        if (b->merges[h].res >= 0) continue; /* a repeated pair keeps its first rank */
        /* Tekken vocabularies merge by the rank of the merged token, as tiktoken does (the
         * converter lists every split of a token, ordered by token): same result as merge
         * order except where two splits of one token compete, and there tiktoken is the
         * reference for Mistral NeMo. */
        uint32_t prio = b->pre == NEMO_BPE_PRE_TEKKEN ? (uint32_t)res : (uint32_t)i;
        b->merges[h] = (nemo_bpe_merge){k, prio, res};
    }
    free(cat);
    return NEMO_OK;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* USER_DEFINED ids, longest string first (llama.cpp's order; equal lengths by id). */
static nemo_status sort_user(nemo_bpe *b, nemo_error *err) {
    for (int32_t i = 0; i < b->n; i++) b->n_user += b->type[i] == NEMO_TT_USER_DEFINED;
    if (!b->n_user) return NEMO_OK;
    uint64_t *k = malloc((size_t)b->n_user * sizeof *k);
    b->user = malloc((size_t)b->n_user * sizeof *b->user);
    if (!k || !b->user) {
        free(k);
        return oom(err);
    }
    int32_t j = 0;
    for (int32_t i = 0; i < b->n; i++)
        if (b->type[i] == NEMO_TT_USER_DEFINED)
            k[j++] = (uint64_t)(UINT32_MAX - b->tlen[i]) << 32 | (uint32_t)i;
    qsort(k, (size_t)b->n_user, sizeof *k, cmp_u64);
    for (j = 0; j < b->n_user; j++) b->user[j] = (int32_t)(uint32_t)k[j];
    free(k);
    return NEMO_OK;
}

nemo_status nemo_bpe_load(const nemo_gguf *g, const nemo_gguf_array *tokens,
                          const nemo_gguf_array *types, nemo_bpe_pre pre, nemo_bpe **out,
                          nemo_error *err) {
    *out = NULL;
    nemo_bpe *b = calloc(1, sizeof *b);
    if (!b) return oom(err);
    b->n = (int32_t)tokens->count;
    b->pre = pre;
    b->ignore_merges = pre == NEMO_BPE_PRE_TEKKEN;
    nemo_status st = load_tokens(b, g, tokens, types, err);
    if (!st) st = load_merges(b, g, err);
    if (!st) st = sort_user(b, err);
    if (st) {
        nemo_bpe_free(b);
        return st;
    }
    *out = b;
    return NEMO_OK;
}
