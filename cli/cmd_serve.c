/* cmd_serve.c — `nemo serve MODEL [options]`: parses the options into a server configuration
 * and runs the OpenAI-compatible server (server/). */
#include "../server/server.h"
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int usage(FILE *f) {
    fprintf(f,
            "usage: nemo serve MODEL [options]\n\n"
            "OpenAI-compatible HTTP server with continuous batching: POST /v1/chat/completions,\n"
            "POST /v1/completions, GET /v1/models, POST /tokenize, POST /detokenize,\n"
            "GET /health, GET /metrics (Prometheus) and a chat page at GET /.\n\n"
            "options:\n"
            "  --host ADDR         numeric address to bind (default 127.0.0.1)\n"
            "  --port N            TCP port (default 8080; 0 = any free port)\n"
            "  --api-key KEY       require Authorization: Bearer KEY (default: $NEMO_API_KEY)\n"
            "  --model-name NAME   model id clients use (default: MODEL's file or folder name)\n"
            "  --tokenizer T       tokenizer file or folder (default: MODEL)\n"
            "  --parallel N        slots: sequences decoded together (default 4)\n"
            "  --queue N           requests waiting for a slot before 503 (default 64)\n"
            "  --ctx N             positions per slot (default min(model max, 4096))\n"
            "  --batch N           most tokens per forward call (default 512)\n"
            "  --prefill-chunk N   most prompt tokens one request adds per step (default 256)\n"
            "  -t, --threads N     worker threads (default: all CPUs)\n"
            "  --max-body BYTES    request body limit (default 1048576)\n"
            "  --max-prompt N      prompt token limit (default: ctx - 1)\n"
            "  --max-tokens N      generated token limit per request (default: ctx)\n"
            "  --timeout S         whole-request limit in seconds (default 600)\n"
            "  --debug-reply TEXT  TEST ONLY: every request generates TEXT (\"[TOOL_CALLS]\" is\n"
            "                      the control token) instead of sampling; off by default\n");
    return f == stdout ? 0 : 2;
}

int cmd_serve(int argc, char **argv) {
    srv_config c = {0};
    c.host = "127.0.0.1";
    c.port = 8080;
    c.api_key = getenv("NEMO_API_KEY");
    c.parallel = 4;
    c.queue = 64;
    c.batch = 512;
    c.prefill_chunk = 256;
    c.max_body = 1 << 20;
    c.timeout_s = 600;
    long ctx = 0, max_prompt = 0, max_tokens = 0, v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return usage(stdout);
#define INT_OPT(flag, lo, hi, dst)                                                                 \
    if (!strcmp(a, flag)) {                                                                        \
        if (cli_int("serve", flag, val, lo, hi, &v)) return 2;                                     \
        dst = v;                                                                                   \
        i++;                                                                                       \
        continue;                                                                                  \
    }
#define STR_OPT(flag, dst)                                                                         \
    if (!strcmp(a, flag)) {                                                                        \
        if (!val) {                                                                                \
            fprintf(stderr, "nemo serve: %s needs a value\n", flag);                               \
            return 2;                                                                              \
        }                                                                                          \
        dst = val;                                                                                 \
        i++;                                                                                       \
        continue;                                                                                  \
    }
        STR_OPT("--host", c.host)
        STR_OPT("--api-key", c.api_key)
        STR_OPT("--model-name", c.model_name)
        STR_OPT("--tokenizer", c.tokenizer_path)
        STR_OPT("--debug-reply", c.debug_reply)
        INT_OPT("--port", 0, 65535, c.port)
        INT_OPT("--parallel", 1, 256, c.parallel)
        INT_OPT("--queue", 1, 1 << 20, c.queue)
        INT_OPT("--ctx", 2, 1 << 20, ctx)
        INT_OPT("--batch", 1, 1 << 16, c.batch)
        INT_OPT("--prefill-chunk", 1, 1 << 16, c.prefill_chunk)
        INT_OPT("--threads", 1, 1024, c.threads)
        INT_OPT("-t", 1, 1024, c.threads)
        INT_OPT("--max-body", 64, 1L << 30, c.max_body)
        INT_OPT("--max-prompt", 1, 1 << 20, max_prompt)
        INT_OPT("--max-tokens", 1, 1 << 20, max_tokens)
        INT_OPT("--timeout", 1, 1 << 20, c.timeout_s)
#undef INT_OPT
#undef STR_OPT
        if (a[0] == '-') {
            fprintf(stderr, "nemo serve: unknown option '%s'\n", a);
            return usage(stderr);
        }
        if (c.model_path) {
            fprintf(stderr, "nemo serve: unexpected argument '%s'\n", a);
            return usage(stderr);
        }
        c.model_path = a;
    }
    if (!c.model_path) {
        fprintf(stderr, "nemo serve: MODEL is required\n");
        return usage(stderr);
    }
    if (c.api_key && !*c.api_key) c.api_key = NULL;
    if (!ctx) {
        /* the model's own limit needs the model; the engine reads it when ctx is 0 */
        nemo_model *m = NULL;
        nemo_error err = {0};
        if (nemo_model_open(c.model_path, &m, &err)) return cli_report("serve", &err);
        int mx = nemo_model_config(m)->max_seq_len;
        nemo_model_free(m);
        ctx = mx > 0 && mx < 4096 ? mx : 4096;
    }
    c.ctx = (int)ctx;
    if (c.batch < c.parallel) c.batch = c.parallel; /* every slot's next token fits a step */
    c.max_prompt = max_prompt && max_prompt < ctx ? (int)max_prompt : (int)ctx - 1;
    c.max_tokens = max_tokens && max_tokens < ctx ? (int)max_tokens : (int)ctx;
    return serve_main(&c);
}
