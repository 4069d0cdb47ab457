/* encode.c — a validated conversation into token ids, as mistral-common's
 * InstructRequestNormalizer + InstructTokenizerV3 do for Tekken (no spaces around control
 * tokens):
 *   - system messages are joined with "\n\n" and prepended to the LAST user message;
 *   - consecutive messages of one role are merged ("\n\n"); a system message breaks a run;
 *   - an empty user message is inserted when the conversation does not start with one;
 *   - [AVAILABLE_TOOLS] json [/AVAILABLE_TOOLS] goes right before the last user [INST];
 *   - assistant text is rstrip(" ")-ed and closed by EOS, tool calls are [TOOL_CALLS] json EOS,
 *     a continued (prefix) message gets no EOS; tool results are [TOOL_RESULTS] json
 *     [/TOOL_RESULTS]; tool calls and results before the last user message are kept (v3).
 * Data in: nemo_chat + tokenizer; out: malloc'd ids. */
#include "chat/chat.h"

#include <stdlib.h>

typedef struct ids_vec {
    int32_t *p;
    size_t n, cap;
} ids_vec;

typedef struct enc_ctx {
    const nemo_tokenizer *tok;
    ids_vec v;
    int32_t inst, inst_end, tools, tools_end, calls, results, results_end, bos, eos;
    nemo_error *err;
} enc_ctx;

static int vec_reserve(ids_vec *v, size_t extra) {
    if (v->n + extra <= v->cap) return 0;
    size_t cap = v->cap ? v->cap : 256;
    while (cap < v->n + extra) cap *= 2;
    int32_t *p = realloc(v->p, cap * sizeof *p);
    if (!p) return -1;
    v->p = p;
    v->cap = cap;
    return 0;
}

static nemo_status put_id(enc_ctx *e, int32_t id) {
    if (vec_reserve(&e->v, 1)) return nemo_fail(e->err, NEMO_ERR_NOMEM, "chat: out of memory");
    e->v.p[e->v.n++] = id;
    return NEMO_OK;
}

/* Text is always encoded as one piece: encoding parts separately would change the result
 * where the pre-tokenizer merges across the join (e.g. "prompt.\n\n"). */
static nemo_status put_text(enc_ctx *e, const char *s, size_t n) {
    if (n == 0) return NEMO_OK;
    for (;;) {
        size_t room = e->v.cap - e->v.n, got = 0;
        nemo_status st = nemo_tokenizer_encode(e->tok, s, n, 0, 0, e->v.p ? e->v.p + e->v.n : NULL,
                                               room, &got, e->err);
        if (st == NEMO_OK) {
            e->v.n += got;
            return NEMO_OK;
        }
        if (st != NEMO_ERR_FULL) return st;
        if (vec_reserve(&e->v, got))
            return nemo_fail(e->err, NEMO_ERR_NOMEM, "chat: out of memory");
    }
}

static nemo_status put_buf(enc_ctx *e, chat_buf *b) {
    nemo_status st =
        b->oom ? nemo_fail(e->err, NEMO_ERR_NOMEM, "chat: out of memory") : put_text(e, b->p, b->n);
    chat_buf_free(b);
    return st;
}

/* A JSON payload that mistral-common json.loads-es when it can, else embeds as a string. */
static nemo_status put_json_or_string(chat_buf *b, const char *s, size_t n, const char *what,
                                      nemo_error *err) {
    if (!s || n == 0) { /* None or "" is normalised to "{}" */
        chat_buf_puts(b, "{}");
        return NEMO_OK;
    }
    json_t *v;
    switch (pyjson_loads(s, n, &v)) {
    case PYJSON_OK:
        pyjson_dump(b, v);
        json_decref(v);
        return NEMO_OK;
    case PYJSON_NOT_JSON: pyjson_put_string(b, s, n); return NEMO_OK;
    case PYJSON_UNSUPPORTED: break;
    }
    return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                     "%s holds a number beyond 64-bit integers or doubles, which this "
                     "implementation cannot reproduce exactly",
                     what);
}

/* A merged message of the normalised request. */
typedef struct norm_msg {
    chat_role role;
    chat_buf text;               /* user/assistant: merged text; tool: its content */
    const chat_msg **calls_from; /* assistant: source messages holding tool calls */
    int n_calls_from;
    const chat_msg *tool; /* tool: the source message */
    int prefix;
} norm_msg;

static void join_text(chat_buf *b, const chat_msg *m) {
    if (!m->text.p || m->text.n == 0) return; /* skipped, as are None and "" in Python */
    if (b->n) chat_buf_put(b, "\n\n", 2);
    chat_buf_put(b, m->text.p, m->text.n);
}

static nemo_status encode_calls(enc_ctx *e, const norm_msg *nm) {
    chat_buf b = {0};
    int first = 1;
    chat_buf_put(&b, "[", 1);
    for (int s = 0; s < nm->n_calls_from; s++) {
        const chat_msg *m = nm->calls_from[s];
        for (int k = 0; k < m->n_calls; k++) {
            const chat_call *c = &m->calls[k];
            if (!first) chat_buf_put(&b, ", ", 2);
            first = 0;
            chat_buf_puts(&b, "{\"name\": ");
            pyjson_put_string(&b, c->name.p, c->name.n);
            chat_buf_puts(&b, ", \"arguments\": ");
            nemo_status st = NEMO_OK;
            if (c->args_value)
                pyjson_dump(&b, c->args_value);
            else
                st = put_json_or_string(&b, c->args_text.p, c->args_text.n, "tool call arguments",
                                        e->err);
            if (st) {
                chat_buf_free(&b);
                return st;
            }
            if (c->id.n && !(c->id.n == 4 && !memcmp(c->id.p, "null", 4))) {
                chat_buf_puts(&b, ", \"id\": ");
                pyjson_put_string(&b, c->id.p, c->id.n);
            }
            chat_buf_put(&b, "}", 1);
        }
    }
    chat_buf_put(&b, "]", 1);
    nemo_status st = put_id(e, e->calls);
    return st ? (chat_buf_free(&b), st) : put_buf(e, &b);
}

static nemo_status encode_msg(enc_ctx *e, const norm_msg *nm, int is_last_user, const chat_buf *sys,
                              const json_t *tools) {
    nemo_status st = NEMO_OK;
    chat_buf b = {0};
    switch (nm->role) {
    case CHAT_USER:
        if (is_last_user && json_array_size(tools) > 0) {
            pyjson_dump(&b, tools);
            if ((st = put_id(e, e->tools)) || (st = put_buf(e, &b)) ||
                (st = put_id(e, e->tools_end)))
                return st;
        }
        if (is_last_user && sys->n) {
            chat_buf_put(&b, sys->p, sys->n);
            chat_buf_put(&b, "\n\n", 2);
        }
        chat_buf_put(&b, nm->text.p, nm->text.n);
        if ((st = put_id(e, e->inst)) || (st = put_buf(e, &b))) return st;
        return put_id(e, e->inst_end);
    case CHAT_TOOL:
        chat_buf_puts(&b, "{\"content\": ");
        st = put_json_or_string(&b, nm->tool->text.p, nm->tool->text.n, "tool result", e->err);
        if (st) {
            chat_buf_free(&b);
            return st;
        }
        chat_buf_puts(&b, ", \"call_id\": ");
        pyjson_put_string(&b, nm->tool->call_id.p, nm->tool->call_id.n);
        chat_buf_put(&b, "}", 1);
        if ((st = put_id(e, e->results)) || (st = put_buf(e, &b))) return st;
        return put_id(e, e->results_end);
    case CHAT_ASSISTANT: {
        int has_calls = nm->n_calls_from > 0;
        if (has_calls && nm->text.n)
            return nemo_fail(e->err, NEMO_ERR_ARG,
                             "Cannot have tool calls and content defined in the same assistant "
                             "message (after merging consecutive assistant messages)");
        if (has_calls) {
            st = encode_calls(e, nm);
        } else if (nm->text.n) {
            size_t n = nm->text.n;
            while (n && nm->text.p[n - 1] == ' ') n--;
            st = put_text(e, nm->text.p, n);
        } else {
            return nemo_fail(e->err, NEMO_ERR_ARG,
                             "Invalid assistant message: it has neither text nor tool calls");
        }
        if (!st && !nm->prefix) st = put_id(e, e->eos);
        return st;
    }
    case CHAT_SYSTEM: break;
    }
    return NEMO_OK;
}

static nemo_status lookup_specials(enc_ctx *e) {
    struct {
        int32_t *dst;
        const char *name;
    } sp[] = {{&e->inst, "[INST]"},
              {&e->inst_end, "[/INST]"},
              {&e->tools, "[AVAILABLE_TOOLS]"},
              {&e->tools_end, "[/AVAILABLE_TOOLS]"},
              {&e->calls, "[TOOL_CALLS]"},
              {&e->results, "[TOOL_RESULTS]"},
              {&e->results_end, "[/TOOL_RESULTS]"}};
    for (size_t i = 0; i < sizeof sp / sizeof *sp; i++) {
        *sp[i].dst = nemo_tokenizer_special_id(e->tok, sp[i].name);
        if (*sp[i].dst < 0)
            return nemo_fail(e->err, NEMO_ERR_UNSUPPORTED,
                             "chat: the tokenizer has no %s control token (not an instruct "
                             "tokenizer?)",
                             sp[i].name);
    }
    e->bos = nemo_tokenizer_bos_id(e->tok);
    e->eos = nemo_tokenizer_eos_id(e->tok);
    if (e->bos < 0 || e->eos < 0)
        return nemo_fail(e->err, NEMO_ERR_UNSUPPORTED, "chat: the tokenizer has no BOS/EOS");
    return NEMO_OK;
}

nemo_status nemo_chat_encode(const nemo_chat *c, const nemo_tokenizer *t, int32_t **ids,
                             size_t *n_ids, nemo_error *err) {
    *ids = NULL;
    *n_ids = 0;
    nemo_status st = chat_validate(c, err);
    if (st) return st;
    /* Mistral's format needs [INST]; other vocabularies say what they want in their template */
    const char *tpl = nemo_tokenizer_chat_template(t);
    if (tpl && nemo_tokenizer_special_id(t, "[INST]") < 0)
        return chat_encode_chatml(c, t, tpl, ids, n_ids, err);
    enc_ctx e = {.tok = t, .err = err};
    if ((st = lookup_specials(&e))) return st;

    /* normalise: system prompt, merged runs, leading empty user message */
    chat_buf sys = {0};
    norm_msg *nm = calloc((size_t)c->n + 1, sizeof *nm);
    const chat_msg **callsrc = calloc((size_t)c->n + 1, sizeof *callsrc);
    if (!nm || !callsrc) {
        free(nm);
        free(callsrc);
        return nemo_fail(err, NEMO_ERR_NOMEM, "chat: out of memory");
    }
    int k = 0, n_sys = 0;
    nm[k++].role = CHAT_USER; /* placeholder; dropped below if the first real one is a user */
    for (int i = 0; i < c->n; i++) {
        const chat_msg *m = &c->msgs[i];
        if (m->role == CHAT_SYSTEM) {
            if (m->truthy) { /* Python: `if message.content`, then the aggregated text */
                if (n_sys++) chat_buf_put(&sys, "\n\n", 2);
                chat_buf_put(&sys, m->text.p, m->text.n);
            }
            continue;
        }
        int same_run = i > 0 && c->msgs[i - 1].role == m->role && m->role != CHAT_TOOL;
        if (!same_run) {
            nm[k].role = m->role;
            if (m->role == CHAT_TOOL) nm[k].tool = m;
            if (m->role == CHAT_ASSISTANT) nm[k].calls_from = callsrc + i;
            k++;
        }
        norm_msg *cur = &nm[k - 1];
        if (m->role == CHAT_TOOL) continue;
        join_text(&cur->text, m);
        if (m->role == CHAT_ASSISTANT) {
            if (m->n_calls > 0) cur->calls_from[cur->n_calls_from++] = m;
            cur->prefix |= m->prefix;
        }
    }
    int start = (k > 1 && nm[1].role == CHAT_USER) ? 1 : 0;
    int last_user = -1;
    for (int i = start; i < k; i++)
        if (nm[i].role == CHAT_USER) last_user = i;

    st = put_id(&e, e.bos);
    for (int i = start; !st && i < k; i++)
        st = encode_msg(&e, &nm[i], i == last_user, &sys, c->tools);
    for (int i = 0; i < k; i++) chat_buf_free(&nm[i].text);
    int oom = sys.oom;
    chat_buf_free(&sys);
    free(nm);
    free(callsrc);
    if (!st && oom) st = nemo_fail(err, NEMO_ERR_NOMEM, "chat: out of memory");
    if (st) {
        free(e.v.p);
        return st;
    }
    *ids = e.v.p;
    *n_ids = e.v.n;
    return NEMO_OK;
}
