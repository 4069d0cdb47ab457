/* pyjson.c — Python-compatible JSON text. mistral-common builds the [AVAILABLE_TOOLS],
 * [TOOL_CALLS] and [TOOL_RESULTS] payloads with json.dumps(..., ensure_ascii=False) and the
 * model was trained on exactly those bytes, so jansson's own dump (different separators and
 * float spelling) cannot be used. Data in: jansson values; out: bytes in a chat_buf. */
#include "chat/pyjson.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void chat_buf_put(chat_buf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void chat_buf_free(chat_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

char *chat_buf_take(chat_buf *b) {
    if (b->oom) {
        chat_buf_free(b);
        return NULL;
    }
    if (!b->p) chat_buf_put(b, "", 0);
    char *p = b->oom ? NULL : b->p;
    if (b->oom) free(b->p);
    memset(b, 0, sizeof *b);
    return p;
}

/* float.__repr__: the shortest digit string that reads back as x (found by trying each
 * precision; glibc rounds correctly), written in fixed notation when the decimal exponent is
 * in [-4, 16) and in exponent notation otherwise — Python's 'r' format rule. */
void pyjson_put_float(chat_buf *b, double x) {
    if (isnan(x)) return chat_buf_puts(b, "NaN");
    if (isinf(x)) return chat_buf_puts(b, x < 0 ? "-Infinity" : "Infinity");
    if (x == 0) return chat_buf_puts(b, signbit(x) ? "-0.0" : "0.0");
    char e[40];
    for (int prec = 0; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, x);
        if (strtod(e, NULL) == x) break;
    }
    /* e = [-]D[.DDD]e[+-]XX */
    char digits[24];
    int nd = 0;
    const char *p = e;
    int neg = *p == '-';
    if (neg) p++;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[nd++] = *p;
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    int decpt = exp10 + 1; /* x = 0.DIGITS * 10^decpt */
    char out[64];
    int o = 0;
    if (neg) out[o++] = '-';
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = 0; i < -decpt; i++) out[o++] = '0';
            for (int i = 0; i < nd; i++) out[o++] = digits[i];
        } else if (decpt >= nd) {
            for (int i = 0; i < nd; i++) out[o++] = digits[i];
            for (int i = nd; i < decpt; i++) out[o++] = '0';
            out[o++] = '.';
            out[o++] = '0';
        } else {
            for (int i = 0; i < nd; i++) {
                if (i == decpt) out[o++] = '.';
                out[o++] = digits[i];
            }
        }
        out[o] = 0;
    } else {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (int i = 1; i < nd; i++) out[o++] = digits[i];
        }
        int ex = decpt - 1;
        snprintf(out + o, sizeof out - (size_t)o, "e%c%02d", ex < 0 ? '-' : '+', ex < 0 ? -ex : ex);
    }
    chat_buf_puts(b, out);
}

void pyjson_put_string(chat_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    chat_buf_put(b, "\"", 1);
    size_t run = 0; /* bytes copied verbatim in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20) {
                memcpy(u, "\\u00", 4);
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                u[6] = 0;
                esc = u;
            }
        }
        if (!esc) continue;
        chat_buf_put(b, s + run, i - run);
        chat_buf_puts(b, esc);
        run = i + 1;
    }
    chat_buf_put(b, s + run, n - run);
    chat_buf_put(b, "\"", 1);
}

void pyjson_dump(chat_buf *b, const json_t *v) {
    char num[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        chat_buf_put(b, "{", 1);
        const char *key;
        json_t *val;
        int first = 1;
        /* jansson keeps insertion order, as Python dicts do */
        json_object_foreach((json_t *)v, key, val) {
            if (!first) chat_buf_put(b, ", ", 2);
            first = 0;
            pyjson_put_string(b, key, strlen(key));
            chat_buf_put(b, ": ", 2);
            pyjson_dump(b, val);
        }
        chat_buf_put(b, "}", 1);
        break;
    }
    case JSON_ARRAY: {
        chat_buf_put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) chat_buf_put(b, ", ", 2);
            pyjson_dump(b, json_array_get(v, i));
        }
        chat_buf_put(b, "]", 1);
        break;
    }
    case JSON_STRING: pyjson_put_string(b, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        chat_buf_puts(b, num);
        break;
    case JSON_REAL: pyjson_put_float(b, json_real_value(v)); break;
    case JSON_TRUE: chat_buf_puts(b, "true"); break;
    case JSON_FALSE: chat_buf_puts(b, "false"); break;
    case JSON_NULL: chat_buf_puts(b, "null"); break;
    }
}

pyjson_parse_result pyjson_loads(const char *s, size_t n, json_t **out) {
    json_error_t je;
    *out = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (*out) return PYJSON_OK;
    /* Python's int and float accept what jansson refuses as too large: do not silently treat
     * such a payload as "not JSON", which would change the prompt. */
    if (json_error_code(&je) == json_error_numeric_overflow) return PYJSON_UNSUPPORTED;
    return PYJSON_NOT_JSON;
}
