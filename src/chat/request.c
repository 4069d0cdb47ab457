/* request.c — an OpenAI-style chat request (JSON text) into a nemo_chat, with the field and type
 * rules of mistral-common's ChatCompletionRequest.from_openai (pydantic models): which keys are
 * required, which may be null, what defaults apply. Role order and ids are checked later by
 * validate.c. Also the turn-by-turn builder used by interactive chat. */
#include "chat/chat.h"

#include <stdlib.h>

const char *chat_role_name(chat_role r) {
    static const char *names[] = {"system", "user", "assistant", "tool"};
    return names[r];
}

static int text_set(chat_text *t, const char *s, size_t n) {
    t->p = malloc(n + 1);
    if (!t->p) return -1;
    memcpy(t->p, s, n);
    t->p[n] = 0;
    t->n = n;
    return 0;
}

static void msg_clear(chat_msg *m) {
    free(m->text.p);
    for (int i = 0; i < m->n_calls; i++) {
        chat_call *c = &m->calls[i];
        free(c->id.p);
        free(c->name.p);
        free(c->args_text.p);
        json_decref(c->args_value);
    }
    free(m->calls);
    free(m->call_id.p);
    free(m->name.p);
    memset(m, 0, sizeof *m);
}

nemo_status nemo_chat_create(nemo_chat **out, nemo_error *err) {
    *out = calloc(1, sizeof **out);
    return *out ? NEMO_OK : nemo_fail(err, NEMO_ERR_NOMEM, "chat: out of memory");
}

void nemo_chat_free(nemo_chat *c) {
    if (!c) return;
    for (int i = 0; i < c->n; i++) msg_clear(&c->msgs[i]);
    free(c->msgs);
    json_decref(c->tools);
    free(c);
}

int nemo_chat_count(const nemo_chat *c) {
    return c->n;
}

void nemo_chat_pop(nemo_chat *c) {
    if (c->n > 0) msg_clear(&c->msgs[--c->n]);
}

static chat_msg *push_msg(nemo_chat *c) {
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 8;
        chat_msg *m = realloc(c->msgs, (size_t)cap * sizeof *m);
        if (!m) return NULL;
        c->msgs = m;
        c->cap = cap;
    }
    chat_msg *m = &c->msgs[c->n++];
    memset(m, 0, sizeof *m);
    return m;
}

static int role_from_name(const char *s, chat_role *r) {
    if (!strcmp(s, "user"))
        *r = CHAT_USER;
    else if (!strcmp(s, "assistant"))
        *r = CHAT_ASSISTANT;
    else if (!strcmp(s, "tool"))
        *r = CHAT_TOOL;
    else if (!strcmp(s, "system") || !strcmp(s, "developer"))
        *r = CHAT_SYSTEM;
    else
        return -1;
    return 0;
}

nemo_status nemo_chat_add(nemo_chat *c, const char *role, const char *text, size_t len,
                          nemo_error *err) {
    chat_role r;
    if (!role || role_from_name(role, &r) || r == CHAT_TOOL)
        return nemo_fail(err, NEMO_ERR_ARG, "chat: role '%s' is not system, user or assistant",
                         role ? role : "(null)");
    chat_msg *m = push_msg(c);
    if (!m || text_set(&m->text, text ? text : "", text ? len : 0)) {
        if (m) c->n--;
        return nemo_fail(err, NEMO_ERR_NOMEM, "chat: out of memory");
    }
    m->role = r;
    m->truthy = m->text.n > 0;
    return NEMO_OK;
}

/* ---- parsing */

#define BAD(...) nemo_fail(err, NEMO_ERR_ARG, __VA_ARGS__)
#define NOMEM()  nemo_fail(err, NEMO_ERR_NOMEM, "chat: out of memory")

/* content: a string, a list of {"type": "text", "text": ...} chunks, or null where allowed.
 * Chunk texts are joined with "\n\n", skipping empty ones (mistral-common's aggregation). */
static nemo_status parse_content(const json_t *v, int allow_null, int idx, chat_msg *m,
                                 nemo_error *err) {
    const char *role = chat_role_name(m->role);
    if (!v || json_is_null(v)) {
        if (!allow_null)
            return BAD("messages[%d] (%s): content must be a string or a list of chunks", idx,
                       role);
        return NEMO_OK;
    }
    if (json_is_string(v)) {
        if (text_set(&m->text, json_string_value(v), json_string_length(v))) return NOMEM();
        m->truthy = m->text.n > 0;
        return NEMO_OK;
    }
    if (!json_is_array(v))
        return BAD("messages[%d] (%s): content must be a string or a list of chunks", idx, role);
    m->truthy = json_array_size(v) > 0;
    chat_buf b = {0};
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *ch = json_array_get(v, i);
        const char *type = json_string_value(json_object_get(ch, "type"));
        if (!json_is_object(ch) || !type) {
            chat_buf_free(&b);
            return BAD("messages[%d] (%s): content chunk %zu has no type field", idx, role, i);
        }
        if (strcmp(type, "text")) {
            chat_buf_free(&b);
            int known = !strcmp(type, "image_url") || !strcmp(type, "image") ||
                        !strcmp(type, "input_audio") || !strcmp(type, "audio_url") ||
                        !strcmp(type, "thinking");
            if (known)
                return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                                 "messages[%d] (%s): '%s' content is not supported by the v3 "
                                 "text-only format of Mistral NeMo",
                                 idx, role, type);
            return BAD("messages[%d] (%s): unknown content chunk type '%s'", idx, role, type);
        }
        const json_t *t = json_object_get(ch, "text");
        if (!json_is_string(t)) {
            chat_buf_free(&b);
            return BAD("messages[%d] (%s): text chunk %zu needs a string 'text'", idx, role, i);
        }
        if (json_string_length(t) == 0) continue;
        if (b.n) chat_buf_put(&b, "\n\n", 2);
        chat_buf_put(&b, json_string_value(t), json_string_length(t));
    }
    if (!b.p) chat_buf_put(&b, "", 0);
    m->text.n = b.n;
    m->text.p = chat_buf_take(&b);
    return m->text.p ? NEMO_OK : NOMEM();
}

static nemo_status parse_call(const json_t *v, int idx, size_t k, chat_call *c, nemo_error *err) {
    if (!json_is_object(v)) return BAD("messages[%d].tool_calls[%zu] must be an object", idx, k);
    const json_t *id = json_object_get(v, "id");
    const json_t *type = json_object_get(v, "type");
    const json_t *fn = json_object_get(v, "function");
    if (id && !json_is_string(id))
        return BAD("messages[%d].tool_calls[%zu].id must be a string", idx, k);
    if (type && (!json_is_string(type) || strcmp(json_string_value(type), "function")))
        return BAD("messages[%d].tool_calls[%zu].type must be 'function'", idx, k);
    if (!json_is_object(fn))
        return BAD("messages[%d].tool_calls[%zu] needs a 'function' object", idx, k);
    const json_t *name = json_object_get(fn, "name");
    if (!json_is_string(name))
        return BAD("messages[%d].tool_calls[%zu].function.name must be a string", idx, k);
    const json_t *args = json_object_get(fn, "arguments");
    if (!args) return BAD("messages[%d].tool_calls[%zu].function.arguments is required", idx, k);
    if (!json_is_null(args) && !json_is_string(args) && !json_is_object(args))
        return BAD("messages[%d].tool_calls[%zu].function.arguments must be a string or an "
                   "object",
                   idx, k);
    if (id ? text_set(&c->id, json_string_value(id), json_string_length(id))
           : text_set(&c->id, "null", 4))
        return NOMEM();
    if (text_set(&c->name, json_string_value(name), json_string_length(name))) return NOMEM();
    if (json_is_object(args))
        c->args_value = json_deep_copy(args);
    else if (json_is_string(args) &&
             text_set(&c->args_text, json_string_value(args), json_string_length(args)))
        return NOMEM();
    if (json_is_object(args) && !c->args_value) return NOMEM();
    return NEMO_OK;
}

static nemo_status parse_message(const json_t *v, int idx, chat_msg *m, nemo_error *err) {
    if (!json_is_object(v)) return BAD("messages[%d] must be an object", idx);
    const char *role = json_string_value(json_object_get(v, "role"));
    if (!role || role_from_name(role, &m->role))
        return BAD("messages[%d]: unknown message role: %s", idx, role ? role : "(none)");
    const json_t *content = json_object_get(v, "content");
    if (m->role != CHAT_ASSISTANT && !content)
        return BAD("messages[%d] (%s): 'content' is required", idx, role);
    nemo_status st = parse_content(content, m->role == CHAT_ASSISTANT, idx, m, err);
    if (st) return st;
    if (m->role == CHAT_ASSISTANT) {
        const json_t *r1 = json_object_get(v, "reasoning");
        const json_t *r2 = json_object_get(v, "reasoning_content");
        if ((r1 && !json_is_null(r1)) || (r2 && !json_is_null(r2)))
            return BAD("messages[%d] (assistant): reasoning content is not supported by the v3 "
                       "format",
                       idx);
        const json_t *calls = json_object_get(v, "tool_calls");
        if (calls && !json_is_null(calls)) {
            if (!json_is_array(calls)) return BAD("messages[%d]: tool_calls must be a list", idx);
            m->has_calls = 1;
            size_t n = json_array_size(calls);
            m->calls = calloc(n ? n : 1, sizeof *m->calls);
            if (!m->calls) return NOMEM();
            for (size_t k = 0; k < n; k++) {
                m->n_calls++;
                st = parse_call(json_array_get(calls, k), idx, k, &m->calls[k], err);
                if (st) return st;
            }
        }
    } else if (m->role == CHAT_TOOL) {
        const json_t *id = json_object_get(v, "tool_call_id");
        if (!id) return BAD("messages[%d] (tool): 'tool_call_id' is required", idx);
        if (!json_is_null(id) && !json_is_string(id))
            return BAD("messages[%d] (tool): tool_call_id must be a string", idx);
        if (json_is_string(id) &&
            text_set(&m->call_id, json_string_value(id), json_string_length(id)))
            return NOMEM();
        const json_t *name = json_object_get(v, "name");
        if (name && !json_is_null(name) && !json_is_string(name))
            return BAD("messages[%d] (tool): name must be a string", idx);
        if (json_is_string(name) &&
            text_set(&m->name, json_string_value(name), json_string_length(name)))
            return NOMEM();
    }
    return NEMO_OK;
}

/* One OpenAI tool into mistral-common's normalised Tool: {"type": "function", "function":
 * {"name", "description" ("" by default), "parameters" ({} by default)}}; `strict` dropped. */
static nemo_status parse_tool(const json_t *v, size_t k, json_t *list, nemo_error *err) {
    if (!json_is_object(v)) return BAD("tools[%zu] must be an object", k);
    const json_t *type = json_object_get(v, "type");
    if (type && (!json_is_string(type) || strcmp(json_string_value(type), "function")))
        return BAD("tools[%zu].type must be 'function'", k);
    const json_t *fn = json_object_get(v, "function");
    if (!json_is_object(fn)) return BAD("tools[%zu] needs a 'function' object", k);
    const json_t *name = json_object_get(fn, "name");
    const json_t *desc = json_object_get(fn, "description");
    const json_t *params = json_object_get(fn, "parameters");
    const json_t *strict = json_object_get(fn, "strict");
    if (!json_is_string(name)) return BAD("tools[%zu].function.name must be a string", k);
    if (desc && !json_is_null(desc) && !json_is_string(desc))
        return BAD("tools[%zu].function.description must be a string", k);
    if (params && !json_is_null(params) && !json_is_object(params))
        return BAD("tools[%zu].function.parameters must be an object", k);
    if (strict && !json_is_null(strict) && !json_is_boolean(strict))
        return BAD("tools[%zu].function.strict must be a boolean", k);
    json_t *f = json_object();
    json_t *t = json_object();
    if (!f || !t || json_object_set_new(t, "type", json_string("function")) ||
        json_object_set_new(t, "function", f)) {
        json_decref(t);
        if (!t) json_decref(f);
        return NOMEM();
    }
    json_t *d = json_is_string(desc) ? json_deep_copy(desc) : json_string("");
    json_t *p = json_is_object(params) ? json_deep_copy(params) : json_object();
    if (json_object_set_new(f, "name", json_deep_copy(name)) ||
        json_object_set_new(f, "description", d) || json_object_set_new(f, "parameters", p) ||
        json_array_append_new(list, t)) {
        json_decref(t);
        return NOMEM();
    }
    return NEMO_OK;
}

static nemo_status parse_root(const json_t *root, nemo_chat *c, nemo_error *err) {
    if (!json_is_object(root)) return BAD("chat request must be a JSON object");
    const json_t *msgs = json_object_get(root, "messages");
    if (!msgs) return BAD("chat request has no 'messages'");
    if (!json_is_array(msgs)) return BAD("'messages' must be a list");
    for (size_t i = 0; i < json_array_size(msgs); i++) {
        chat_msg *m = push_msg(c);
        if (!m) return NOMEM();
        nemo_status st = parse_message(json_array_get(msgs, i), (int)i, m, err);
        if (st) return st;
    }
    const json_t *cont = json_object_get(root, "continue_final_message");
    if (cont && !json_is_boolean(cont))
        return BAD("'continue_final_message' must be true or false");
    if (json_is_true(cont)) {
        if (c->n == 0 || c->msgs[c->n - 1].role != CHAT_ASSISTANT)
            return BAD("continue_final_message=True requires final message to be an assistant.");
        c->msgs[c->n - 1].prefix = 1;
    }
    const json_t *tools = json_object_get(root, "tools");
    if (tools && !json_is_null(tools)) {
        if (!json_is_array(tools)) return BAD("'tools' must be a list");
        c->tools = json_array();
        if (!c->tools) return NOMEM();
        for (size_t k = 0; k < json_array_size(tools); k++) {
            nemo_status st = parse_tool(json_array_get(tools, k), k, c->tools, err);
            if (st) return st;
        }
    }
    return NEMO_OK;
}

nemo_status nemo_chat_parse(const char *json, size_t len, nemo_chat **out, nemo_error *err) {
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_ALLOW_NUL, &je);
    if (!root) {
        if (json_error_code(&je) == json_error_numeric_overflow)
            return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                             "chat request: line %d column %d: %s (numbers beyond 64-bit "
                             "integers or doubles are not supported)",
                             je.line, je.column, je.text);
        return BAD("chat request is not valid JSON: line %d column %d: %s", je.line, je.column,
                   je.text);
    }
    nemo_chat *c;
    nemo_status st = nemo_chat_create(&c, err);
    if (!st) st = parse_root(root, c, err);
    json_decref(root);
    if (!st) st = chat_validate(c, err);
    if (st) {
        nemo_chat_free(c);
        return st;
    }
    *out = c;
    return NEMO_OK;
}
