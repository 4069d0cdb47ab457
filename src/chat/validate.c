/* validate.c — mistral-common's MistralRequestValidatorV3 in its default ("test") mode, run on
 * the messages as given (before merging): conversation structure, role order, tool-call and
 * tool-result pairing by count, assistant content rules, ids and function names, and the
 * draft-7 meta-schema check of tool parameters. Messages follow mistral-common's so that a
 * rejected request reads the same as with the Python reference. */
#include "chat/chat.h"

#include <math.h>

#define BAD(...) nemo_fail(err, NEMO_ERR_ARG, __VA_ARGS__)

int chat_match_re(const chat_text *s, int min, int max, const char *extra_ok) {
    if (!s->p) return 0;
    size_t n = s->n;
    if (n && s->p[n - 1] == '\n') n--; /* Python's `$` also matches before a final newline */
    if (n < (size_t)min || n > (size_t)max) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s->p[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 (c && strchr(extra_ok, c));
        if (!ok) return 0;
    }
    return 1;
}

static int is_name(const chat_text *s) {
    return chat_match_re(s, 1, 64, "_-");
}
static int is_id(const chat_text *s) {
    return chat_match_re(s, 9, 9, "");
}

/* ---- JSON Schema draft 7 meta-schema (what jsonschema's Draft7Validator.check_schema
 * enforces, except that "pattern"/"format" strings are not compiled as regexes) */

static nemo_status schema_at(const json_t *s, const char *path, nemo_error *err);

static int is_number(const json_t *v) {
    return json_is_integer(v) || json_is_real(v);
}
static int is_nonneg_int(const json_t *v) {
    if (json_is_integer(v)) return json_integer_value(v) >= 0;
    return json_is_real(v) && json_real_value(v) >= 0 &&
           floor(json_real_value(v)) == json_real_value(v);
}
static int is_simple_type(const json_t *v) {
    static const char *types[] = {"array",  "boolean", "integer", "null",
                                  "number", "object",  "string"};
    const char *s = json_string_value(v);
    if (!s) return 0;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (!strcmp(s, types[i])) return 1;
    return 0;
}
static int unique_strings(const json_t *a, int (*ok)(const json_t *)) {
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *x = json_array_get(a, i);
        if (!json_is_string(x) || (ok && !ok(x))) return 0;
        for (size_t j = 0; j < i; j++)
            if (json_equal((json_t *)x, json_array_get(a, j))) return 0;
    }
    return 1;
}

static nemo_status schema_array(const json_t *a, const char *path, const char *key,
                                nemo_error *err) {
    char sub[512];
    if (!json_is_array(a) || json_array_size(a) == 0)
        return BAD("%s/%s must be a non-empty array of schemas", path, key);
    for (size_t i = 0; i < json_array_size(a); i++) {
        snprintf(sub, sizeof sub, "%s/%s/%zu", path, key, i);
        nemo_status st = schema_at(json_array_get(a, i), sub, err);
        if (st) return st;
    }
    return NEMO_OK;
}

static nemo_status schema_map(const json_t *o, const char *path, const char *key, nemo_error *err) {
    char sub[512];
    const char *k;
    json_t *v;
    if (!json_is_object(o)) return BAD("%s/%s must be an object", path, key);
    json_object_foreach((json_t *)o, k, v) {
        snprintf(sub, sizeof sub, "%s/%s/%s", path, key, k);
        nemo_status st = schema_at(v, sub, err);
        if (st) return st;
    }
    return NEMO_OK;
}

static nemo_status schema_at(const json_t *s, const char *path, nemo_error *err) {
    char sub[512];
    if (json_is_boolean(s)) return NEMO_OK;
    if (!json_is_object(s)) return BAD("%s: a schema must be an object or a boolean", path);
    static const char *strs[] = {
        "$id",         "$schema", "$ref",   "$comment",         "title",
        "description", "pattern", "format", "contentMediaType", "contentEncoding"};
    static const char *nums[] = {"maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"};
    static const char *nonneg[] = {"maxLength", "minLength",     "maxItems",
                                   "minItems",  "maxProperties", "minProperties"};
    static const char *subs[] = {"additionalItems",
                                 "contains",
                                 "additionalProperties",
                                 "propertyNames",
                                 "if",
                                 "then",
                                 "else",
                                 "not"};
    static const char *arrays[] = {"allOf", "anyOf", "oneOf"};
    static const char *maps[] = {"definitions", "properties", "patternProperties"};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
        const json_t *v = json_object_get(s, strs[i]);
        if (v && !json_is_string(v)) return BAD("%s/%s must be a string", path, strs[i]);
    }
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        const json_t *v = json_object_get(s, nums[i]);
        if (v && !is_number(v)) return BAD("%s/%s must be a number", path, nums[i]);
    }
    for (size_t i = 0; i < sizeof nonneg / sizeof *nonneg; i++) {
        const json_t *v = json_object_get(s, nonneg[i]);
        if (v && !is_nonneg_int(v))
            return BAD("%s/%s must be a non-negative integer", path, nonneg[i]);
    }
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++) {
        const json_t *v = json_object_get(s, subs[i]);
        if (!v) continue;
        snprintf(sub, sizeof sub, "%s/%s", path, subs[i]);
        nemo_status st = schema_at(v, sub, err);
        if (st) return st;
    }
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++) {
        const json_t *v = json_object_get(s, arrays[i]);
        nemo_status st = v ? schema_array(v, path, arrays[i], err) : NEMO_OK;
        if (st) return st;
    }
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++) {
        const json_t *v = json_object_get(s, maps[i]);
        nemo_status st = v ? schema_map(v, path, maps[i], err) : NEMO_OK;
        if (st) return st;
    }
    const json_t *v;
    if ((v = json_object_get(s, "multipleOf")) &&
        (!is_number(v) ||
         (json_is_integer(v) ? json_integer_value(v) <= 0 : !(json_real_value(v) > 0))))
        return BAD("%s/multipleOf must be a number greater than 0", path);
    if ((v = json_object_get(s, "uniqueItems")) && !json_is_boolean(v))
        return BAD("%s/uniqueItems must be a boolean", path);
    if ((v = json_object_get(s, "readOnly")) && !json_is_boolean(v))
        return BAD("%s/readOnly must be a boolean", path);
    if ((v = json_object_get(s, "examples")) && !json_is_array(v))
        return BAD("%s/examples must be an array", path);
    if ((v = json_object_get(s, "enum")) && !json_is_array(v))
        return BAD("%s/enum must be an array", path);
    if ((v = json_object_get(s, "required")) && (!json_is_array(v) || !unique_strings(v, NULL)))
        return BAD("%s/required must be an array of unique strings", path);
    if ((v = json_object_get(s, "type"))) {
        int ok = json_is_string(v) ? is_simple_type(v)
                                   : json_is_array(v) && json_array_size(v) > 0 &&
                                         unique_strings(v, is_simple_type);
        if (!ok)
            return BAD("%s/type must be one of array, boolean, integer, null, number, object, "
                       "string (or a list of them)",
                       path);
    }
    if ((v = json_object_get(s, "items"))) {
        snprintf(sub, sizeof sub, "%s/items", path);
        nemo_status st =
            json_is_array(v) ? schema_array(v, path, "items", err) : schema_at(v, sub, err);
        if (st) return st;
    }
    if ((v = json_object_get(s, "dependencies"))) {
        if (!json_is_object(v)) return BAD("%s/dependencies must be an object", path);
        const char *k;
        json_t *d;
        json_object_foreach((json_t *)v, k, d) {
            snprintf(sub, sizeof sub, "%s/dependencies/%s", path, k);
            if (json_is_array(d)) {
                if (!unique_strings(d, NULL))
                    return BAD("%s must be a schema or an array of unique strings", sub);
            } else {
                nemo_status st = schema_at(d, sub, err);
                if (st) return st;
            }
        }
    }
    return NEMO_OK;
}

nemo_status chat_check_schema(const json_t *schema, const char *where, nemo_error *err) {
    nemo_status st = schema_at(schema, "parameters", err);
    return st ? nemo_fail_prefix(err, "Invalid tool schema in %s", where) : NEMO_OK;
}

/* ---- messages */

static nemo_status check_structure(const nemo_chat *c, nemo_error *err) {
    const chat_msg *m = c->msgs;
    int n = c->n;
    if (n == 0) return BAD("Conversation must have at least one message");
    if (n == 1 && m[0].role != CHAT_USER && m[0].role != CHAT_SYSTEM)
        return BAD("Conversation must start with a user message or system message");
    /* test mode: only a final assistant message without prefix is refused (a final system
     * message passes, as in mistral-common) */
    if (n > 1 && m[n - 1].role == CHAT_ASSISTANT && !m[n - 1].prefix)
        return BAD("Expected last role User or Tool (or Assistant with prefix) for serving but "
                   "got assistant");
    for (int i = 1; i < n; i++) {
        chat_role p = m[i - 1].role, r = m[i].role;
        /* system and user may not be followed by tool; assistant and tool not by system */
        int ok = (p == CHAT_SYSTEM || p == CHAT_USER) ? r != CHAT_TOOL : r != CHAT_SYSTEM;
        if (!ok)
            return BAD("messages[%d]: Unexpected role '%s' after role '%s'", i, chat_role_name(r),
                       chat_role_name(p));
    }
    /* Tool results are paired with calls by count only, and the first message is skipped
     * (mistral-common's loop starts counting at the second message). */
    long expected = 0;
    for (int i = 1; i < n; i++) {
        if (m[i].role == CHAT_TOOL) {
            expected--;
        } else if (m[i].role == CHAT_ASSISTANT) {
            if (expected != 0)
                return BAD("messages[%d]: Not the same number of function calls and responses", i);
            if (m[i].has_calls) expected = m[i].n_calls;
        }
    }
    return NEMO_OK;
}

static nemo_status check_message(const chat_msg *m, int i, int is_last, nemo_error *err) {
    (void)is_last; /* prefix is only ever set on the last message (continue_final_message) */
    switch (m->role) {
    case CHAT_ASSISTANT:
        if (m->truthy == (m->has_calls && m->n_calls > 0))
            return BAD("messages[%d]: Assistant message must have either content or tool_calls, "
                       "but not both.",
                       i);
        for (int k = 0; k < m->n_calls; k++) {
            const chat_call *c = &m->calls[k];
            if (c->id.n == 4 && !memcmp(c->id.p, "null", 4))
                return BAD("messages[%d].tool_calls[%d]: Tool call id 'null' is only allowed for "
                           "the last assistant message in finetuning mode (the call has no id)",
                           i, k);
            if (!is_id(&c->id))
                return BAD("messages[%d].tool_calls[%d]: Tool call id was %s but must be a-z, "
                           "A-Z, 0-9, with a length of 9.",
                           i, k, c->id.p);
            if (!is_name(&c->name))
                return BAD("messages[%d].tool_calls[%d]: Function name was %s but must be a-z, "
                           "A-Z, 0-9, or contain underscores and dashes, with a maximum length "
                           "of 64.",
                           i, k, c->name.p);
        }
        break;
    case CHAT_TOOL:
        if (m->name.p && !is_name(&m->name))
            return BAD("messages[%d]: Function name was %s but must be a-z, A-Z, 0-9, or contain "
                       "underscores and dashes, with a maximum length of 64.",
                       i, m->name.p);
        if (!m->call_id.p) return BAD("messages[%d]: Tool call id has to be defined.", i);
        if (!is_id(&m->call_id))
            return BAD("messages[%d]: Tool call id was %s but must be a-z, A-Z, 0-9, with a "
                       "length of 9.",
                       i, m->call_id.p);
        break;
    case CHAT_SYSTEM:
        if (!m->text.p) return BAD("messages[%d]: System prompt must have content", i);
        break;
    case CHAT_USER: break;
    }
    return NEMO_OK;
}

nemo_status chat_validate(const nemo_chat *c, nemo_error *err) {
    nemo_status st = check_structure(c, err);
    for (int i = 0; !st && i < c->n; i++) st = check_message(&c->msgs[i], i, i == c->n - 1, err);
    for (size_t k = 0; !st && k < json_array_size(c->tools); k++) {
        const json_t *f = json_object_get(json_array_get(c->tools, k), "function");
        const json_t *name = json_object_get(f, "name");
        char where[64];
        snprintf(where, sizeof where, "tools[%zu]", k);
        st = chat_check_schema(json_object_get(f, "parameters"), where, err);
        chat_text t = {(char *)json_string_value(name), json_string_length(name)};
        if (!st && !is_name(&t))
            st = BAD("tools[%zu]: Function name was %s but must be a-z, A-Z, 0-9, or contain "
                     "underscores and dashes, with a maximum length of 64.",
                     k, t.p);
    }
    return st;
}

nemo_status nemo_chat_validate(const nemo_chat *c, nemo_error *err) {
    return chat_validate(c, err);
}
