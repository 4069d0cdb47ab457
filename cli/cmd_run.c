/* cmd_run.c — `nemo run MODEL "prompt"`: one answer (chat template) or completion (--raw),
 * streamed to stdout as it is generated, tool calls printed as JSON, timing on stderr. */
#include "cli.h"
#include "convo.h"
#include "gen.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t g_interrupt;

static void on_sigint(int sig) {
    (void)sig;
    g_interrupt = 1;
}

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: nemo run MODEL PROMPT [options]   (PROMPT -: read stdin, less one final newline)\n"
        "\n"
        "Generates one answer to PROMPT and streams it to stdout, ending with a newline.\n"
        "MODEL is a model folder (native or Hugging Face layout), a .safetensors file next\n"
        "to its params.json/config.json, or a .gguf file. By default PROMPT is one user\n"
        "message in the tokenizer's chat template (instruct models); --raw continues the\n"
        "text itself (base models). Generation ends at the end-of-turn token, -n, a --stop\n"
        "string or a full context. Tool calls ([TOOL_CALLS]) are printed after the text as\n"
        "one JSON line {\"tool_calls\": [{\"id\", \"name\", \"arguments\"}]}. A timing line\n"
        "(prompt and generated tokens, tokens/s) goes to stderr unless --quiet. Ctrl-C\n"
        "while generating ends the answer there (exit status 130); a second Ctrl-C, or one\n"
        "while the model loads, ends the program at once.\n"
        "\n");
    gen_opts_help(f, 0);
}

/* The whole of stdin, without one trailing newline (echo and here-strings add one). */
static char *read_stdin(size_t *len) {
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    while (b) {
        if (n + 1 >= cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) break;
            b = nb;
        }
        size_t k = fread(b + n, 1, cap - n - 1, stdin);
        n += k;
        if (!k) {
            if (ferror(stdin)) break;
            if (n && b[n - 1] == '\n') n--;
            b[n] = 0;
            *len = n;
            return b;
        }
    }
    free(b);
    return NULL;
}

int cmd_run(int argc, char **argv) {
    gen_opts o;
    gen_opts_init(&o);
    const char *prompt = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            gen_opts_free(&o);
            return 0;
        }
        int k = gen_opts_flag("run", argc, argv, &i, &o);
        if (k < 0) {
            gen_opts_free(&o);
            return 2;
        }
        if (k) continue;
        if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nemo run: unknown option '%s' (see nemo run --help)\n", a);
            gen_opts_free(&o);
            return 2;
        }
        if (!o.model)
            o.model = a;
        else if (!prompt)
            prompt = a;
        else {
            fprintf(stderr, "nemo run: unexpected argument '%s' (quote the prompt)\n", a);
            gen_opts_free(&o);
            return 2;
        }
    }
    if (!o.model || !prompt) {
        fprintf(stderr, "nemo run: MODEL and PROMPT are required (see nemo run --help)\n");
        gen_opts_free(&o);
        return 2;
    }
    if (o.raw && (o.system || o.tools_file)) {
        fprintf(stderr, "nemo run: --system and --tools need the chat format (drop --raw)\n");
        gen_opts_free(&o);
        return 2;
    }
    size_t plen = strlen(prompt);
    char *in = NULL;
    if (!strcmp(prompt, "-")) {
        if (!(in = read_stdin(&plen))) {
            fprintf(stderr, "nemo run: cannot read the prompt from stdin\n");
            gen_opts_free(&o);
            return 1;
        }
        prompt = in;
    }
    int rc = 1;
    gen_ctx *g = NULL;
    convo *c = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    nemo_error err = {0};
    if (!o.raw && !(c = convo_create("run", o.system, o.tools_file))) goto done;
    if (!(g = gen_open("run", &o))) goto done;
    if (o.raw) {
        if (convo_encode_raw(gen_tokenizer(g), prompt, plen, &ids, &n, &err)) {
            rc = cli_report("run", &err);
            goto done;
        }
    } else {
        if (convo_add(c, "user", prompt, plen)) goto done;
        if (convo_encode(c, gen_tokenizer(g), &ids, &n, &err)) {
            rc = cli_report("run", &err);
            goto done;
        }
    }
    /* Ctrl-C from here on ends the answer cleanly; SA_RESETHAND: a second one kills */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    gen_result r;
    rc = gen_generate(g, ids, (int)n, stdout, &g_interrupt, &r);
    int has_calls = r.calls && r.calls->has_marker;
    if (r.content_len ? r.content[r.content_len - 1] != '\n' : !has_calls) putchar('\n');
    gen_print_calls("run", r.calls, stdout);
    nemo_tool_calls_free(r.calls);
    if (fflush(stdout)) {
        fprintf(stderr, "nemo run: cannot write the answer to stdout\n");
        rc = 1;
    }
    if (!rc && !o.quiet) gen_print_timing("run", &r);
    if (!rc && r.why == GEN_STOP_INTERRUPT) {
        fprintf(stderr, "nemo run: interrupted\n");
        rc = 130;
    }
done:
    free(ids);
    convo_free(c);
    gen_close(g);
    free(in);
    gen_opts_free(&o);
    return rc;
}
