/* chatml.c — the ChatML prompt format, for GGUF vocabularies whose chat template is ChatML
 * (contains "<|im_start|>"; SmolLM2's, Qwen's). Renders what transformers'
 * apply_chat_template(..., add_generation_prompt=True) renders with such a template:
 *
 *   [default system block]  when the template has one for conversations whose first message is
 *                           not a system message (SmolLM2: "<|im_start|>system\nYou are a
 *                           helpful AI assistant named SmolLM, ...<|im_end|>\n"), read from the
 *                           template's string literal
 *   <|im_start|>ROLE\nCONTENT<|im_end|>\n   for every message, as given (no merging)
 *   <|im_start|>assistant\n                 the generation prompt
 *
 * A continued (prefix) final assistant message ends right after its content instead. The
 * markers are the control tokens; the text between two markers is encoded as one piece, as
 * plain text (a message spelling "<|im_end|>" does not close it). Tools, tool messages and
 * tool calls are NEMO_ERR_UNSUPPORTED; so is a template that does not render messages the
 * ChatML way (the error names its first line). */
#include "chat/chat.h"

#include <stdlib.h>

typedef struct cm {
    const nemo_tokenizer *tok;
    int32_t im_start, im_end;
    int32_t *ids;
    size_t n, cap;
    chat_buf text; /* text since the last marker */
    nemo_error *err;
} cm;

static nemo_status push_id(cm *c, int32_t id) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        int32_t *p = realloc(c->ids, cap * sizeof *p);
        if (!p) return nemo_fail(c->err, NEMO_ERR_NOMEM, "chat: out of memory");
        c->ids = p;
        c->cap = cap;
    }
    c->ids[c->n++] = id;
    return NEMO_OK;
}

/* Encodes the pending text as one piece. */
static nemo_status flush(cm *c) {
    if (c->text.oom) return nemo_fail(c->err, NEMO_ERR_NOMEM, "chat: out of memory");
    if (!c->text.n) return NEMO_OK;
    for (;;) {
        size_t got = 0;
        nemo_status st =
            nemo_tokenizer_encode(c->tok, c->text.p, c->text.n, 0, 0, c->ids ? c->ids + c->n : NULL,
                                  c->cap - c->n, &got, c->err);
        if (st == NEMO_OK) {
            c->n += got;
            break;
        }
        if (st != NEMO_ERR_FULL) return st;
        size_t cap = c->cap ? c->cap : 256;
        while (cap < c->n + got) cap *= 2;
        int32_t *p = realloc(c->ids, cap * sizeof *p);
        if (!p) return nemo_fail(c->err, NEMO_ERR_NOMEM, "chat: out of memory");
        c->ids = p;
        c->cap = cap;
    }
    c->text.n = 0;
    return NEMO_OK;
}

static nemo_status marker(cm *c, int32_t id) {
    nemo_status st = flush(c);
    return st ? st : push_id(c, id);
}

/* Template text (a literal of the template): markers become their ids, the rest pending text. */
static nemo_status literal(cm *c, const char *s, size_t n) {
    static const char START[] = "<|im_start|>", END[] = "<|im_end|>";
    while (n) {
        size_t k = 0;
        while (k < n && !(n - k >= sizeof START - 1 && !memcmp(s + k, START, sizeof START - 1)) &&
               !(n - k >= sizeof END - 1 && !memcmp(s + k, END, sizeof END - 1)))
            k++;
        chat_buf_put(&c->text, s, k);
        s += k;
        n -= k;
        if (!n) break;
        int is_start = n >= sizeof START - 1 && !memcmp(s, START, sizeof START - 1);
        size_t ml = is_start ? sizeof START - 1 : sizeof END - 1;
        nemo_status st = marker(c, is_start ? c->im_start : c->im_end);
        if (st) return st;
        s += ml;
        n -= ml;
    }
    return NEMO_OK;
}

static const char *find_str(const char *h, const char *nd) {
    return strstr(h, nd);
}

/* The default system block of the template, unescaped into *out (malloc'd), or NULL when the
 * template has none. Looks for the SmolLM2 form:
 *   {% if loop.first and messages[0]['role'] != 'system' %}{{ 'LITERAL' }}{% endif %} */
static nemo_status default_system(const char *tpl, char **out, size_t *len, nemo_error *err) {
    *out = NULL;
    *len = 0;
    const char *cond = find_str(tpl, "messages[0]['role'] != 'system'");
    if (!cond) return NEMO_OK;
    const char *p = find_str(cond, "{{");
    if (!p) return NEMO_OK;
    p += 2;
    while (*p == ' ' || *p == '-') p++;
    char q = *p;
    if (q != '\'' && q != '"') return NEMO_OK;
    p++;
    size_t cap = strlen(p) + 1, n = 0;
    char *o = malloc(cap);
    if (!o) return nemo_fail(err, NEMO_ERR_NOMEM, "chat: out of memory");
    for (; *p && *p != q; p++) {
        char ch = *p;
        if (ch == '\\' && p[1]) { /* Jinja (Python) string escapes */
            p++;
            ch = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p == 'r' ? '\r' : *p;
        }
        o[n++] = ch;
    }
    if (*p != q) {
        free(o);
        return NEMO_OK;
    }
    o[n] = 0;
    *out = o;
    *len = n;
    return NEMO_OK;
}

static nemo_status unsupported_template(const char *tpl, nemo_error *err) {
    size_t k = strcspn(tpl, "\n");
    return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                     "chat: the vocabulary's chat template is not one nemo renders (supported: "
                     "Mistral instruct, ChatML); its first line: %.*s",
                     (int)(k < 160 ? k : 160), tpl);
}

nemo_status chat_encode_chatml(const struct nemo_chat *ch, const nemo_tokenizer *t, const char *tpl,
                               int32_t **ids, size_t *n_ids, nemo_error *err) {
    if (!strstr(tpl, "<|im_start|>") || !strstr(tpl, "<|im_end|>") ||
        !strstr(tpl, "message['content']"))
        return unsupported_template(tpl, err);
    if (ch->tools)
        return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                         "chat: tools are not supported with a ChatML chat template");
    for (int i = 0; i < ch->n; i++) {
        const chat_msg *m = &ch->msgs[i];
        if (m->role == CHAT_TOOL || m->n_calls > 0)
            return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                             "chat: messages[%d]: tool calls and tool results are not supported "
                             "with a ChatML chat template",
                             i);
        if (!m->text.p)
            return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                             "chat: messages[%d]: null content is not supported with a ChatML "
                             "chat template",
                             i);
    }
    cm c = {.tok = t, .err = err};
    c.im_start = nemo_tokenizer_special_id(t, "<|im_start|>");
    c.im_end = nemo_tokenizer_special_id(t, "<|im_end|>");
    if (c.im_start < 0 || c.im_end < 0)
        return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                         "chat: the template is ChatML but the vocabulary has no %s control token",
                         c.im_start < 0 ? "<|im_start|>" : "<|im_end|>");
    char *sys;
    size_t sys_len;
    nemo_status st = default_system(tpl, &sys, &sys_len, err);
    if (st) return st;
    if (sys && ch->n > 0 && ch->msgs[0].role != CHAT_SYSTEM) st = literal(&c, sys, sys_len);
    free(sys);
    int open_end = 0;
    for (int i = 0; i < ch->n && !st; i++) {
        const chat_msg *m = &ch->msgs[i];
        const char *role = chat_role_name(m->role);
        if ((st = marker(&c, c.im_start))) break;
        chat_buf_puts(&c.text, role);
        chat_buf_put(&c.text, "\n", 1);
        chat_buf_put(&c.text, m->text.p, m->text.n);
        if (i == ch->n - 1 && m->role == CHAT_ASSISTANT && m->prefix) {
            open_end = 1;
            break;
        }
        if ((st = marker(&c, c.im_end))) break;
        chat_buf_put(&c.text, "\n", 1);
    }
    if (!st && !open_end) st = literal(&c, "<|im_start|>assistant\n", 22);
    if (!st) st = flush(&c);
    chat_buf_free(&c.text);
    if (st) {
        free(c.ids);
        return st;
    }
    *ids = c.ids;
    *n_ids = c.n;
    return NEMO_OK;
}
