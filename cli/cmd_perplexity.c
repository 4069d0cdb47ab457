/* cmd_perplexity.c — `nemo perplexity MODEL FILE`: perplexity of a model over a text file with
 * llama.cpp's chunking (nemo_perplexity), printed like llama-perplexity: the running
 * "[1]x,[2]y," values, then "Final estimate: PPL = x +/- e". */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *model, *file, *ids_file, *tokenizer;
    long ctx, chunks, threads, batch;
    int bos; /* -1 auto */
} ppl_args;

static void usage(void) {
    printf("usage: nemo perplexity MODEL FILE [options]\n"
           "       nemo perplexity MODEL --ids-file IDS [options]\n\n"
           "Perplexity of the model over a UTF-8 text FILE, computed as llama.cpp's\n"
           "llama-perplexity does: the text is tokenized, cut into chunks of --ctx tokens, each\n"
           "chunk evaluated from an empty cache (first token replaced by BOS when the model's\n"
           "vocabulary adds one) and only the second half of each chunk scored.\n\n"
           "options:\n"
           "  --ctx N          tokens per chunk (default 512)\n"
           "  --chunks N       score at most N chunks (default: all)\n"
           "  --batch N        tokens per forward call: below --ctx, or a multiple of it to run\n"
           "                   several chunks at once (default: --ctx)\n"
           "  -t, --threads N  worker threads (default: all CPUs)\n"
           "  --ids-file F     take the token ids (whitespace-separated) from F instead of\n"
           "                   tokenizing FILE\n"
           "  --tokenizer P    tokenizer to use (default: the model's: the .gguf itself or the\n"
           "                   model folder)\n"
           "  --bos auto|yes|no  replace each chunk's first token by BOS and start the text\n"
           "                   with it (default auto: the model's vocabulary decides)\n");
}

static int parse(int argc, char **argv, ppl_args *a) {
    memset(a, 0, sizeof *a);
    a->ctx = 512;
    a->bos = -1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long *num = !strcmp(s, "--ctx")                           ? &a->ctx
                    : !strcmp(s, "--chunks")                      ? &a->chunks
                    : !strcmp(s, "--batch")                       ? &a->batch
                    : !strcmp(s, "-t") || !strcmp(s, "--threads") ? &a->threads
                                                                  : NULL;
        if (num) {
            if (cli_int("perplexity", s, v, num == &a->chunks ? 0 : 1, 1 << 24, num)) return -1;
            i++;
        } else if (!strcmp(s, "--ids-file") && v) {
            a->ids_file = argv[++i];
        } else if (!strcmp(s, "--tokenizer") && v) {
            a->tokenizer = argv[++i];
        } else if (!strcmp(s, "--bos") && v) {
            i++;
            if (!strcmp(v, "auto"))
                a->bos = -1;
            else if (!strcmp(v, "yes"))
                a->bos = 1;
            else if (!strcmp(v, "no"))
                a->bos = 0;
            else {
                fprintf(stderr, "nemo perplexity: --bos expects auto, yes or no, got '%s'\n", v);
                return -1;
            }
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "nemo perplexity: unknown or incomplete option '%s' (see --help)\n", s);
            return -1;
        } else if (!a->model) {
            a->model = s;
        } else if (!a->file) {
            a->file = s;
        } else {
            fprintf(stderr, "nemo perplexity: unexpected argument '%s'\n", s);
            return -1;
        }
    }
    if (!a->model || (!a->file == !a->ids_file)) {
        fprintf(stderr, "nemo perplexity: MODEL and exactly one of FILE or --ids-file are "
                        "required (see --help)\n");
        return -1;
    }
    return 0;
}

/* Reads a whole file into a NUL-terminated malloc'd buffer. */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) break;
        n += fread(buf + n, 1, cap - 1 - n, f);
        if (n < cap - 1) break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        fprintf(stderr, "nemo perplexity: %s: %s\n", path, buf ? "read error" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Tokenizes the text file with the model's tokenizer (or --tokenizer). *add_bos < 0 (auto)
 * becomes the vocabulary's own rule (nemo_tokenizer_add_bos). */
static int tokenize(const ppl_args *a, int *add_bos, int32_t **ids, size_t *n) {
    size_t len;
    char *text = slurp(a->file, &len);
    if (!text) return 1;
    char dir[4096];
    const char *tp = a->tokenizer;
    if (!tp) {
        /* a .safetensors file's tokenizer is in its folder */
        size_t ml = strlen(a->model);
        const char *slash = strrchr(a->model, '/');
        if (ml > 12 && !strcmp(a->model + ml - 12, ".safetensors")) {
            snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - a->model) : 1,
                     slash ? a->model : ".");
            tp = dir;
        } else {
            tp = a->model;
        }
    }
    nemo_error err = {0};
    nemo_tokenizer *t = NULL;
    int rc = 0;
    if (nemo_tokenizer_open(tp, &t, &err)) {
        rc = cli_report("perplexity", &err);
    } else {
        if (*add_bos < 0) *add_bos = nemo_tokenizer_add_bos(t);
        size_t cap = len / 2 + 16;
        *ids = malloc(cap * sizeof **ids);
        nemo_status st = *ids ? nemo_tokenizer_encode(t, text, len, *add_bos, 0, *ids, cap, n, &err)
                              : NEMO_ERR_NOMEM;
        if (st == NEMO_ERR_FULL) {
            free(*ids);
            cap = *n;
            *ids = malloc(cap * sizeof **ids);
            st = *ids ? nemo_tokenizer_encode(t, text, len, *add_bos, 0, *ids, cap, n, &err)
                      : NEMO_ERR_NOMEM;
        }
        if (st == NEMO_ERR_NOMEM && !err.msg[0]) snprintf(err.msg, sizeof err.msg, "out of memory");
        if (st) rc = cli_report("perplexity", &err);
    }
    nemo_tokenizer_free(t);
    free(text);
    return rc;
}

static void on_chunk(int chunk, int n_chunks, double ppl, void *user) {
    (void)n_chunks;
    (void)user;
    printf("[%d]%.4f,", chunk, ppl);
    fflush(stdout);
}

int cmd_perplexity(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage();
            return 0;
        }
    ppl_args a;
    if (parse(argc, argv, &a)) return 2;
    nemo_error err = {0};
    nemo_model *m = NULL;
    if (nemo_model_open(a.model, &m, &err)) return cli_report("perplexity", &err);
    int add_bos = a.bos;
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = 0;
    if (a.ids_file) {
        size_t len;
        char *text = slurp(a.ids_file, &len);
        int ni = 0;
        if (!text) {
            rc = 1;
        } else if (cli_parse_ids(text, &ids, &ni)) {
            fprintf(stderr, "nemo perplexity: %s: expected whitespace-separated token ids\n",
                    a.ids_file);
            rc = 1;
        }
        free(text);
        n = (size_t)ni;
        if (add_bos < 0) add_bos = nemo_model_add_bos(m); /* no tokenizer: the model's rule */
    } else {
        rc = tokenize(&a, &add_bos, &ids, &n);
    }
    if (!rc) {
        nemo_ppl_params p = {(int)a.ctx, (int)a.chunks, (int)a.batch, (int)a.threads,
                             add_bos,    on_chunk,      NULL};
        fprintf(stderr, "nemo perplexity: %zu tokens, context %ld, BOS %s\n", n, a.ctx,
                add_bos ? "yes" : "no");
        nemo_ppl_result r;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (nemo_perplexity(m, ids, n, &p, &r, &err)) {
            printf("\n");
            rc = cli_report("perplexity", &err);
        } else {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
            printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", r.ppl, r.ppl_err);
            fprintf(stderr,
                    "nemo perplexity: %d chunks, %d tokens scored, mean NLL %.6f, %.1f s "
                    "(%.1f tokens/s)\n",
                    r.n_chunks, r.n_scored, r.nll, sec, (double)r.n_chunks * (double)a.ctx / sec);
        }
    }
    free(ids);
    nemo_model_free(m);
    return rc;
}
