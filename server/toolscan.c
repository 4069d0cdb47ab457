/* toolscan.c — an incremental reader of the call list a model writes after [TOOL_CALLS]
 * (`[{"name": "f", "arguments": {...}}, ...]` or one bare object), so a stream can send each
 * call's name as soon as it is complete and its arguments as they are written, in OpenAI's
 * tool_call delta shape. It is a small JSON tokenizer that follows the structure character by
 * character; the value of "arguments" is captured as written (a string value: its decoded
 * content, as nemo_tool_calls_parse gives it). It only advises: the final word on whether the
 * output is a call list stays with nemo_tool_calls_parse at the end of the request. */
#include "toolscan.h"

#include <stdlib.h>
#include <string.h>

enum { S_VALUE, S_KEY, S_COLON, S_AFTER, S_STR, S_LIT, S_END };
enum { F_OTHER, F_NAME, F_ARGS, F_ID };
enum { MAX_DEPTH = 128 };

struct tool_scan {
    tscan_call *calls;
    int n_calls, cap, n_named, bad, done;
    int state, depth, cd; /* cd: depth of a call object (1 bare, 2 inside the list) */
    char stk[MAX_DEPTH];  /* '{' or '[' per open container */
    int field;            /* which key of the call object the coming value belongs to */
    int args_raw;         /* capturing a container value of "arguments" as written */
    int lit_args;         /* the literal being read is the "arguments" value */
    /* the string being read */
    int s_key, s_target, esc, n_hex, key_over;
    unsigned hex, hi;
    char key[16];
    int n_key;
    char idb[16];
    int n_idb, id_over;
    int had_args; /* the current call's "arguments" was seen */
};

tool_scan *tscan_create(void) {
    tool_scan *t = calloc(1, sizeof *t);
    if (t) t->state = S_VALUE;
    return t;
}

void tscan_free(tool_scan *t) {
    if (!t) return;
    for (int i = 0; i < t->n_calls; i++) {
        sb_free(&t->calls[i].name);
        sb_free(&t->calls[i].args);
    }
    free(t->calls);
    free(t);
}

int tscan_named(const tool_scan *t) {
    return t->n_named;
}
const tscan_call *tscan_call_at(const tool_scan *t, int i) {
    return &t->calls[i];
}
int tscan_bad(const tool_scan *t) {
    return t->bad;
}
int tscan_done(const tool_scan *t) {
    return t->done;
}

static tscan_call *cur(tool_scan *t) {
    return t->n_calls ? &t->calls[t->n_calls - 1] : NULL;
}

static int new_call(tool_scan *t) {
    if (t->n_calls == t->cap) {
        int cap = t->cap ? 2 * t->cap : 4;
        tscan_call *nc = realloc(t->calls, (size_t)cap * sizeof *nc);
        if (!nc) return -1;
        t->calls = nc;
        t->cap = cap;
    }
    memset(&t->calls[t->n_calls++], 0, sizeof(tscan_call));
    t->n_idb = t->id_over = t->had_args = 0;
    return 0;
}

static uint64_t rng_next(uint64_t *st) { /* splitmix64, as the sampler and the parser */
    uint64_t z = (*st += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The call's name is complete: it may be streamed now, under the id the model gave (when one
 * came first and is valid) or a fresh one. */
static void name_done(tool_scan *t, uint64_t *rng) {
    tscan_call *c = cur(t);
    int ok = t->n_idb == 9 && !t->id_over;
    for (int i = 0; ok && i < 9; i++) ok = is_alnum(t->idb[i]);
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < 9; i++) c->id[i] = ok ? t->idb[i] : al[rng_next(rng) % 62];
    c->id[9] = 0;
    c->named = 1;
    t->n_named++;
}

/* Decoded string bytes go to the string's target. */
static void str_out(tool_scan *t, const char *s, size_t n) {
    tscan_call *c = cur(t);
    if (t->s_key) {
        for (size_t i = 0; i < n; i++) {
            if (t->n_key < (int)sizeof t->key - 1 && s[i])
                t->key[t->n_key++] = s[i];
            else
                t->key_over = 1;
        }
    } else if (t->s_target == F_NAME) {
        sb_put(&c->name, s, n);
    } else if (t->s_target == F_ARGS) {
        sb_put(&c->args, s, n);
    } else if (t->s_target == F_ID) {
        for (size_t i = 0; i < n; i++) {
            if (t->n_idb < (int)sizeof t->idb - 1)
                t->idb[t->n_idb++] = s[i];
            else
                t->id_over = 1;
        }
    }
}

static void put_cp(tool_scan *t, unsigned cp) {
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6)), b[1] = (char)(0x80 | (cp & 63)), n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12)), b[1] = (char)(0x80 | ((cp >> 6) & 63));
        b[2] = (char)(0x80 | (cp & 63)), n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18)), b[1] = (char)(0x80 | ((cp >> 12) & 63));
        b[2] = (char)(0x80 | ((cp >> 6) & 63)), b[3] = (char)(0x80 | (cp & 63)), n = 4;
    }
    str_out(t, b, n);
}

/* A lone high surrogate cannot be written as UTF-8: it becomes U+FFFD. */
static void flush_hi(tool_scan *t) {
    if (t->hi) put_cp(t, 0xFFFD);
    t->hi = 0;
}

static void value_done(tool_scan *t) {
    t->state = t->depth ? S_AFTER : S_END;
    if (!t->depth) t->done = 1;
}

static void string_done(tool_scan *t, uint64_t *rng) {
    flush_hi(t);
    if (t->s_key) {
        t->key[t->n_key] = 0;
        t->field = t->key_over                    ? F_OTHER
                   : !strcmp(t->key, "name")      ? F_NAME
                   : !strcmp(t->key, "arguments") ? F_ARGS
                   : !strcmp(t->key, "id")        ? F_ID
                                                  : F_OTHER;
        if (t->field == F_ARGS && t->depth == t->cd && t->had_args++)
            t->bad = 1; /* a second "arguments": the parser would keep the last one */
        t->state = S_COLON;
        return;
    }
    if (t->s_target == F_NAME) {
        if (cur(t)->named)
            t->bad = 1; /* a second "name": the parser would keep the last one */
        else
            name_done(t, rng);
    }
    value_done(t);
}

static void string_char(tool_scan *t, char c, uint64_t *rng) {
    if (t->n_hex) { /* inside \uXXXX */
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (v < 0) {
            t->bad = 1;
            return;
        }
        t->hex = t->hex * 16 + (unsigned)v;
        if (++t->n_hex < 5) return;
        t->n_hex = 0;
        unsigned u = t->hex;
        if (u >= 0xDC00 && u <= 0xDFFF && t->hi) {
            put_cp(t, 0x10000 + ((t->hi - 0xD800) << 10) + (u - 0xDC00));
            t->hi = 0;
        } else {
            flush_hi(t);
            if (u >= 0xD800 && u <= 0xDBFF)
                t->hi = u;
            else
                put_cp(t, u >= 0xDC00 && u <= 0xDFFF ? 0xFFFD : u);
        }
        return;
    }
    if (t->esc) {
        t->esc = 0;
        if (c == 'u') {
            t->n_hex = 1;
            t->hex = 0;
            return;
        }
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *p = c ? strchr(from, c) : NULL;
        if (!p) {
            t->bad = 1;
            return;
        }
        flush_hi(t);
        str_out(t, to + (p - from), 1);
        return;
    }
    if (c == '\\') {
        t->esc = 1;
        return;
    }
    flush_hi(t);
    if (c == '"') {
        string_done(t, rng);
    } else if ((unsigned char)c < 0x20) {
        t->bad = 1; /* JSON strings hold no raw control characters */
    } else {
        str_out(t, &c, 1);
    }
}

static void start_string(tool_scan *t, int is_key) {
    t->state = S_STR;
    t->s_key = is_key;
    t->s_target = !is_key && t->depth == t->cd ? t->field : F_OTHER;
    t->esc = t->n_hex = 0;
    t->hi = 0;
    t->n_key = t->key_over = 0;
    if (t->s_target == F_ID) t->n_idb = t->id_over = 0;
    if (t->s_target == F_NAME && cur(t)->named) t->bad = 1;
}

static void close_container(tool_scan *t, char c) {
    if (!t->depth || t->stk[t->depth - 1] != (c == '}' ? '{' : '[')) {
        t->bad = 1;
        return;
    }
    t->depth--;
    if (t->depth == t->cd) t->args_raw = 0; /* the arguments container closed */
    if (t->depth == t->cd - 1 && c == '}' && !cur(t)->named) t->bad = 1; /* a call without name */
    value_done(t);
}

static void open_container(tool_scan *t, char c) {
    if (t->depth == MAX_DEPTH) {
        t->bad = 1;
        return;
    }
    if (t->depth == 0) {
        t->cd = c == '[' ? 2 : 1;
        if (c == '{' && new_call(t)) t->bad = 1;
    } else if (t->depth == 1 && t->cd == 2) {
        if (c != '{' || new_call(t)) { /* every element of the list is a call object */
            t->bad = 1;
            return;
        }
    } else if (t->depth == t->cd) {
        if (t->field == F_NAME) {
            t->bad = 1;
            return;
        }
        if (t->field == F_ARGS) {
            sb_put(&cur(t)->args, &c, 1);
            t->args_raw = 1;
        }
    }
    t->stk[t->depth++] = c;
    t->state = c == '{' ? S_KEY : S_VALUE;
}

static int is_ws(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static int lit_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
           c == '+' || c == '-';
}

void tscan_feed(tool_scan *t, const char *s, size_t n, uint64_t *rng) {
    for (size_t i = 0; i < n && !t->bad; i++) {
        char c = s[i];
        if (t->args_raw) sb_put(&cur(t)->args, &c, 1);
        switch (t->state) {
        case S_END: return; /* trailing text: the parser allows and ignores it */
        case S_STR: string_char(t, c, rng); break;
        case S_LIT:
            if (lit_char(c)) {
                if (t->lit_args) sb_put(&cur(t)->args, &c, 1);
                break;
            }
            t->lit_args = 0;
            value_done(t);
            i--; /* the delimiter is read in the new state */
            if (t->args_raw) cur(t)->args.len--;
            break;
        case S_VALUE:
            if (is_ws(c)) break;
            if (c == '{' || c == '[') {
                open_container(t, c);
            } else if (c == ']' && t->depth && t->stk[t->depth - 1] == '[') {
                close_container(t, c); /* an empty list */
            } else if (t->depth == 0 || (t->depth == 1 && t->cd == 2)) {
                t->bad = 1; /* the list itself and its elements are containers */
            } else if (c == '"') {
                start_string(t, 0);
            } else if (c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n') {
                if (t->depth == t->cd && t->field == F_NAME) {
                    t->bad = 1;
                    break;
                }
                t->state = S_LIT;
                t->lit_args = t->depth == t->cd && t->field == F_ARGS;
                if (t->lit_args) sb_put(&cur(t)->args, &c, 1);
            } else {
                t->bad = 1;
            }
            break;
        case S_KEY:
            if (is_ws(c)) break;
            if (c == '"')
                start_string(t, 1);
            else if (c == '}')
                close_container(t, c);
            else
                t->bad = 1;
            break;
        case S_COLON:
            if (is_ws(c)) break;
            if (c == ':')
                t->state = S_VALUE;
            else
                t->bad = 1;
            break;
        case S_AFTER:
            if (is_ws(c)) break;
            if (c == ',')
                t->state = t->stk[t->depth - 1] == '{' ? S_KEY : S_VALUE;
            else if (c == '}' || c == ']')
                close_container(t, c);
            else
                t->bad = 1;
            break;
        }
        if (t->depth == t->cd && t->state == S_KEY) t->field = F_OTHER;
    }
    for (int i = 0; i < t->n_calls; i++)
        if (t->calls[i].name.oom || t->calls[i].args.oom) t->bad = 1;
}
