/* fuzz_request.c — libFuzzer target for `nemo serve`'s request handling without HTTP: a body
 * for /v1/chat/completions or /v1/completions becomes a job or an OpenAI error (server/api.c,
 * params.c), and the tool-call scanner that streams calls (server/toolscan.c). The first input
 * byte picks:
 *   bits 0-1 = 0..2: the rest is a request body (0 chat, 1 completions, 2 chat under the test
 *            reply flag); a job must satisfy the limits (prompt length, ids in the vocabulary,
 *            max_tokens), an error must be a 400/404 with a message;
 *   bits 0-1 = 3: the rest is model output after [TOOL_CALLS]; fed whole and in pieces the
 *            scanner must give the same calls, and where it read a complete call list that
 *            nemo_tool_calls_parse also accepts, the same names and arguments.
 * The tokenizer is $NEMO_TEKKEN when set (the real one; tests/run.sh sets it), else a tiny
 * Tekken with Mistral's control tokens. Build and run: scripts/fuzz.sh (which adds the server
 * sources this target names in its FUZZ_EXTRA line).
 * FUZZ_EXTRA: server/api.c server/params.c server/job.c server/sbuf.c server/toolscan.c */
#include "../../server/api.h"
#include "../../server/toolscan.h"
#include "tokenizer/tokenizer_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static nemo_tokenizer *tokenizer(void) {
    static nemo_tokenizer *tok;
    if (tok) return tok;
    nemo_error err;
    const char *real = getenv("NEMO_TEKKEN");
    if (real && *real && !nemo_tokenizer_open(real, &tok, &err)) return tok;
    /* the 256 bytes, v3: ids below 1000 are specials, named by the default list ([INST]...) */
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t cap = 1 << 15, n = 0;
    char *j = malloc(cap);
    n += (size_t)snprintf(j + n, cap - n, "{\"vocab\": [");
    for (int r = 0; r < 256; r++) {
        uint32_t w = (uint32_t)r << 16;
        n += (size_t)snprintf(j + n, cap - n, "%s{\"rank\": %d, \"token_bytes\": \"%c%c==\"}",
                              r ? "," : "", r, a[w >> 18], a[(w >> 12) & 63]);
    }
    static const char pat[] = /* Tekken's pattern: the only one loaded */
        "[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?[\\\\p{Lu}\\\\p{Lt}\\\\p{Lm}\\\\p{Lo}\\\\p{M}]*[\\\\p{Ll}"
        "\\\\p{Lm}\\\\p{Lo}\\\\p{M}]+|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?[\\\\p{Lu}\\\\p{Lt}\\\\p{Lm}"
        "\\\\p{Lo}\\\\p{M}]+[\\\\p{Ll}\\\\p{Lm}\\\\p{Lo}\\\\p{M}]*|\\\\p{N}| ?[^\\\\s\\\\p{L}"
        "\\\\p{N}]+[\\\\r\\\\n/]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+";
    n += (size_t)snprintf(j + n, cap - n,
                          "], \"config\": {\"pattern\": \"%s\", \"default_vocab_size\": 1256, "
                          "\"default_num_special_tokens\": 1000, \"version\": \"v3\"}}",
                          pat);
    tok = calloc(1, sizeof *tok);
    tok->kind = NEMO_TOKENIZER_TEKKEN;
    if (nemo_tekken_load(j, n, "fuzz.json", &tok->tekken, &err)) {
        fprintf(stderr, "fuzz: built-in tokenizer does not load: %s\n", err.msg);
        abort();
    }
    free(j);
    return tok;
}

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_request: %s\n", what);
        abort();
    }
}

static void request(int kind, const uint8_t *data, size_t size) {
    static const srv_config base = {.model_name = "m",
                                    .parallel = 2,
                                    .queue = 4,
                                    .ctx = 512,
                                    .batch = 64,
                                    .prefill_chunk = 64,
                                    .max_body = 1 << 20,
                                    .max_prompt = 300,
                                    .max_tokens = 100,
                                    .timeout_s = 10};
    srv_config cfg = base;
    if (kind == 2) cfg.debug_reply = "Hi.[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {}}]";
    const nemo_tokenizer *tok = tokenizer();
    api_ctx c = {&cfg, "m", tok, nemo_tokenizer_special_id(tok, "[TOOL_CALLS]"),
                 nemo_tokenizer_vocab_size(tok)};
    api_err e = {0};
    job *j = api_parse(&c, kind == 1 ? JOB_COMPLETION : JOB_CHAT, (const char *)data, size, &e);
    if (!j) {
        check(e.status == 400 || e.status == 404, "an error that is not 400/404");
        check(e.msg[0] != 0, "an error without a message");
        return;
    }
    check(j->n_prompt > 0 && j->n_prompt <= cfg.max_prompt, "prompt length out of limits");
    for (int i = 0; i < j->n_prompt; i++)
        check(j->prompt[i] >= 0 && j->prompt[i] < c.vocab_size, "prompt id out of the vocabulary");
    for (int i = 0; i < j->n_forced; i++)
        check(j->forced[i] >= 0 && j->forced[i] < c.vocab_size, "forced id out of the vocabulary");
    check(j->max_tokens >= 1 && j->max_tokens <= cfg.max_tokens &&
              j->n_prompt + j->max_tokens <= cfg.ctx,
          "max_tokens out of limits");
    check(j->sampler && j->stop && j->detok, "a job without sampler, stop or detok");
    check(!j->scan || (j->stream && j->tools), "a tool scanner outside a stream");
    job_release(j);
}

static int same_buf(const sbuf *a, const sbuf *b) {
    return a->len == b->len && (!a->len || !memcmp(a->p, b->p, a->len));
}

static void same_scan(const tool_scan *a, const tool_scan *b) {
    check(tscan_named(a) == tscan_named(b) && tscan_bad(a) == tscan_bad(b),
          "pieces change what the scanner reads");
    for (int i = 0; i < tscan_named(a); i++) {
        const tscan_call *x = tscan_call_at(a, i), *y = tscan_call_at(b, i);
        check(same_buf(&x->name, &y->name) && same_buf(&x->args, &y->args) && !strcmp(x->id, y->id),
              "pieces change a scanned call");
    }
}

static void scan(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    uint64_t r1 = 7, r2 = 7;
    tool_scan *whole = tscan_create(), *pieces = tscan_create();
    tscan_feed(whole, s, size, &r1);
    /* pieces of 1..8 bytes, lengths drawn from the text itself */
    for (size_t i = 0; i < size;) {
        size_t k = 1 + (size_t)(data[i] * 31u + i) % 8;
        if (k > size - i) k = size - i;
        tscan_feed(pieces, s + i, k, &r2);
        i += k;
    }
    same_scan(whole, pieces);
    nemo_tool_calls *tc = NULL;
    nemo_error err;
    uint64_t r3 = 7;
    if (nemo_tool_calls_parse("", 0, s, size, &r3, &tc, &err) == NEMO_OK && !tc->malformed &&
        !tscan_bad(whole) && tscan_done(whole)) {
        check(tscan_named(whole) == tc->n_calls,
              "the scanner and the parser count calls differently");
        for (int i = 0; i < tc->n_calls; i++) {
            const tscan_call *x = tscan_call_at(whole, i);
            check(!strcmp(x->name.p ? x->name.p : "", tc->calls[i].name), "names differ");
            const char *pa = tc->calls[i].arguments, *sa = x->args.p ? x->args.p : "";
            json_t *jp = json_loads(pa, JSON_DECODE_ANY, NULL);
            json_t *js = json_loads(sa, JSON_DECODE_ANY, NULL);
            /* the parser writes "{}" for missing or null arguments */
            int same = (jp && js && json_equal(jp, js)) || !strcmp(pa, sa) ||
                       (!strcmp(pa, "{}") && (!*sa || !strcmp(sa, "null")));
            json_decref(jp);
            json_decref(js);
            if (!same) fprintf(stderr, "parsed %s, scanned %s\n", pa, sa);
            check(same, "arguments differ");
        }
    }
    nemo_tool_calls_free(tc);
    tscan_free(whole);
    tscan_free(pieces);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int sel = data[0] & 3;
    if (sel == 3)
        scan(data + 1, size - 1);
    else
        request(sel, data + 1, size - 1);
    return 0;
}
