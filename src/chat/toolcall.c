/* toolcall.c — tool calls out of generated text. Mistral NeMo answers a tool request with the
 * [TOOL_CALLS] control token followed by a JSON list [{"name": ..., "arguments": {...}}, ...]
 * (sometimes with an "id"). Text before the marker is ordinary content; the list becomes
 * structured calls (arguments re-written as JSON text, ids kept when valid or drawn from the
 * caller's PRNG). Output that does not parse is flagged `malformed` and kept verbatim — never
 * dropped. Also the streaming form: pieces in, content shown at once, calls collected. */
#include "chat/chat.h"

#include <stdlib.h>

static char *dup_n(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (p) {
        if (n) memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

static uint64_t rng_next(uint64_t *st) { /* splitmix64, as the sampler */
    uint64_t z = (*st += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* 9 characters of [A-Za-z0-9], the id format mistral-common's validator requires */
static char *new_id(uint64_t *rng) {
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char *id = malloc(10);
    if (!id) return NULL;
    for (int i = 0; i < 9; i++) id[i] = al[rng_next(rng) % 62];
    id[9] = 0;
    return id;
}

void nemo_tool_calls_free(nemo_tool_calls *tc) {
    if (!tc) return;
    for (int i = 0; i < tc->n_calls; i++) {
        free(tc->calls[i].name);
        free(tc->calls[i].arguments);
        free(tc->calls[i].id);
    }
    free(tc->calls);
    free(tc->content);
    free(tc->raw);
    free(tc->trailing);
    free(tc);
}

static int is_ws(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Fills tc->calls from a parsed value; returns 0, 1 if the value is not a call list, -1 oom. */
static int fill_calls(nemo_tool_calls *tc, const json_t *v, uint64_t *rng) {
    size_t n = json_is_array(v) ? json_array_size(v) : json_is_object(v) ? 1 : 0;
    if (n == 0) return 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_is_array(v) ? json_array_get(v, i) : v;
        if (!json_is_object(c) || !json_is_string(json_object_get(c, "name"))) return 1;
    }
    tc->calls = calloc(n, sizeof *tc->calls);
    if (!tc->calls) return -1;
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_is_array(v) ? json_array_get(v, i) : v;
        nemo_tool_call *out = &tc->calls[tc->n_calls++];
        const json_t *name = json_object_get(c, "name");
        const json_t *args = json_object_get(c, "arguments");
        const json_t *id = json_object_get(c, "id");
        out->name = dup_n(json_string_value(name), json_string_length(name));
        if (json_is_string(args)) {
            out->arguments = dup_n(json_string_value(args), json_string_length(args));
        } else if (!args || json_is_null(args)) {
            out->arguments = dup_n("{}", 2);
        } else {
            chat_buf b = {0};
            pyjson_dump(&b, args);
            out->arguments = chat_buf_take(&b);
        }
        chat_text t = {(char *)json_string_value(id), json_string_length(id)};
        int keep = t.p && t.n == 9 && chat_match_re(&t, 9, 9, "");
        out->id = keep ? dup_n(t.p, t.n) : new_id(rng);
        if (!out->name || !out->arguments || !out->id) return -1;
    }
    return 0;
}

/* Parses the JSON value at the start of s; *used = bytes it took. */
static json_t *parse_prefix(const char *s, size_t n, size_t *used) {
    json_error_t je;
    json_t *v = json_loadb(s, n, JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &je);
    *used = v ? (size_t)je.position : 0;
    if (*used > n) *used = n;
    return v;
}

nemo_status nemo_tool_calls_parse(const char *before, size_t before_len, const char *after,
                                  size_t after_len, uint64_t *rng, nemo_tool_calls **out,
                                  nemo_error *err) {
    *out = NULL;
    nemo_tool_calls *tc = calloc(1, sizeof *tc);
    if (!tc) return nemo_fail(err, NEMO_ERR_NOMEM, "tool calls: out of memory");
    tc->content = dup_n(before ? before : "", before ? before_len : 0);
    int oom = !tc->content;
    if (after && !oom) {
        tc->has_marker = 1;
        tc->raw = dup_n(after, after_len);
        oom = !tc->raw;
        const char *s = after;
        size_t n = after_len;
        while (n && is_ws(*s)) s++, n--;
        size_t used = 0;
        json_t *v = oom ? NULL : parse_prefix(s, n, &used);
        if (!v && !oom) {
            /* the model may put text before the list: take the first '[' ... last ']' */
            const char *lb = memchr(s, '[', n);
            const char *rb = NULL;
            for (size_t i = n; lb && i > 0; i--)
                if (s[i - 1] == ']') {
                    rb = s + i - 1;
                    break;
                }
            if (lb && rb && rb > lb) {
                v = parse_prefix(lb, (size_t)(rb - lb) + 1, &used);
                if (v) used += (size_t)(lb - s);
            }
        }
        int r = 1;
        if (v) r = fill_calls(tc, v, rng);
        json_decref(v);
        if (r < 0) oom = 1;
        if (r != 0) { /* not a call list: report it whole, no partial calls */
            for (int i = 0; i < tc->n_calls; i++) {
                free(tc->calls[i].name);
                free(tc->calls[i].arguments);
                free(tc->calls[i].id);
            }
            free(tc->calls);
            tc->calls = NULL;
            tc->n_calls = 0;
            tc->malformed = 1;
        } else {
            const char *t = s + used;
            size_t tn = n - used;
            while (tn && is_ws(*t)) t++, tn--;
            while (tn && is_ws(t[tn - 1])) tn--;
            if (tn && !(tc->trailing = dup_n(t, tn))) oom = 1;
        }
    }
    if (oom) {
        nemo_tool_calls_free(tc);
        return nemo_fail(err, NEMO_ERR_NOMEM, "tool calls: out of memory");
    }
    *out = tc;
    return NEMO_OK;
}

static nemo_status decode_all(const nemo_tokenizer *t, const int32_t *ids, size_t n, chat_buf *b,
                              nemo_error *err) {
    size_t cap = 16 * n + 64, got = 0;
    for (;;) {
        chat_buf_free(b);
        b->p = malloc(cap);
        if (!b->p) return nemo_fail(err, NEMO_ERR_NOMEM, "tool calls: out of memory");
        b->cap = cap;
        nemo_status st = nemo_tokenizer_decode(t, ids, n, NEMO_SPECIAL_SKIP, b->p, cap, &got, err);
        if (st == NEMO_OK) {
            b->n = got;
            return NEMO_OK;
        }
        if (st != NEMO_ERR_FULL) return st;
        cap = got + 1;
    }
}

nemo_status nemo_tool_calls_parse_ids(const nemo_tokenizer *t, const int32_t *ids, size_t n,
                                      uint64_t *rng, nemo_tool_calls **out, nemo_error *err) {
    *out = NULL;
    int32_t marker = nemo_tokenizer_special_id(t, "[TOOL_CALLS]");
    size_t at = n;
    for (size_t i = 0; marker >= 0 && i < n; i++)
        if (ids[i] == marker) {
            at = i;
            break;
        }
    chat_buf a = {0}, b = {0};
    nemo_status st = decode_all(t, ids, at, &a, err);
    if (!st && at < n) st = decode_all(t, ids + at + 1, n - at - 1, &b, err);
    if (!st) st = nemo_tool_calls_parse(a.p, a.n, at < n ? b.p : NULL, b.n, rng, out, err);
    chat_buf_free(&a);
    chat_buf_free(&b);
    return st;
}

/* ---- streaming */

struct nemo_tool_stream {
    chat_buf before, after;
    int in_calls;
    int depth, in_str, esc, done, top_array; /* a minimal JSON scanner over `after` */
};

nemo_status nemo_tool_stream_create(nemo_tool_stream **out, nemo_error *err) {
    *out = calloc(1, sizeof **out);
    return *out ? NEMO_OK : nemo_fail(err, NEMO_ERR_NOMEM, "tool stream: out of memory");
}

void nemo_tool_stream_free(nemo_tool_stream *s) {
    if (!s) return;
    chat_buf_free(&s->before);
    chat_buf_free(&s->after);
    free(s);
}

int nemo_tool_stream_in_calls(const nemo_tool_stream *s) {
    return s->in_calls;
}
int nemo_tool_stream_calls_done(const nemo_tool_stream *s) {
    return s->done;
}

nemo_status nemo_tool_stream_feed(nemo_tool_stream *s, const char *piece, size_t len, int is_marker,
                                  size_t *content_len, nemo_error *err) {
    if (content_len) *content_len = 0;
    if (is_marker) {
        s->in_calls = 1;
        return NEMO_OK;
    }
    if (!s->in_calls) {
        chat_buf_put(&s->before, piece, len);
        if (content_len) *content_len = len;
    } else {
        chat_buf_put(&s->after, piece, len);
        for (size_t i = 0; i < len; i++) {
            char c = piece[i];
            if (s->in_str) {
                if (s->esc)
                    s->esc = 0;
                else if (c == '\\')
                    s->esc = 1;
                else if (c == '"')
                    s->in_str = 0;
            } else if (c == '"') {
                s->in_str = 1;
            } else if (c == '[' || c == '{') {
                if (s->depth++ == 0) s->top_array = c == '[';
            } else if (c == ']' || c == '}') {
                if (s->depth > 0) s->depth--;
                /* a call object closed: inside the top-level list, or a bare object */
                if (c == '}' && s->depth == (s->top_array ? 1 : 0)) s->done++;
            }
        }
    }
    if (s->before.oom || s->after.oom)
        return nemo_fail(err, NEMO_ERR_NOMEM, "tool stream: out of memory");
    return NEMO_OK;
}

nemo_status nemo_tool_stream_finish(nemo_tool_stream *s, uint64_t *rng, nemo_tool_calls **out,
                                    nemo_error *err) {
    nemo_status st = nemo_tool_calls_parse(s->before.p, s->before.n,
                                           s->in_calls ? (s->after.p ? s->after.p : "") : NULL,
                                           s->after.n, rng, out, err);
    chat_buf_free(&s->before);
    chat_buf_free(&s->after);
    s->in_calls = s->depth = s->in_str = s->esc = s->done = s->top_array = 0;
    return st;
}
