/* convo.c — the conversation of `nemo run` / `nemo chat` as an OpenAI-style request (JSON
 * messages + the --tools list), turned into prompt ids by the library's nemo_chat_parse +
 * nemo_chat_encode (the chat template of the tokenizer), or BOS + text for --raw. Keeping the
 * request as JSON lets assistant tool calls and tool results take part like any message. */
#include "convo.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct convo {
    const char *cmd;
    char *system;  /* NULL: none */
    json_t *msgs;  /* array of messages after the system prompt */
    json_t *tools; /* array, or NULL */
    json_t *ids;   /* call ids of the last assistant tool calls, waiting for /tool results */
    int n_results; /* results given so far for them */
};

static nemo_status build(const convo *c, nemo_chat **chat, nemo_error *err);

static json_t *load_tools(const char *cmd, const char *path) {
    json_error_t je;
    json_t *t = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!t) {
        fprintf(stderr, "nemo %s: --tools %s: line %d column %d: %s\n", cmd, path, je.line,
                je.column, je.text);
        return NULL;
    }
    if (!json_is_array(t)) {
        fprintf(stderr,
                "nemo %s: --tools %s: expected a JSON array of tools ([{\"type\": \"function\", "
                "\"function\": {...}}]), found a %s\n",
                cmd, path,
                json_is_object(t)   ? "object"
                : json_is_string(t) ? "string"
                                    : "scalar value");
        json_decref(t);
        return NULL;
    }
    return t;
}

convo *convo_create(const char *cmd, const char *system, const char *tools_file) {
    convo *c = calloc(1, sizeof *c);
    if (!c || !(c->msgs = json_array()) || (system && !(c->system = strdup(system)))) {
        fprintf(stderr, "nemo %s: out of memory\n", cmd);
        convo_free(c);
        return NULL;
    }
    c->cmd = cmd;
    if (tools_file) {
        if (!(c->tools = load_tools(cmd, tools_file))) {
            convo_free(c);
            return NULL;
        }
        /* check the tools now (names, JSON schemas), before the model is loaded */
        nemo_error err = {0};
        nemo_chat *chat = NULL;
        if (convo_add(c, "user", "x", 1) || build(c, &chat, &err)) {
            fprintf(stderr, "nemo %s: --tools %s: %s\n", cmd, tools_file, err.msg);
            convo_free(c);
            return NULL;
        }
        nemo_chat_free(chat);
        convo_pop(c);
    }
    return c;
}

void convo_free(convo *c) {
    if (!c) return;
    free(c->system);
    json_decref(c->msgs);
    json_decref(c->tools);
    json_decref(c->ids);
    free(c);
}

int convo_count(const convo *c) {
    return (int)json_array_size(c->msgs);
}

int convo_set_system(convo *c, const char *system) {
    free(c->system);
    c->system = NULL;
    if (system && system[0] && !(c->system = strdup(system))) return -1;
    return 0;
}

void convo_reset(convo *c) {
    json_array_clear(c->msgs);
    json_decref(c->ids);
    c->ids = NULL;
    c->n_results = 0;
}

void convo_pop(convo *c) {
    size_t n = json_array_size(c->msgs);
    if (n) json_array_remove(c->msgs, n - 1);
}

static int add_msg(convo *c, json_t *m) {
    if (!m || json_array_append_new(c->msgs, m)) {
        fprintf(stderr, "nemo %s: out of memory\n", c->cmd);
        return -1;
    }
    return 0;
}

int convo_add(convo *c, const char *role, const char *text, size_t len) {
    json_t *m = json_object();
    if (m) {
        json_object_set_new(m, "role", json_string(role));
        json_object_set_new(m, "content", json_stringn(text, len));
    }
    return add_msg(c, m);
}

int convo_add_answer(convo *c, const char *content, size_t len, const nemo_tool_calls *tc) {
    if (!tc || !tc->has_marker || tc->malformed || tc->n_calls == 0)
        return convo_add(c, "assistant", content, len);
    json_t *m = json_object(), *calls = json_array(), *ids = json_array();
    if (!m || !calls || !ids) {
        json_decref(m);
        json_decref(calls);
        json_decref(ids);
        return add_msg(c, NULL);
    }
    json_object_set_new(m, "role", json_string("assistant"));
    json_object_set_new(m, "content", len ? json_stringn(content, len) : json_null());
    for (int i = 0; i < tc->n_calls; i++) {
        const nemo_tool_call *k = &tc->calls[i];
        json_t *args = json_loads(k->arguments, JSON_DECODE_ANY, NULL);
        if (!json_is_object(args)) {
            json_decref(args);
            args = json_string(k->arguments);
        }
        json_t *fn = json_pack("{s:s, s:o}", "name", k->name, "arguments", args);
        json_array_append_new(
            calls, json_pack("{s:s, s:s, s:o}", "id", k->id, "type", "function", "function", fn));
        json_array_append_new(ids, json_string(k->id));
    }
    json_object_set_new(m, "tool_calls", calls);
    json_decref(c->ids);
    c->ids = ids;
    c->n_results = 0;
    return add_msg(c, m);
}

int convo_pending_calls(const convo *c) {
    return c->ids ? (int)json_array_size(c->ids) - c->n_results : 0;
}

int convo_add_tool_result(convo *c, const char *text, size_t len) {
    if (convo_pending_calls(c) <= 0) return -1;
    json_t *m = json_object();
    if (m) {
        json_object_set_new(m, "role", json_string("tool"));
        json_object_set(m, "tool_call_id", json_array_get(c->ids, (size_t)c->n_results));
        json_object_set_new(m, "content", json_stringn(text, len));
    }
    if (add_msg(c, m)) return -2;
    c->n_results++;
    return 0;
}

/* The request as JSON text, parsed and validated by the library. */
static nemo_status build(const convo *c, nemo_chat **chat, nemo_error *err) {
    json_t *msgs = json_array();
    json_t *req = json_object();
    char *text = NULL;
    if (msgs && req) {
        if (c->system)
            json_array_append_new(msgs,
                                  json_pack("{s:s, s:s}", "role", "system", "content", c->system));
        json_array_extend(msgs, c->msgs);
        json_object_set(req, "messages", msgs);
        if (c->tools) json_object_set(req, "tools", c->tools);
        text = json_dumps(req, JSON_PRESERVE_ORDER | JSON_COMPACT);
    }
    json_decref(msgs);
    json_decref(req);
    if (!text) {
        err->status = NEMO_ERR_NOMEM;
        snprintf(err->msg, sizeof err->msg, "out of memory building the chat request");
        return NEMO_ERR_NOMEM;
    }
    nemo_status st = nemo_chat_parse(text, strlen(text), chat, err);
    free(text);
    return st;
}

nemo_status convo_encode(const convo *c, const nemo_tokenizer *t, int32_t **ids, size_t *n,
                         nemo_error *err) {
    nemo_chat *chat = NULL;
    nemo_status st = build(c, &chat, err);
    if (!st) st = nemo_chat_encode(chat, t, ids, n, err);
    nemo_chat_free(chat);
    return st;
}

nemo_status convo_encode_raw(const nemo_tokenizer *t, const char *text, size_t len, int32_t **ids,
                             size_t *n, nemo_error *err) {
    size_t cap = len + 16, got = 0;
    *ids = NULL;
    for (int tries = 0; tries < 2; tries++) {
        int32_t *b = malloc(cap * sizeof *b);
        if (!b) break;
        nemo_status st = nemo_tokenizer_encode(t, text, len, 1, 0, b, cap, &got, err);
        if (!st) {
            *ids = b;
            *n = got;
            return NEMO_OK;
        }
        free(b);
        if (st != NEMO_ERR_FULL) return st;
        cap = got;
    }
    err->status = NEMO_ERR_NOMEM;
    snprintf(err->msg, sizeof err->msg, "out of memory encoding the prompt");
    return NEMO_ERR_NOMEM;
}
