/* cmd_forward.c — `nemo logits` and `nemo generate`: the forward pass over token ids, the
 * contract other issues and the parity tests rely on. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *model, *ids, *out;
    long n, threads;
} fwd_args;

static int parse(const char *cmd, int argc, char **argv, fwd_args *a, int need_n) {
    memset(a, 0, sizeof *a);
    a->n = -1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(s, "--ids") && v) {
            a->ids = v;
            i++;
        } else if (!strcmp(s, "--out") && v && !need_n) {
            a->out = v;
            i++;
        } else if ((!strcmp(s, "-n") || !strcmp(s, "--n-predict")) && need_n) {
            if (cli_int(cmd, s, v, 0, 1 << 20, &a->n)) return -1;
            i++;
        } else if ((!strcmp(s, "-t") || !strcmp(s, "--threads"))) {
            if (cli_int(cmd, s, v, 1, 1024, &a->threads)) return -1;
            i++;
        } else if (s[0] == '-') {
            fprintf(stderr, "nemo %s: unknown or incomplete option '%s' (see --help)\n", cmd, s);
            return -1;
        } else if (!a->model) {
            a->model = s;
        } else {
            fprintf(stderr, "nemo %s: unexpected argument '%s'\n", cmd, s);
            return -1;
        }
    }
    if (!a->model || !a->ids || (need_n && a->n < 0)) {
        fprintf(stderr, "nemo %s: MODEL and --ids%s are required (see --help)\n", cmd,
                need_n ? " and -n" : "");
        return -1;
    }
    return 0;
}

static int wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

/* Opens the model and a session, and runs the prompt as one batch. */
static int run_prompt(const char *cmd, const fwd_args *a, int extra, nemo_model **m,
                      nemo_session **s, int32_t **ids, int *n_ids) {
    nemo_error err = {0};
    if (cli_parse_ids(a->ids, ids, n_ids) || *n_ids == 0) {
        fprintf(stderr, "nemo %s: --ids expects comma-separated non-negative integers, got '%s'\n",
                cmd, a->ids);
        return 1;
    }
    if (nemo_model_open(a->model, m, &err)) return cli_report(cmd, &err);
    nemo_session_params sp = {0};
    sp.n_ctx = *n_ids + extra;
    sp.n_batch = *n_ids;
    sp.n_threads = (int)a->threads;
    if (nemo_session_create(*m, &sp, s, &err)) return cli_report(cmd, &err);
    int32_t *pos = malloc((size_t)*n_ids * sizeof *pos), *seq = calloc((size_t)*n_ids, sizeof *seq);
    if (!pos || !seq) {
        free(pos);
        free(seq);
        fprintf(stderr, "nemo %s: out of memory\n", cmd);
        return 1;
    }
    for (int i = 0; i < *n_ids; i++) pos[i] = i;
    nemo_batch b = {*n_ids, *ids, pos, seq, NULL};
    nemo_status st = nemo_session_decode(*s, &b, &err);
    free(pos);
    free(seq);
    return st ? cli_report(cmd, &err) : 0;
}

int cmd_logits(int argc, char **argv) {
    if (wants_help(argc, argv)) {
        printf("usage: nemo logits MODEL --ids 1,22177,1044 [--out FILE] [-t THREADS]\n\n"
               "Runs the forward pass over the token ids and writes the logits of the last\n"
               "position as raw little-endian float32 (vocab_size values) to FILE or stdout.\n");
        return 0;
    }
    fwd_args a;
    if (parse("logits", argc, argv, &a, 0)) return 2;
    nemo_model *m = NULL;
    nemo_session *s = NULL;
    int32_t *ids = NULL;
    int n_ids = 0;
    int rc = run_prompt("logits", &a, 0, &m, &s, &ids, &n_ids);
    if (!rc) {
        const float *lg = nemo_session_logits(s, n_ids - 1);
        int v = nemo_model_config(m)->vocab_size;
        FILE *f = a.out ? fopen(a.out, "wb") : stdout;
        if (!f) {
            perror(a.out);
            rc = 1;
        } else {
            if (fwrite(lg, sizeof(float), (size_t)v, f) != (size_t)v) {
                fprintf(stderr, "nemo logits: write failed\n");
                rc = 1;
            }
            if (f != stdout && fclose(f)) rc = 1;
        }
    }
    free(ids);
    nemo_session_free(s);
    nemo_model_free(m);
    return rc;
}

int cmd_generate(int argc, char **argv) {
    if (wants_help(argc, argv)) {
        printf("usage: nemo generate MODEL --ids 1,22177,1044 -n N [-t THREADS]\n\n"
               "Greedy-generates N token ids after the given ids and prints them, separated by\n"
               "spaces. Generation continues past the end-of-sequence id (this command is for\n"
               "exact comparisons; text generation is `nemo run`).\n");
        return 0;
    }
    fwd_args a;
    if (parse("generate", argc, argv, &a, 1)) return 2;
    nemo_model *m = NULL;
    nemo_session *s = NULL;
    int32_t *ids = NULL;
    int n_ids = 0;
    int rc = run_prompt("generate", &a, (int)a.n, &m, &s, &ids, &n_ids);
    if (!rc) {
        int v = nemo_model_config(m)->vocab_size;
        int32_t tok = nemo_argmax(nemo_session_logits(s, n_ids - 1), v), seq = 0;
        for (long i = 0; i < a.n; i++) {
            printf(i ? " %d" : "%d", tok);
            if (i + 1 == a.n) break;
            int32_t pos = n_ids + (int32_t)i;
            nemo_batch b = {1, &tok, &pos, &seq, NULL};
            nemo_error err = {0};
            if (nemo_session_decode(s, &b, &err)) {
                printf("\n");
                rc = cli_report("generate", &err);
                break;
            }
            tok = nemo_argmax(nemo_session_logits(s, 0), v);
        }
        if (!rc) printf("\n");
    }
    free(ids);
    nemo_session_free(s);
    nemo_model_free(m);
    return rc;
}
