/* spm_load.c — reads a SentencePiece ModelProto (.model file) with a hand-written protobuf
 * reader, checks that it describes a model the encoder reproduces exactly (BPE, identity
 * normalizer), and builds the look-up tables; also the small accessors of spm.h.
 *
 * Only the fields that change encoding or decoding are read; every other field is skipped by
 * wire type, so new trainer options do not break loading. Every varint and length is checked
 * against the bounds of its enclosing message, and errors name the file, the byte offset and
 * the field. */
#include "tokenizer/spm_internal.h"

#include <stdio.h>
#include <stdlib.h>

/* ---------------------------------------------------------------- protobuf wire format */

typedef struct pb {
    const uint8_t *d; /* the whole file, so that offsets in messages are file offsets */
    size_t pos, end;  /* the message being read is d[pos..end) */
    const char *name; /* file name for messages */
    nemo_error *err;
} pb;

static nemo_status pb_varint(pb *p, uint64_t *v, const char *what) {
    size_t start = p->pos;
    uint64_t r = 0;
    for (int i = 0; i < 10; i++) {
        if (p->pos >= p->end)
            return nemo_fail(p->err, NEMO_ERR_FORMAT,
                             "%s: byte offset %zu: %s: varint runs past the end of its message "
                             "(truncated file?)",
                             p->name, start, what);
        uint8_t c = p->d[p->pos++];
        if (i == 9 && c > 1)
            return nemo_fail(p->err, NEMO_ERR_FORMAT,
                             "%s: byte offset %zu: %s: varint overflows 64 bits", p->name, start,
                             what);
        r |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            *v = r;
            return NEMO_OK;
        }
    }
    return nemo_fail(p->err, NEMO_ERR_FORMAT,
                     "%s: byte offset %zu: %s: varint longer than 10 bytes", p->name, start, what);
}

/* Reads a field key. *at is the key's offset (for messages about the field). */
static nemo_status pb_key(pb *p, const char *msg, uint32_t *field, int *wt, size_t *at) {
    uint64_t k;
    *at = p->pos;
    nemo_status st = pb_varint(p, &k, msg);
    if (st) return st;
    if ((k >> 3) == 0 || (k >> 3) > 0x1fffffff)
        return nemo_fail(p->err, NEMO_ERR_FORMAT, "%s: byte offset %zu: %s: bad field number %llu",
                         p->name, *at, msg, (unsigned long long)(k >> 3));
    *field = (uint32_t)(k >> 3);
    *wt = (int)(k & 7);
    return NEMO_OK;
}

/* A length-delimited payload: returns its bounds [*off, *off + *len) after checking them. */
static nemo_status pb_len(pb *p, size_t *off, size_t *len, const char *what) {
    size_t at = p->pos;
    uint64_t n;
    nemo_status st = pb_varint(p, &n, what);
    if (st) return st;
    if (n > p->end - p->pos)
        return nemo_fail(p->err, NEMO_ERR_FORMAT,
                         "%s: byte offset %zu: %s: length %llu runs past the end of its message "
                         "(%zu bytes left)",
                         p->name, at, what, (unsigned long long)n, p->end - p->pos);
    *off = p->pos;
    *len = (size_t)n;
    p->pos += (size_t)n;
    return NEMO_OK;
}

static nemo_status pb_fixed32(pb *p, uint32_t *v, const char *what) {
    if (p->end - p->pos < 4)
        return nemo_fail(p->err, NEMO_ERR_FORMAT,
                         "%s: byte offset %zu: %s: 4-byte value runs past the end of its message",
                         p->name, p->pos, what);
    const uint8_t *b = p->d + p->pos;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    p->pos += 4;
    return NEMO_OK;
}

/* Skips the value of a field this reader does not use. */
static nemo_status pb_skip(pb *p, int wt, uint32_t field, size_t at, const char *msg) {
    char what[160];
    snprintf(what, sizeof what, "%s field %u", msg, field);
    uint64_t v;
    size_t off, len;
    switch (wt) {
    case 0: return pb_varint(p, &v, what);
    case 1:
        if (p->end - p->pos < 8)
            return nemo_fail(p->err, NEMO_ERR_FORMAT,
                             "%s: byte offset %zu: %s: 8-byte value runs past the end of its "
                             "message",
                             p->name, p->pos, what);
        p->pos += 8;
        return NEMO_OK;
    case 2: return pb_len(p, &off, &len, what);
    case 5: {
        uint32_t u;
        return pb_fixed32(p, &u, what);
    }
    default:
        return nemo_fail(p->err, NEMO_ERR_FORMAT,
                         "%s: byte offset %zu: %s: unsupported wire type %d", p->name, at, what,
                         wt);
    }
}

static nemo_status pb_want(pb *p, int wt, int want, size_t at, const char *what) {
    if (wt == want) return NEMO_OK;
    return nemo_fail(p->err, NEMO_ERR_FORMAT, "%s: byte offset %zu: %s: wire type %d, expected %d",
                     p->name, at, what, wt, want);
}

/* Varint of a field declared int32/enum/bool; negative int32 values are 10-byte varints. */
static nemo_status pb_int32(pb *p, int wt, size_t at, const char *what, int32_t *out) {
    uint64_t v;
    nemo_status st = pb_want(p, wt, 0, at, what);
    if (!st) st = pb_varint(p, &v, what);
    if (st) return st;
    int64_t s = (int64_t)v;
    if (s < INT32_MIN || s > INT32_MAX)
        return nemo_fail(p->err, NEMO_ERR_FORMAT,
                         "%s: byte offset %zu: %s: value %lld does not fit in int32", p->name, at,
                         what, (long long)s);
    *out = (int32_t)s;
    return NEMO_OK;
}

/* ---------------------------------------------------------------- model under construction */

typedef struct span {
    size_t off, len; /* bytes of the file */
} span;

typedef struct build {
    nemo_spm *s;
    int32_t cap;      /* capacity of the per-piece arrays */
    size_t arena_len; /* bytes used in s->arena */
    size_t arena_cap;
    /* trainer_spec */
    int32_t model_type, byte_fallback, ws_suffix;
    span unk_surface, bos_piece, eos_piece;
    int have_unk_surface, have_bos_piece, have_eos_piece;
    /* normalizer_spec / denormalizer_spec */
    size_t charsmap_len, charsmap_at, denorm_charsmap_len, denorm_charsmap_at;
} build;

static nemo_status arena_add(build *b, const void *bytes, size_t n, uint32_t *off,
                             nemo_error *err) {
    if (b->arena_len + n + 1 > b->arena_cap) {
        size_t cap = b->arena_cap ? b->arena_cap : 4096;
        while (cap < b->arena_len + n + 1) cap *= 2;
        if (cap > UINT32_MAX) return nemo_fail(err, NEMO_ERR_FORMAT, "piece strings exceed 4 GiB");
        char *a = realloc(b->s->arena, cap);
        if (!a) return nemo_fail(err, NEMO_ERR_NOMEM, "out of memory for piece strings");
        b->s->arena = a;
        b->arena_cap = cap;
    }
    if (n) memcpy(b->s->arena + b->arena_len, bytes, n);
    b->s->arena[b->arena_len + n] = 0;
    *off = (uint32_t)b->arena_len;
    b->arena_len += n + 1;
    return NEMO_OK;
}

static nemo_status grow_pieces(build *b, nemo_error *err) {
    nemo_spm *s = b->s;
    if (s->n < b->cap) return NEMO_OK;
    if (b->cap >= (1 << 26)) return nemo_fail(err, NEMO_ERR_FORMAT, "more than 2^26 pieces");
    int32_t cap = b->cap ? b->cap * 2 : 1024;
    uint32_t *off = realloc(s->off, (size_t)cap * sizeof *off);
    if (off) s->off = off;
    uint32_t *len = realloc(s->len, (size_t)cap * sizeof *len);
    if (len) s->len = len;
    float *score = realloc(s->score, (size_t)cap * sizeof *score);
    if (score) s->score = score;
    uint8_t *type = realloc(s->type, (size_t)cap);
    if (type) s->type = type;
    if (!off || !len || !score || !type)
        return nemo_fail(err, NEMO_ERR_NOMEM, "out of memory for %d pieces", cap);
    b->cap = cap;
    return NEMO_OK;
}

/* ModelProto.SentencePiece: piece = 1 (string), score = 2 (float), type = 3 (enum). */
static nemo_status parse_piece(pb *p, build *b) {
    nemo_spm *s = b->s;
    nemo_status st = grow_pieces(b, p->err);
    if (st) return st;
    int32_t id = s->n;
    char msg[64];
    snprintf(msg, sizeof msg, "pieces[%d]", id);
    size_t str_off = 0, str_len = 0, start = p->pos;
    int have_str = 0;
    float score = 0;
    int32_t type = NEMO_SPM_NORMAL;
    while (p->pos < p->end) {
        uint32_t f;
        int wt;
        size_t at;
        if ((st = pb_key(p, msg, &f, &wt, &at))) return st;
        char what[96];
        snprintf(what, sizeof what, "%s field %u", msg, f);
        if (f == 1) {
            if ((st = pb_want(p, wt, 2, at, what))) return st;
            if ((st = pb_len(p, &str_off, &str_len, what))) return st;
            have_str = 1;
        } else if (f == 2) {
            uint32_t u;
            if ((st = pb_want(p, wt, 5, at, what)) || (st = pb_fixed32(p, &u, what))) return st;
            memcpy(&score, &u, 4);
        } else if (f == 3) {
            if ((st = pb_int32(p, wt, at, what, &type))) return st;
        } else if ((st = pb_skip(p, wt, f, at, msg))) {
            return st;
        }
    }
    if (!have_str || str_len == 0)
        return nemo_fail(p->err, NEMO_ERR_FORMAT, "%s: byte offset %zu: %s: empty piece string",
                         p->name, start, msg);
    if (type < NEMO_SPM_NORMAL || type > NEMO_SPM_BYTE)
        return nemo_fail(p->err, NEMO_ERR_FORMAT, "%s: byte offset %zu: %s: unknown type %d",
                         p->name, start, msg, type);
    if (type == NEMO_SPM_UNUSED)
        return nemo_fail(p->err, NEMO_ERR_UNSUPPORTED,
                         "%s: %s: UNUSED pieces (re-segmentation of unused merges) are not "
                         "supported",
                         p->name, msg);
    if ((st = arena_add(b, p->d + str_off, str_len, &s->off[id], p->err))) return st;
    s->len[id] = (uint32_t)str_len;
    s->score[id] = score;
    s->type[id] = (uint8_t)type;
    s->n++;
    return NEMO_OK;
}

static nemo_status parse_trainer(pb *p, build *b) {
    nemo_status st;
    while (p->pos < p->end) {
        uint32_t f;
        int wt;
        size_t at;
        if ((st = pb_key(p, "trainer_spec", &f, &wt, &at))) return st;
        char what[64];
        snprintf(what, sizeof what, "trainer_spec field %u", f);
        span *sp = NULL;
        int *have = NULL;
        switch (f) {
        case 3: st = pb_int32(p, wt, at, "trainer_spec.model_type", &b->model_type); break;
        case 24:
            st = pb_int32(p, wt, at, "trainer_spec.treat_whitespace_as_suffix", &b->ws_suffix);
            break;
        case 35: st = pb_int32(p, wt, at, "trainer_spec.byte_fallback", &b->byte_fallback); break;
        case 44: sp = &b->unk_surface, have = &b->have_unk_surface; break;
        case 46: sp = &b->bos_piece, have = &b->have_bos_piece; break;
        case 47: sp = &b->eos_piece, have = &b->have_eos_piece; break;
        default: st = pb_skip(p, wt, f, at, "trainer_spec"); break;
        }
        if (sp) {
            if (!(st = pb_want(p, wt, 2, at, what))) st = pb_len(p, &sp->off, &sp->len, what);
            *have = 1;
        }
        if (st) return st;
    }
    return NEMO_OK;
}

/* normalizer_spec (denorm = 0) or denormalizer_spec (denorm = 1). */
static nemo_status parse_normalizer(pb *p, build *b, int denorm) {
    const char *msg = denorm ? "denormalizer_spec" : "normalizer_spec";
    nemo_status st;
    while (p->pos < p->end) {
        uint32_t f;
        int wt;
        size_t at;
        if ((st = pb_key(p, msg, &f, &wt, &at))) return st;
        char what[96];
        int32_t v;
        if (f == 2) {
            snprintf(what, sizeof what, "%s.precompiled_charsmap", msg);
            size_t off, len;
            if ((st = pb_want(p, wt, 2, at, what)) || (st = pb_len(p, &off, &len, what))) return st;
            *(denorm ? &b->denorm_charsmap_len : &b->charsmap_len) = len;
            *(denorm ? &b->denorm_charsmap_at : &b->charsmap_at) = at;
        } else if (!denorm && (f == 3 || f == 4 || f == 5)) {
            static const char *names[] = {"add_dummy_prefix", "remove_extra_whitespaces",
                                          "escape_whitespaces"};
            snprintf(what, sizeof what, "%s.%s", msg, names[f - 3]);
            if ((st = pb_int32(p, wt, at, what, &v))) return st;
            int *dst = f == 3   ? &b->s->add_dummy_prefix
                       : f == 4 ? &b->s->remove_extra_ws
                                : &b->s->escape_ws;
            *dst = v != 0;
        } else if ((st = pb_skip(p, wt, f, at, msg))) {
            return st;
        }
    }
    return NEMO_OK;
}

/* ---------------------------------------------------------------- tables */

static uint32_t hash_bytes(const char *p, size_t n) {
    uint32_t h = 2166136261u; /* FNV-1a: short keys, a few per character encoded */
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h ^ (h >> 15);
}

int32_t nemo_spm_lookup(const nemo_spm *s, const char *str, size_t len) {
    uint32_t i = hash_bytes(str, len) & s->hmask;
    for (;;) {
        int32_t id = s->htab[i];
        if (id < 0) return -1;
        if (s->len[id] == len && memcmp(nemo_spm_str(s, id), str, len) == 0) return id;
        i = (i + 1) & s->hmask;
    }
}

static int32_t control_id(const nemo_spm *s, const uint8_t *data, const span *sp, const char *dflt);

static nemo_status build_tables(build *b, const uint8_t *data, const char *name, nemo_error *err) {
    nemo_spm *s = b->s;
    uint32_t size = 1;
    while (size < (uint32_t)s->n * 2u) size *= 2;
    s->htab = malloc((size_t)size * sizeof *s->htab);
    s->surf = malloc((size_t)s->n * sizeof *s->surf);
    s->surflen = malloc((size_t)s->n * sizeof *s->surflen);
    s->user_ids = malloc((size_t)s->n * sizeof *s->user_ids);
    if (!s->htab || !s->surf || !s->surflen || !s->user_ids)
        return nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory for tables", name);
    memset(s->htab, 0xff, (size_t)size * sizeof *s->htab);
    s->hmask = size - 1;
    s->unk_id = -1;
    for (int32_t id = 0; id < s->n; id++) {
        const char *str = nemo_spm_str(s, id);
        if (nemo_spm_lookup(s, str, s->len[id]) >= 0)
            return nemo_fail(err, NEMO_ERR_FORMAT, "%s: pieces[%d]: duplicate piece '%s'", name, id,
                             str);
        uint32_t i = hash_bytes(str, s->len[id]) & s->hmask;
        while (s->htab[i] >= 0) i = (i + 1) & s->hmask;
        s->htab[i] = id;
        if (s->len[id] > s->max_piece_len) s->max_piece_len = s->len[id];
        switch (s->type[id]) {
        case NEMO_SPM_UNKNOWN:
            if (s->unk_id >= 0)
                return nemo_fail(err, NEMO_ERR_FORMAT,
                                 "%s: pieces[%d]: second UNKNOWN piece (pieces[%d] is one)", name,
                                 id, s->unk_id);
            s->unk_id = id;
            break;
        case NEMO_SPM_USER_DEFINED:
            s->user_ids[s->n_user++] = id;
            s->user_first[(uint8_t)str[0] >> 3] |= (uint8_t)(1u << ((uint8_t)str[0] & 7));
            break;
        case NEMO_SPM_BYTE: {
            unsigned v;
            char canon[8];
            if (!b->byte_fallback)
                return nemo_fail(err, NEMO_ERR_FORMAT,
                                 "%s: pieces[%d]: BYTE piece '%s' but trainer_spec.byte_fallback "
                                 "is false",
                                 name, id, str);
            if (s->len[id] != 6 || sscanf(str, "<0x%2X>", &v) != 1 ||
                (snprintf(canon, sizeof canon, "<0x%02X>", v), strcmp(canon, str) != 0))
                return nemo_fail(err, NEMO_ERR_FORMAT,
                                 "%s: pieces[%d]: BYTE piece '%s' is not of the form <0xXX>", name,
                                 id, str);
            break;
        }
        default: break;
        }
    }
    if (s->unk_id < 0)
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: no UNKNOWN piece (<unk>) among %d pieces", name,
                         s->n);
    for (int v = 0; v < 256; v++) {
        char piece[8];
        snprintf(piece, sizeof piece, "<0x%02X>", v);
        int32_t id = nemo_spm_lookup(s, piece, 6);
        s->byte_id[v] = id >= 0 ? id : s->unk_id;
    }

    /* bos/eos as sentencepiece's bos_id(): the id of the named piece, if it is CONTROL. */
    s->bos_id = control_id(s, data, b->have_bos_piece ? &b->bos_piece : NULL, "<s>");
    s->eos_id = control_id(s, data, b->have_eos_piece ? &b->eos_piece : NULL, "</s>");

    /* Decode surfaces (nemo_spm_piece_bytes) after all piece strings: the arena may move. */
    for (int32_t id = 0; id < s->n; id++) {
        nemo_status st;
        uint8_t t = s->type[id];
        if (t == NEMO_SPM_BYTE) {
            unsigned v = 0;
            sscanf(nemo_spm_str(s, id), "<0x%2X>", &v);
            uint8_t byte = (uint8_t)v;
            st = arena_add(b, &byte, 1, &s->surf[id], err);
            s->surflen[id] = 1;
        } else if (t == NEMO_SPM_UNKNOWN) {
            const char *u =
                b->have_unk_surface ? (const char *)data + b->unk_surface.off : " \xE2\x81\x87 ";
            size_t ul = b->have_unk_surface ? b->unk_surface.len : 5;
            st = arena_add(b, u, ul, &s->surf[id], err);
            s->surflen[id] = (uint32_t)ul;
        } else if (t == NEMO_SPM_CONTROL) {
            s->surf[id] = s->off[id]; /* the name itself */
            s->surflen[id] = s->len[id];
            continue;
        } else {
            /* '▁' (3 bytes) becomes ' ': copy through a scratch buffer since the arena may
             * move while we append. */
            char tmp[1024];
            char *buf = s->len[id] < sizeof tmp ? tmp : malloc(s->len[id] + 1);
            if (!buf) return nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", name);
            const char *src = nemo_spm_str(s, id);
            size_t n = 0;
            for (size_t i = 0; i < s->len[id];) {
                if (i + 3 <= s->len[id] && memcmp(src + i, "\xE2\x96\x81", 3) == 0) {
                    buf[n++] = ' ';
                    i += 3;
                } else {
                    buf[n++] = src[i++];
                }
            }
            st = arena_add(b, buf, n, &s->surf[id], err);
            s->surflen[id] = (uint32_t)n;
            if (buf != tmp) free(buf);
        }
        if (st) return nemo_fail_prefix(err, "%s", name);
    }
    return NEMO_OK;
}

static int32_t control_id(const nemo_spm *s, const uint8_t *data, const span *sp,
                          const char *dflt) {
    int32_t id = sp ? nemo_spm_lookup(s, (const char *)data + sp->off, sp->len)
                    : nemo_spm_lookup(s, dflt, strlen(dflt));
    return id >= 0 && s->type[id] == NEMO_SPM_CONTROL ? id : -1;
}

/* ---------------------------------------------------------------- open / free */

nemo_status nemo_spm_open_bytes(const uint8_t *data, size_t len, const char *name, nemo_spm **out,
                                nemo_error *err) {
    *out = NULL;
    if (!name) name = "(memory)";
    if (!data && len) return nemo_fail(err, NEMO_ERR_ARG, "%s: NULL data", name);
    nemo_spm *s = calloc(1, sizeof *s);
    if (!s) return nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", name);
    /* proto2 defaults of the fields read below */
    s->add_dummy_prefix = s->remove_extra_ws = s->escape_ws = 1;
    build b = {.s = s, .model_type = 1 /* UNIGRAM */};
    pb p = {.d = data, .pos = 0, .end = len, .name = name, .err = err};
    nemo_status st = NEMO_OK;
    while (!st && p.pos < p.end) {
        uint32_t f;
        int wt;
        size_t at, off, n;
        if ((st = pb_key(&p, "ModelProto", &f, &wt, &at))) break;
        const char *what = f == 1   ? "ModelProto.pieces"
                           : f == 2 ? "ModelProto.trainer_spec"
                           : f == 3 ? "ModelProto.normalizer_spec"
                                    : "ModelProto.denormalizer_spec";
        if (f == 1 || f == 2 || f == 3 || f == 5) {
            if ((st = pb_want(&p, wt, 2, at, what)) || (st = pb_len(&p, &off, &n, what))) break;
            pb sub = {.d = data, .pos = off, .end = off + n, .name = name, .err = err};
            st = f == 1   ? parse_piece(&sub, &b)
                 : f == 2 ? parse_trainer(&sub, &b)
                          : parse_normalizer(&sub, &b, f == 5);
        } else {
            st = pb_skip(&p, wt, f, at, "ModelProto");
        }
    }
    if (!st && s->n == 0)
        st = nemo_fail(err, NEMO_ERR_FORMAT, "%s: no pieces (ModelProto.pieces is empty)", name);
    if (!st && b.model_type != 2)
        st = nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                       "%s: trainer_spec.model_type is %d (%s); only BPE (2) is supported", name,
                       b.model_type,
                       b.model_type == 1   ? "UNIGRAM"
                       : b.model_type == 3 ? "WORD"
                       : b.model_type == 4 ? "CHAR"
                                           : "unknown");
    if (!st && b.ws_suffix)
        st = nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                       "%s: trainer_spec.treat_whitespace_as_suffix is not supported", name);
    if (!st && b.charsmap_len)
        st = nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                       "%s: byte offset %zu: normalizer_spec.precompiled_charsmap holds %zu bytes; "
                       "only the identity normalizer is supported",
                       name, b.charsmap_at, b.charsmap_len);
    if (!st && b.denorm_charsmap_len)
        st = nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                       "%s: byte offset %zu: denormalizer_spec.precompiled_charsmap holds %zu "
                       "bytes; only the identity denormalizer is supported",
                       name, b.denorm_charsmap_at, b.denorm_charsmap_len);
    s->byte_fallback = b.byte_fallback != 0;
    if (!st) st = build_tables(&b, data, name, err);
    if (st) {
        nemo_spm_free(s);
        return st;
    }
    *out = s;
    return NEMO_OK;
}

nemo_status nemo_spm_from_pieces(const char *name, int32_t n, const char *const *str,
                                 const size_t *len, const float *score, const uint8_t *type,
                                 const nemo_spm_settings *set, nemo_spm **out, nemo_error *err) {
    *out = NULL;
    nemo_spm *s = calloc(1, sizeof *s);
    if (!s) return nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", name);
    s->add_dummy_prefix = set->add_dummy_prefix;
    s->remove_extra_ws = set->remove_extra_ws;
    s->escape_ws = set->escape_ws;
    s->byte_fallback = set->byte_fallback;
    s->raw_utf8 = set->raw_utf8;
    build b = {.s = s, .model_type = 2, .byte_fallback = set->byte_fallback};
    nemo_status st = NEMO_OK;
    for (int32_t i = 0; i < n && !st; i++) {
        if ((st = grow_pieces(&b, err))) break;
        if (!len[i]) {
            st = nemo_fail(err, NEMO_ERR_FORMAT, "%s: piece %d is empty", name, (int)i);
            break;
        }
        if ((st = arena_add(&b, str[i], len[i], &s->off[i], err))) break;
        s->len[i] = (uint32_t)len[i];
        s->score[i] = score[i];
        s->type[i] = type[i];
        s->n++;
    }
    if (!st) st = build_tables(&b, NULL, name, err);
    if (st) {
        nemo_spm_free(s);
        return st;
    }
    *out = s;
    return NEMO_OK;
}

nemo_status nemo_spm_open(const char *path, nemo_spm **out, nemo_error *err) {
    *out = NULL;
    nemo_map m;
    nemo_status st = nemo_map_open(path, &m, err);
    if (st) return st;
    st = nemo_spm_open_bytes(m.data, (size_t)m.size, path, out, err);
    nemo_map_close(&m);
    return st;
}

void nemo_spm_free(nemo_spm *s) {
    if (!s) return;
    free(s->arena);
    free(s->off);
    free(s->len);
    free(s->surf);
    free(s->surflen);
    free(s->score);
    free(s->type);
    free(s->htab);
    free(s->user_ids);
    free(s);
}

/* ---------------------------------------------------------------- accessors */

int nemo_spm_vocab_size(const nemo_spm *s) {
    return s->n;
}
int32_t nemo_spm_bos_id(const nemo_spm *s) {
    return s->bos_id;
}
int32_t nemo_spm_eos_id(const nemo_spm *s) {
    return s->eos_id;
}

int32_t nemo_spm_piece_id(const nemo_spm *s, const char *piece) {
    return piece ? nemo_spm_lookup(s, piece, strlen(piece)) : -1;
}

int nemo_spm_is_control(const nemo_spm *s, int32_t id) {
    return id >= 0 && id < s->n &&
           (s->type[id] == NEMO_SPM_CONTROL || s->type[id] == NEMO_SPM_UNKNOWN);
}

int nemo_spm_piece_type(const nemo_spm *s, int32_t id) {
    return id >= 0 && id < s->n ? s->type[id] : 0;
}

const char *nemo_spm_piece(const nemo_spm *s, int32_t id, size_t *len) {
    if (id < 0 || id >= s->n) return NULL;
    if (len) *len = s->len[id];
    return nemo_spm_str(s, id);
}

const char *nemo_spm_piece_bytes(const nemo_spm *s, int32_t id, size_t *len) {
    if (id < 0 || id >= s->n) return NULL;
    if (len) *len = s->surflen[id];
    return s->arena + s->surf[id];
}
