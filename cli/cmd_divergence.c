/* cmd_divergence.c — `nemo divergence BASE QUANT`: how far a quantized model's next-token
 * distributions are from the base model's over the same tokens: mean / p99 / max of
 * KL(base ‖ quant), top-1 agreement, and both models' perplexity on the sequence. The tokens
 * are split into chunks of -c positions, each evaluated from an empty cache (as
 * llama-perplexity does), every position scored. --base-matmul / --quant-matmul run either side
 * with its own activation mode (q8 or exact), so BASE and QUANT may be the same file: the cost
 * of q8 activations measured like the cost of a weight type. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f, "usage: nemo divergence BASE QUANT [--text FILE [--tokenizer PATH] | --ids LIST |\n"
               "                                   --random N] [-c CTX] [-t THREADS]\n"
               "                                  [--base-matmul MODE] [--quant-matmul MODE]\n"
               "\n"
               "  --text FILE      UTF-8 text, tokenized with --tokenizer (default: BASE)\n"
               "  --ids LIST       token ids, e.g. 1,22177,1044\n"
               "  --random N       N pseudo-random ids (fixed seed; default 256 when no text/ids)\n"
               "  -c CTX           positions per chunk (default 128)\n"
               "  -t THREADS       threads (default: all CPUs)\n"
               "  --base-matmul MODE, --quant-matmul MODE\n"
               "                   activations of that side's matmuls: q8 (quantized for\n"
               "                   Q8_0/Q4_0/Q4_1/Q4_K/Q5_K/Q6_K weights, the default) or exact\n"
               "                   (f32); default: NEMO_MATMUL's mode. BASE and QUANT may then\n"
               "                   be the same model\n"
               "Prints mean KL(base||quant) in nats, its 99th percentile and max, top-1 agreement\n"
               "and the perplexity of both models on the sequence.\n");
}

typedef struct {
    nemo_model *m;
    nemo_session *s;
    const char *mode; /* activation mode for this side, NULL = the process's */
} runner;

static int open_runner(const char *path, int ctx, int threads, runner *r) {
    nemo_error err = {0};
    if (nemo_model_open(path, &r->m, &err)) return cli_report("divergence", &err);
    nemo_session_params sp = {ctx, 1, ctx, threads};
    if (nemo_session_create(r->m, &sp, &r->s, &err)) return cli_report("divergence", &err);
    return 0;
}

/* Logits of every position of ids[0..n) from an empty cache into out[n * V]. */
static int chunk_logits(runner *r, const int32_t *ids, int n, int V, float *out) {
    nemo_error err = {0};
    int32_t *pos = malloc(sizeof *pos * (size_t)n), *seq = calloc((size_t)n, sizeof *seq);
    int8_t *want = malloc((size_t)n);
    int rc = 0;
    if (!pos || !seq || !want) {
        fprintf(stderr, "nemo divergence: out of memory\n");
        rc = 1;
        goto done;
    }
    for (int i = 0; i < n; i++) pos[i] = i, want[i] = 1;
    nemo_batch b = {n, ids, pos, seq, want};
    if (nemo_cpu_set_matmul(r->mode, &err) || nemo_session_seq_truncate(r->s, 0, 0, &err) ||
        nemo_session_decode(r->s, &b, &err)) {
        rc = cli_report("divergence", &err);
        goto done;
    }
    for (int i = 0; i < n; i++)
        memcpy(out + (size_t)i * V, nemo_session_logits(r->s, i), sizeof(float) * V);
done:
    free(pos);
    free(seq);
    free(want);
    return rc;
}

/* log-softmax of x[V] into y (double for the KL sum) */
static void log_softmax(const float *x, double *y, int V) {
    double mx = x[0], s = 0;
    for (int i = 1; i < V; i++) mx = x[i] > mx ? x[i] : mx;
    for (int i = 0; i < V; i++) s += exp((double)x[i] - mx);
    double lse = mx + log(s);
    for (int i = 0; i < V; i++) y[i] = (double)x[i] - lse;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cmd_divergence(int argc, char **argv) {
    const char *base = NULL, *quant = NULL, *text = NULL, *tokp = NULL, *ids_s = NULL;
    const char *mode_b = NULL, *mode_q = NULL;
    long n_random = 0, ctx = 128, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--text") && v) {
            text = v, i++;
        } else if (!strcmp(a, "--tokenizer") && v) {
            tokp = v, i++;
        } else if (!strcmp(a, "--ids") && v) {
            ids_s = v, i++;
        } else if ((!strcmp(a, "--base-matmul") || !strcmp(a, "--quant-matmul")) && v) {
            if (strcmp(v, "q8") && strcmp(v, "exact")) {
                fprintf(stderr, "nemo divergence: %s: expected q8 or exact, got '%s'\n", a, v);
                return 2;
            }
            *(a[2] == 'b' ? &mode_b : &mode_q) = v, i++;
        } else if (!strcmp(a, "--random")) {
            if (cli_int("divergence", a, v, 2, 1 << 20, &n_random)) return 2;
            i++;
        } else if (!strcmp(a, "-c")) {
            if (cli_int("divergence", a, v, 2, 1 << 16, &ctx)) return 2;
            i++;
        } else if (!strcmp(a, "-t")) {
            if (cli_int("divergence", a, v, 1, 1024, &threads)) return 2;
            i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nemo divergence: unknown option or missing value: %s\n\n", a);
            usage(stderr);
            return 2;
        } else if (!base) {
            base = a;
        } else if (!quant) {
            quant = a;
        } else {
            fprintf(stderr, "nemo divergence: too many arguments\n");
            return 2;
        }
    }
    if (!base || !quant) {
        usage(stderr);
        return 2;
    }
    runner rb = {.mode = mode_b}, rq = {.mode = mode_q};
    int rc = open_runner(base, (int)ctx, (int)threads, &rb);
    if (!rc) rc = open_runner(quant, (int)ctx, (int)threads, &rq);
    int32_t *ids = NULL;
    int n = 0;
    float *lb = NULL, *lq = NULL;
    double *pb = NULL, *pq = NULL, *kls = NULL;
    const nemo_config *cb = rc ? NULL : nemo_model_config(rb.m);
    const nemo_config *cq = rc ? NULL : nemo_model_config(rq.m);
    if (!rc && cb->vocab_size != cq->vocab_size) {
        fprintf(stderr, "nemo divergence: vocabularies differ (%d vs %d ids)\n", cb->vocab_size,
                cq->vocab_size);
        rc = 1;
    }
    if (!rc && text) {
        nemo_error err = {0};
        nemo_tokenizer *tk = NULL;
        FILE *f = fopen(text, "rb");
        char *buf = NULL;
        size_t len = 0, cap = 0;
        if (!f) {
            fprintf(stderr, "nemo divergence: cannot open %s\n", text);
            rc = 1;
        } else {
            for (;;) {
                if (len + 65536 > cap) {
                    cap = cap ? 2 * cap : 1 << 20;
                    buf = realloc(buf, cap);
                    if (!buf) break;
                }
                size_t k = fread(buf + len, 1, cap - len, f);
                if (!k) break;
                len += k;
            }
            fclose(f);
        }
        if (!rc && nemo_tokenizer_open(tokp ? tokp : base, &tk, &err))
            rc = cli_report("divergence", &err);
        size_t nout = 0;
        if (!rc) {
            ids = malloc(sizeof *ids * (len + 2));
            if (nemo_tokenizer_encode(tk, buf, len, 1, 0, ids, len + 2, &nout, &err))
                rc = cli_report("divergence", &err);
            n = (int)nout;
        }
        nemo_tokenizer_free(tk);
        free(buf);
    } else if (!rc && ids_s) {
        if (cli_parse_ids(ids_s, &ids, &n)) {
            fprintf(stderr, "nemo divergence: bad --ids\n");
            rc = 2;
        }
    } else if (!rc) {
        n = (int)(n_random ? n_random : 256);
        ids = malloc(sizeof *ids * (size_t)n);
        uint64_t s = 12345;
        for (int i = 0; i < n; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            ids[i] = i == 0 ? (cb->bos_id >= 0 ? cb->bos_id : 1)
                            : (int32_t)((s >> 33) % (uint64_t)cb->vocab_size);
        }
    }
    if (!rc && n < 2) {
        fprintf(stderr, "nemo divergence: need at least 2 tokens\n");
        rc = 1;
    }
    int V = rc ? 0 : cb->vocab_size;
    if (!rc) {
        lb = malloc(sizeof *lb * (size_t)ctx * V);
        lq = malloc(sizeof *lq * (size_t)ctx * V);
        pb = malloc(sizeof *pb * (size_t)V);
        pq = malloc(sizeof *pq * (size_t)V);
        kls = malloc(sizeof *kls * (size_t)n);
        if (!lb || !lq || !pb || !pq || !kls) {
            fprintf(stderr, "nemo divergence: out of memory\n");
            rc = 1;
        }
    }
    double kl_sum = 0, nll_b = 0, nll_q = 0;
    int agree = 0, n_scored = 0, n_next = 0;
    for (int c0 = 0; !rc && c0 < n; c0 += (int)ctx) {
        int cn = n - c0 < ctx ? n - c0 : (int)ctx;
        if ((rc = chunk_logits(&rb, ids + c0, cn, V, lb)) ||
            (rc = chunk_logits(&rq, ids + c0, cn, V, lq)))
            break;
        for (int i = 0; i < cn; i++) {
            const float *xb = lb + (size_t)i * V, *xq = lq + (size_t)i * V;
            log_softmax(xb, pb, V);
            log_softmax(xq, pq, V);
            double kl = 0;
            for (int k = 0; k < V; k++) kl += exp(pb[k]) * (pb[k] - pq[k]);
            kls[n_scored++] = kl;
            kl_sum += kl;
            agree += nemo_argmax(xb, V) == nemo_argmax(xq, V);
            if (i + 1 < cn) {
                nll_b -= pb[ids[c0 + i + 1]];
                nll_q -= pq[ids[c0 + i + 1]];
                n_next++;
            }
        }
        if (isatty(2)) fprintf(stderr, "\rdivergence: %d / %d tokens", c0 + cn, n);
    }
    if (!rc) {
        if (isatty(2)) fprintf(stderr, "\n");
        qsort(kls, (size_t)n_scored, sizeof *kls, cmp_d);
        printf("base:  %s%s%s\nquant: %s%s%s\ntokens: %d (chunks of %ld)\n", base,
               mode_b ? "  activations " : "", mode_b ? mode_b : "", quant,
               mode_q ? "  activations " : "", mode_q ? mode_q : "", n_scored, ctx);
        printf("mean KL(base||quant): %.6f nats   p99: %.6f   max: %.6f\n", kl_sum / n_scored,
               kls[(int)(0.99 * (n_scored - 1))], kls[n_scored - 1]);
        printf("top-1 agreement: %.2f%% (%d / %d)\n", 100.0 * agree / n_scored, agree, n_scored);
        if (n_next)
            printf("perplexity: base %.4f   quant %.4f\n", exp(nll_b / n_next),
                   exp(nll_q / n_next));
    }
    free(ids);
    free(lb);
    free(lq);
    free(pb);
    free(pq);
    free(kls);
    nemo_session_free(rb.s);
    nemo_session_free(rq.s);
    nemo_model_free(rb.m);
    nemo_model_free(rq.m);
    return rc;
}
