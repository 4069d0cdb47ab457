/* tekken_load.c — reads and validates tekken.json (spec section 3.1, mistral-common's
 * Tekkenizer.from_file) into a nemo_tekken: the ordinary vocabulary (base64 token bytes by
 * rank, cut to default_vocab_size - default_num_special_tokens), its byte-string hash table,
 * and the special tokens (the file's list, or mistral-common's default list, padded with
 * "<SPECIAL_n>" names). Every rule mistral-common asserts is checked here and reported as a
 * nemo_error naming the file, the key and what was found. */
#include "tokenizer/tekken.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one pattern every published Tekken file uses; tekken_pretok.c implements exactly it. */
static const char TEKKEN_PATTERN[] =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|"
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|"
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/* TokenizerVersion of mistral-common 1.13; beyond v7 the file must list its special tokens. */
static const char *const VERSIONS[] = {"v1", "v2", "v3", "v7", "v11", "v13", "v15"};
#define N_VERSIONS (sizeof VERSIONS / sizeof VERSIONS[0])
#define V7_INDEX   3

/* mistral-common's Tekkenizer.DEPRECATED_SPECIAL_TOKENS, used when the file has no list
 * (NeMo's tekken_240718.json has none). Ids 0-9 are the ones NeMo's chat format uses. */
static const char *const DEFAULT_SPECIALS[] = {"<unk>",
                                               "<s>",
                                               "</s>",
                                               "[INST]",
                                               "[/INST]",
                                               "[AVAILABLE_TOOLS]",
                                               "[/AVAILABLE_TOOLS]",
                                               "[TOOL_RESULTS]",
                                               "[/TOOL_RESULTS]",
                                               "[TOOL_CALLS]",
                                               "[IMG]",
                                               "<pad>",
                                               "[IMG_BREAK]",
                                               "[IMG_END]",
                                               "[PREFIX]",
                                               "[MIDDLE]",
                                               "[SUFFIX]",
                                               "[SYSTEM_PROMPT]",
                                               "[/SYSTEM_PROMPT]",
                                               "[TOOL_CONTENT]"};
#define N_DEFAULT_SPECIALS (sizeof DEFAULT_SPECIALS / sizeof DEFAULT_SPECIALS[0])

void nemo_tekken_free(nemo_tekken *t) {
    if (!t) return;
    free(t->bytes);
    free(t->off);
    free(t->slots);
    free(t->rank2);
    if (t->special_name)
        for (uint32_t i = 0; i < t->n_special; i++) free(t->special_name[i]);
    free(t->special_name);
    free(t->special_len);
    free(t);
}

/* Decodes standard base64 (with '=' padding, nothing else allowed) into out; returns the byte
 * count or -1 if s is not valid base64. out needs (len / 4) * 3 bytes. */
static inline int b64_value(uint8_t c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

static long b64_decode(const char *s, size_t len, uint8_t *out) {
    if (len % 4) return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            uint8_t c = (uint8_t)s[i + k];
            if (c == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || b64_value(c) < 0) {
                return -1;
            } else {
                v[k] = b64_value(c);
            }
        }
        uint32_t w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) | ((uint32_t)v[2] << 6) |
                     (uint32_t)v[3];
        out[o++] = (uint8_t)(w >> 16);
        if (pad < 2) out[o++] = (uint8_t)(w >> 8);
        if (pad < 1) out[o++] = (uint8_t)w;
    }
    return (long)o;
}

static nemo_status get_int(const json_t *obj, const char *key, const char *where, const char *name,
                           long long *out, nemo_error *err) {
    json_t *v = json_object_get(obj, key);
    if (!v) return nemo_fail(err, NEMO_ERR_MISSING, "%s: %s.%s: missing", name, where, key);
    if (!json_is_integer(v))
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: %s.%s: expected an integer", name, where, key);
    *out = json_integer_value(v);
    return NEMO_OK;
}

static nemo_status load_config(const json_t *root, const char *name, nemo_tekken *t,
                               long long *vocab_size, long long *n_special, size_t n_vocab,
                               int *version_idx, nemo_error *err) {
    json_t *cfg = json_object_get(root, "config");
    if (!json_is_object(cfg))
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: config: expected an object, found %s", name,
                         cfg ? "another JSON type" : "nothing");
    json_t *ver = json_object_get(cfg, "version");
    const char *vs = json_string_value(ver);
    *version_idx = -1;
    for (size_t i = 0; vs && i < N_VERSIONS; i++)
        if (!strcmp(vs, VERSIONS[i])) *version_idx = (int)i;
    if (*version_idx < 0)
        return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                         "%s: config.version: expected one of v1, v2, v3, v7, v11, v13, v15, "
                         "found %s%s%s",
                         name, vs ? "'" : "", vs ? vs : "no string", vs ? "'" : "");
    snprintf(t->version, sizeof t->version, "%s", vs);

    const char *pat = json_string_value(json_object_get(cfg, "pattern"));
    if (!pat) return nemo_fail(err, NEMO_ERR_MISSING, "%s: config.pattern: missing", name);
    if (strcmp(pat, TEKKEN_PATTERN))
        return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                         "%s: config.pattern: expected the Tekken pattern (spec 3.2), found a "
                         "different one ('%.60s...'); only that pattern is implemented",
                         name, pat);
    nemo_status st;
    long long n_vocab_tokens;
    if ((st = get_int(cfg, "default_vocab_size", "config", name, vocab_size, err)) ||
        (st = get_int(cfg, "default_num_special_tokens", "config", name, n_special, err)))
        return st;
    if (json_object_get(cfg, "num_vocab_tokens")) {
        if ((st = get_int(cfg, "num_vocab_tokens", "config", name, &n_vocab_tokens, err)))
            return st;
        if (n_vocab_tokens != (long long)n_vocab)
            return nemo_fail(err, NEMO_ERR_FORMAT,
                             "%s: config.num_vocab_tokens: says %lld, but vocab has %zu entries",
                             name, n_vocab_tokens, n_vocab);
    }
    if (*n_special < 3 || *n_special > 100000)
        return nemo_fail(err, NEMO_ERR_FORMAT,
                         "%s: config.default_num_special_tokens: expected 3..100000, found %lld",
                         name, *n_special);
    if (*vocab_size < *n_special + 256 || *vocab_size > *n_special + (long long)n_vocab ||
        *vocab_size > INT32_MAX)
        return nemo_fail(err, NEMO_ERR_FORMAT,
                         "%s: config.default_vocab_size: expected %lld..%lld (special tokens + "
                         "256 .. special tokens + vocab entries), found %lld",
                         name, *n_special + 256, *n_special + (long long)n_vocab, *vocab_size);
    return NEMO_OK;
}

static nemo_status load_vocab(const json_t *vocab, const char *name, nemo_tekken *t,
                              nemo_error *err) {
    uint32_t n = t->n_ranks;
    /* first pass: sizes, so the byte arena is one allocation */
    size_t total = 0;
    for (uint32_t r = 0; r < n; r++) {
        json_t *e = json_array_get(vocab, r);
        if (!json_is_object(e))
            return nemo_fail(err, NEMO_ERR_FORMAT, "%s: vocab[%u]: expected an object", name, r);
        json_t *rk = json_object_get(e, "rank");
        if (!json_is_integer(rk))
            return nemo_fail(err, NEMO_ERR_FORMAT, "%s: vocab[%u].rank: expected an integer", name,
                             r);
        if (json_integer_value(rk) != (json_int_t)r)
            return nemo_fail(err, NEMO_ERR_FORMAT,
                             "%s: vocab[%u].rank: expected %u (entries ordered by rank, no "
                             "duplicate or missing rank), found %lld",
                             name, r, r, (long long)json_integer_value(rk));
        const char *b = json_string_value(json_object_get(e, "token_bytes"));
        if (!b)
            return nemo_fail(err, NEMO_ERR_FORMAT, "%s: vocab[%u].token_bytes: expected a string",
                             name, r);
        size_t bl = json_string_length(json_object_get(e, "token_bytes"));
        if (bl == 0 || bl > (1u << 20))
            return nemo_fail(err, NEMO_ERR_FORMAT,
                             "%s: vocab[%u].token_bytes: expected 1 to 2^20 base64 characters, "
                             "found %zu",
                             name, r, bl);
        total += bl / 4 * 3;
    }
    if (total > UINT32_MAX)
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: vocab: token bytes exceed 4 GiB", name);
    t->bytes = malloc(total ? total : 1);
    t->off = malloc(((size_t)n + 1) * sizeof *t->off);
    /* load factor <= 1/2 keeps probe chains short */
    size_t cap = 1024;
    while (cap < (size_t)n * 2) cap *= 2;
    t->slots = calloc(cap, sizeof *t->slots);
    t->mask = (uint32_t)(cap - 1);
    t->rank2 = malloc(65536 * sizeof *t->rank2);
    if (t->rank2) memset(t->rank2, 0xff, 65536 * sizeof *t->rank2); /* NO_RANK */
    if (!t->bytes || !t->off || !t->slots || !t->rank2)
        return nemo_fail(err, NEMO_ERR_NOMEM, "%s: vocab: out of memory", name);
    uint32_t o = 0;
    for (uint32_t r = 0; r < n; r++) {
        json_t *tb = json_object_get(json_array_get(vocab, r), "token_bytes");
        const char *b = json_string_value(tb);
        long k = b64_decode(b, json_string_length(tb), t->bytes + o);
        if (k < 0)
            return nemo_fail(err, NEMO_ERR_FORMAT,
                             "%s: vocab[%u].token_bytes: expected base64, found '%.40s'", name, r,
                             b);
        if (k == 0)
            return nemo_fail(err, NEMO_ERR_FORMAT, "%s: vocab[%u].token_bytes: empty token", name,
                             r);
        if (r < 256 && (k != 1 || t->bytes[o] != r))
            return nemo_fail(err, NEMO_ERR_FORMAT,
                             "%s: vocab[%u].token_bytes: ranks 0..255 must be the single bytes "
                             "0x00..0xFF, expected 0x%02X, found %ld byte(s) starting 0x%02X",
                             name, r, r, k, t->bytes[o]);
        t->off[r] = o;
        o += (uint32_t)k;
        t->off[r + 1] = o;
        if ((uint32_t)k > t->max_len) t->max_len = (uint32_t)k; /* before the lookup below */
        /* insert, rejecting a byte string that is already there */
        const uint8_t *kb = t->bytes + t->off[r];
        if (k > 1) { /* single bytes are looked up by value, not in the table */
            uint32_t q = nemo_tekken_rank(t, kb, (size_t)k);
            if (q != NEMO_TEKKEN_NO_RANK)
                return nemo_fail(err, NEMO_ERR_FORMAT,
                                 "%s: vocab[%u].token_bytes: same bytes as vocab[%u] (duplicate "
                                 "token)",
                                 name, r, q);
            uint64_t head = nemo_tekken_head(kb, (size_t)k);
            uint32_t i = nemo_tekken_hash(kb, (size_t)k, head) & t->mask;
            while (t->slots[i].len) i = (i + 1) & t->mask;
            t->slots[i] = (nemo_tekken_slot){head, (uint32_t)k, r};
            if (k == 2) t->rank2[kb[0] | (uint32_t)kb[1] << 8] = r;
        } else if (r >= 256) {
            return nemo_fail(err, NEMO_ERR_FORMAT,
                             "%s: vocab[%u].token_bytes: same bytes as vocab[%u] (duplicate "
                             "token)",
                             name, r, kb[0]);
        }
    }
    return NEMO_OK;
}

static nemo_status set_special(nemo_tekken *t, uint32_t id, const char *s, size_t len,
                               const char *name, nemo_error *err) {
    for (uint32_t j = 0; j < id; j++)
        if (t->special_len[j] == len && !memcmp(t->special_name[j], s, len))
            return nemo_fail(err, NEMO_ERR_FORMAT,
                             "%s: special_tokens[%u].token_str: '%s' repeats special token %u",
                             name, id, s, j);
    t->special_name[id] = malloc(len + 1);
    if (!t->special_name[id]) return nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", name);
    memcpy(t->special_name[id], s, len);
    t->special_name[id][len] = 0;
    t->special_len[id] = (uint32_t)len;
    return NEMO_OK;
}

static nemo_status load_specials(const json_t *root, const char *name, nemo_tekken *t,
                                 int version_idx, nemo_error *err) {
    uint32_t n = t->n_special;
    t->special_name = calloc(n, sizeof *t->special_name);
    t->special_len = calloc(n, sizeof *t->special_len);
    if (!t->special_name || !t->special_len)
        return nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", name);
    json_t *list = json_object_get(root, "special_tokens");
    uint32_t given = 0;
    nemo_status st;
    if (!list || json_is_null(list)) {
        if (version_idx > V7_INDEX)
            return nemo_fail(err, NEMO_ERR_MISSING,
                             "%s: special_tokens: missing (required for version %s, as "
                             "mistral-common requires it after v7)",
                             name, t->version);
        given = N_DEFAULT_SPECIALS < n ? (uint32_t)N_DEFAULT_SPECIALS : n;
        for (uint32_t i = 0; i < given; i++)
            if ((st = set_special(t, i, DEFAULT_SPECIALS[i], strlen(DEFAULT_SPECIALS[i]), name,
                                  err)))
                return st;
    } else {
        if (!json_is_array(list))
            return nemo_fail(err, NEMO_ERR_FORMAT, "%s: special_tokens: expected an array", name);
        if (json_array_size(list) > n)
            return nemo_fail(err, NEMO_ERR_FORMAT,
                             "%s: special_tokens: %zu entries, more than "
                             "config.default_num_special_tokens = %u",
                             name, json_array_size(list), n);
        given = (uint32_t)json_array_size(list);
        for (uint32_t i = 0; i < given; i++) {
            json_t *e = json_array_get(list, i);
            json_t *rk = json_object_get(e, "rank");
            json_t *ts = json_object_get(e, "token_str");
            if (!json_is_integer(rk) || json_integer_value(rk) != (json_int_t)i)
                return nemo_fail(err, NEMO_ERR_FORMAT,
                                 "%s: special_tokens[%u].rank: expected %u (ordered by rank)", name,
                                 i, i);
            if (!json_is_string(ts))
                return nemo_fail(err, NEMO_ERR_FORMAT,
                                 "%s: special_tokens[%u].token_str: expected a string", name, i);
            if ((st = set_special(t, i, json_string_value(ts), json_string_length(ts), name, err)))
                return st;
        }
    }
    for (uint32_t i = given; i < n; i++) {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "<SPECIAL_%u>", i);
        if ((st = set_special(t, i, buf, (size_t)len, name, err))) return st;
    }
    t->bos_id = t->eos_id = -1;
    for (uint32_t i = 0; i < n; i++) {
        if (t->bos_id < 0 && !strcmp(t->special_name[i], "<s>")) t->bos_id = (int32_t)i;
        if (t->eos_id < 0 && !strcmp(t->special_name[i], "</s>")) t->eos_id = (int32_t)i;
    }
    return NEMO_OK;
}

nemo_status nemo_tekken_load(const char *json, size_t len, const char *name, nemo_tekken **out,
                             nemo_error *err) {
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!root)
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: offset %d (line %d): invalid JSON: %s", name,
                         je.position, je.line, je.text);
    nemo_status st = NEMO_OK;
    nemo_tekken *t = calloc(1, sizeof *t);
    if (!t) {
        st = nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    json_t *vocab = json_object_get(root, "vocab");
    if (!json_is_object(root) || !json_is_array(vocab)) {
        st = nemo_fail(err, NEMO_ERR_FORMAT, "%s: vocab: expected an array of tokens", name);
        goto done;
    }
    long long vocab_size = 0, n_special = 0;
    int version_idx = -1;
    if ((st = load_config(root, name, t, &vocab_size, &n_special, json_array_size(vocab),
                          &version_idx, err)))
        goto done;
    t->n_special = (uint32_t)n_special;
    t->n_ranks = (uint32_t)(vocab_size - n_special); /* entries past this are not used */
    if ((st = load_vocab(vocab, name, t, err))) goto done;
    if ((st = load_specials(root, name, t, version_idx, err))) goto done;
done:
    json_decref(root);
    if (st) {
        nemo_tekken_free(t);
        return st;
    }
    *out = t;
    return NEMO_OK;
}

nemo_status nemo_tekken_open(const char *path, nemo_tekken **out, nemo_error *err) {
    char *buf;
    uint64_t len;
    nemo_status st = nemo_read_file(path, (uint64_t)1 << 30, &buf, &len, err);
    if (st) return st;
    st = nemo_tekken_load(buf, (size_t)len, nemo_basename(path), out, err);
    free(buf);
    return st;
}
