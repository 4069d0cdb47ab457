/* pyjson.h — JSON exactly as Python's json.dumps(obj, ensure_ascii=False) writes it (the bytes
 * mistral-common tokenizes), and json.loads-like parsing on top of jansson. Internal to chat/. */
#ifndef NEMO_CHAT_PYJSON_H
#define NEMO_CHAT_PYJSON_H

#include "core/core.h"

#include <jansson.h>
#include <stddef.h>

/* A growable byte buffer; `oom` latches the first allocation failure so callers check once. */
typedef struct chat_buf {
    char *p;
    size_t n, cap;
    int oom;
} chat_buf;

void chat_buf_put(chat_buf *b, const char *s, size_t n);
static inline void chat_buf_puts(chat_buf *b, const char *s) {
    chat_buf_put(b, s, strlen(s));
}
void chat_buf_free(chat_buf *b);
/* Detaches the NUL-terminated contents (NULL on oom); the buffer is left empty. */
char *chat_buf_take(chat_buf *b);

/* Appends the Python repr of a double: shortest round-trip digits, "1e-05", "100.0", "-0.0",
 * "Infinity", "NaN". */
void pyjson_put_float(chat_buf *b, double x);
/* Appends a JSON string literal of n UTF-8 bytes (NUL bytes allowed) with Python's escapes. */
void pyjson_put_string(chat_buf *b, const char *s, size_t n);
/* Appends v as json.dumps(v, ensure_ascii=False) would: ", " and ": " separators, insertion
 * order. */
void pyjson_dump(chat_buf *b, const json_t *v);

typedef enum pyjson_parse_result {
    PYJSON_OK = 0,      /* *out holds the value (caller owns the reference) */
    PYJSON_NOT_JSON,    /* Python's json.loads would raise JSONDecodeError */
    PYJSON_UNSUPPORTED, /* valid for Python but beyond jansson (integer > 64 bits, 1e999) */
} pyjson_parse_result;

/* Parses a whole text as one JSON value like json.loads (any value, surrounding whitespace,
 * NUL escapes allowed, duplicate keys: last value at the first key's place). */
pyjson_parse_result pyjson_loads(const char *s, size_t n, json_t **out);

#endif
