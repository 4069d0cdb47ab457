/* gen_opts.c — the flags `nemo run` and `nemo chat` share (model, tokenizer, sampling, limits,
 * stop strings, threads, context) and their --help text, so both commands spell them alike. */
#include "cli.h"
#include "gen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void gen_opts_init(gen_opts *o) {
    memset(o, 0, sizeof *o);
    nemo_sampler_defaults(&o->sp); /* temperature 0.3: Mistral's recommendation for NeMo chat */
    /* a fresh seed per run unless --seed is given */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    o->sp.seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
    o->max_tokens = -1;
}

void gen_opts_free(gen_opts *o) {
    free(o->force_ids);
    o->force_ids = NULL;
}

void gen_opts_help(FILE *f, int chat) {
    if (chat)
        fprintf(f,
                "prompt format: the tokenizer's chat template (Mistral [INST] format for Mistral\n"
                "tokenizers, the GGUF's template, e.g. ChatML, else): instruct models\n"
                "  --system TEXT        system prompt\n");
    else
        fprintf(
            f,
            "prompt format:\n"
            "  (default)            chat template of the tokenizer (Mistral [INST] format for\n"
            "                       Mistral tokenizers, the GGUF's template, e.g. ChatML,\n"
            "                       else): for instruct models such as\n"
            "                       Mistral-Nemo-Instruct-2407\n"
            "  --raw                plain completion: BOS + the text, no template (base models;\n"
            "                       nothing in the weights tells base from instruct, so this\n"
            "                       is never chosen automatically)\n"
            "  --system TEXT        system prompt (chat format only)\n");
    fprintf(
        f,
        "  --tools FILE         JSON array of OpenAI-style tools offered to the model\n"
        "                       ({\"type\": \"function\", \"function\": {name, description,\n"
        "                       parameters}}); calls it makes are printed as JSON\n"
        "sampling:\n"
        "  --temp X             temperature (default 0.3; 0 = greedy)\n"
        "  --top-k N            keep the N most likely ids (default 0 = off)\n"
        "  --top-p X            nucleus sampling (default 1 = off)\n"
        "  --min-p X            drop ids with p < X * p_max (default 0 = off)\n"
        "  --repeat-penalty X   penalize ids of the last --penalty-window ids (default 1 = off)\n"
        "  --frequency-penalty X  subtract X per occurrence (default 0)\n"
        "  --presence-penalty X   subtract X once if present (default 0)\n"
        "  --penalty-window N   ids the penalties look back at (default 64)\n"
        "  --seed N             PRNG seed (default: a fresh one each run); same seed, same\n"
        "                       model and flags: same output\n"
        "limits:\n"
        "  -n, --max-tokens N   generate at most N tokens per answer (default: until the end\n"
        "                       of turn or the context is full)\n"
        "  --stop STR           stop when the output contains STR (repeatable; matched across\n"
        "                       token boundaries; STR itself is not printed)\n"
        "  --ctx N              context positions (default min(model maximum, 4096))\n"
        "  --batch N            prompt tokens per forward batch (default 512)\n"
        "  -t, --threads N      worker threads (default: all CPUs)\n"
        "files and output:\n"
        "  --tokenizer PATH     tekken.json, tokenizer.model*, .gguf or folder (default: the\n"
        "                       model folder (tekken.json, else tokenizer.model*), or the\n"
        "                       .gguf file's own vocabulary)\n"
        "  --no-prefault        do not read all weights into memory before the first token\n"
        "  --quiet              no timing line / progress on stderr\n"
        "  --print-ids          print prompt and generated token ids on stderr\n"
        "  --force-ids IDS      testing aid: use these ids (comma-separated) as the first\n"
        "                       generated tokens of each answer instead of sampled ones; they\n"
        "                       go through the model, stop strings and tool-call parsing alike\n");
}

static int float_arg(const char *cmd, const char *flag, const char *v, float lo, float hi,
                     float *out) {
    char *end;
    errno = 0;
    float x = v ? strtof(v, &end) : 0;
    if (!v || end == v || *end || errno || !(x >= lo && x <= hi)) {
        fprintf(stderr, "nemo %s: %s expects a number in [%g, %g], got '%s'\n", cmd, flag, lo, hi,
                v ? v : "(nothing)");
        return -1;
    }
    *out = x;
    return 0;
}

int gen_opts_flag(const char *cmd, int argc, char **argv, int *i, gen_opts *o) {
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    long n = 0;
    int rc = 0;
    if (!strcmp(a, "--raw")) {
        o->raw = 1;
        return 1;
    }
    if (!strcmp(a, "--quiet")) {
        o->quiet = 1;
        return 1;
    }
    if (!strcmp(a, "--print-ids")) {
        o->print_ids = 1;
        return 1;
    }
    if (!strcmp(a, "--no-prefault")) {
        o->no_prefault = 1;
        return 1;
    }
    /* the rest take a value */
    if (!strcmp(a, "--system") || !strcmp(a, "--tools") || !strcmp(a, "--tokenizer") ||
        !strcmp(a, "--stop") || !strcmp(a, "--force-ids")) {
        if (!v) {
            fprintf(stderr, "nemo %s: %s needs a value\n", cmd, a);
            return -1;
        }
        if (!strcmp(a, "--system"))
            o->system = v;
        else if (!strcmp(a, "--tools"))
            o->tools_file = v;
        else if (!strcmp(a, "--tokenizer"))
            o->tokenizer = v;
        else if (!strcmp(a, "--stop")) {
            if (o->n_stops == GEN_MAX_STOPS) {
                fprintf(stderr, "nemo %s: at most %d --stop strings\n", cmd, GEN_MAX_STOPS);
                return -1;
            }
            o->stops[o->n_stops++] = v;
        } else {
            free(o->force_ids);
            o->force_ids = NULL;
            if (cli_parse_ids(v, &o->force_ids, &o->n_force)) {
                fprintf(stderr, "nemo %s: --force-ids expects comma-separated ids, got '%s'\n", cmd,
                        v);
                return -1;
            }
        }
        (*i)++;
        return 1;
    }
    if (!strcmp(a, "--temp"))
        rc = float_arg(cmd, a, v, 0, 100, &o->sp.temperature);
    else if (!strcmp(a, "--top-p"))
        rc = float_arg(cmd, a, v, 0, 1, &o->sp.top_p);
    else if (!strcmp(a, "--min-p"))
        rc = float_arg(cmd, a, v, 0, 1, &o->sp.min_p);
    else if (!strcmp(a, "--repeat-penalty"))
        rc = float_arg(cmd, a, v, 0.01f, 100, &o->sp.repeat_penalty);
    else if (!strcmp(a, "--frequency-penalty"))
        rc = float_arg(cmd, a, v, -100, 100, &o->sp.frequency_penalty);
    else if (!strcmp(a, "--presence-penalty"))
        rc = float_arg(cmd, a, v, -100, 100, &o->sp.presence_penalty);
    else if (!strcmp(a, "--top-k")) {
        rc = cli_int(cmd, a, v, 0, 1 << 30, &n);
        o->sp.top_k = (int)n;
    } else if (!strcmp(a, "--penalty-window")) {
        rc = cli_int(cmd, a, v, 1, 1 << 20, &n);
        o->sp.penalty_window = (int)n;
    } else if (!strcmp(a, "--seed")) {
        char *end;
        errno = 0;
        unsigned long long s = v ? strtoull(v, &end, 0) : 0;
        if (!v || end == v || *end || errno || v[0] == '-') {
            fprintf(stderr, "nemo %s: --seed expects an unsigned 64-bit integer, got '%s'\n", cmd,
                    v ? v : "(nothing)");
            return -1;
        }
        o->sp.seed = s;
        o->seed_set = 1;
    } else if (!strcmp(a, "-n") || !strcmp(a, "--max-tokens"))
        rc = cli_int(cmd, a, v, 0, 1L << 30, &o->max_tokens);
    else if (!strcmp(a, "-t") || !strcmp(a, "--threads"))
        rc = cli_int(cmd, a, v, 1, 1024, &o->threads);
    else if (!strcmp(a, "--ctx"))
        rc = cli_int(cmd, a, v, 1, 1L << 24, &o->ctx);
    else if (!strcmp(a, "--batch"))
        rc = cli_int(cmd, a, v, 1, 1L << 16, &o->batch);
    else
        return 0;
    if (rc) return -1;
    (*i)++;
    return 1;
}
