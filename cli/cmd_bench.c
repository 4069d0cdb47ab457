/* cmd_bench.c — `nemo bench MODEL -p 512 -n 128 -t THREADS [-r REPS] [--csv]`: prompt
 * processing (one batch of p tokens from an empty cache) and generation (n single-token steps
 * from an empty cache) speed in tokens/s, median of r runs after a warm-up, printed as a
 * llama-bench style table (or CSV) so the two can be compared row by row. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void usage(FILE *f) {
    fprintf(f, "usage: nemo bench MODEL [-p N] [-n N] [-t LIST] [-r REPS] [--csv]\n"
               "\n"
               "  -p N      prompt tokens processed in one batch (pp test; default 512; 0 = skip)\n"
               "  -n N      tokens generated one at a time (tg test; default 128; 0 = skip)\n"
               "  -t LIST   thread counts, comma-separated (default: all CPUs)\n"
               "  -r REPS   repetitions; the median is reported (default 5)\n"
               "  --csv     CSV instead of the table: model,size,params,type,threads,test,\n"
               "            tokens,median_ts,mean_ts,stddev_ts,reps\n"
               "Token ids are pseudo-random (fixed seed); each run starts from an empty cache.\n");
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One pp run (n_gen == 0) or tg run (n_prompt == 0): seconds, or -1 on error. */
static double run_once(nemo_session *s, const int32_t *ids, int n_prompt, int n_gen,
                       nemo_error *err) {
    if (nemo_session_seq_truncate(s, 0, 0, err)) return -1;
    int n = n_prompt ? n_prompt : 1;
    int32_t *pos = malloc(sizeof *pos * (size_t)n), *seq = calloc((size_t)n, sizeof *seq);
    if (!pos || !seq) {
        free(pos);
        free(seq);
        return -1;
    }
    double t0 = now();
    nemo_status st = NEMO_OK;
    if (n_prompt) {
        for (int i = 0; i < n_prompt; i++) pos[i] = i;
        nemo_batch b = {n_prompt, ids, pos, seq, NULL};
        st = nemo_session_decode(s, &b, err);
    } else {
        for (int i = 0; i < n_gen && !st; i++) {
            pos[0] = i;
            nemo_batch b = {1, ids + i, pos, seq, NULL};
            st = nemo_session_decode(s, &b, err);
        }
    }
    double t = now() - t0;
    free(pos);
    free(seq);
    return st ? -1 : t;
}

int cmd_bench(int argc, char **argv) {
    const char *path = NULL, *tlist = NULL;
    long n_prompt = 512, n_gen = 128, reps = 5;
    int csv = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-p")) {
            if (cli_int("bench", a, v, 0, 65536, &n_prompt)) return 2;
            i++;
        } else if (!strcmp(a, "-n")) {
            if (cli_int("bench", a, v, 0, 65536, &n_gen)) return 2;
            i++;
        } else if (!strcmp(a, "-r")) {
            if (cli_int("bench", a, v, 1, 1000, &reps)) return 2;
            i++;
        } else if (!strcmp(a, "-t") && v) {
            tlist = v, i++;
        } else if (!strcmp(a, "--csv")) {
            csv = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nemo bench: unknown option or missing value: %s\n\n", a);
            usage(stderr);
            return 2;
        } else if (!path) {
            path = a;
        } else {
            fprintf(stderr, "nemo bench: more than one MODEL\n");
            return 2;
        }
    }
    if (!path || (!n_prompt && !n_gen)) {
        usage(stderr);
        return 2;
    }
    int threads[16], nt = 0;
    if (tlist) {
        const char *s = tlist;
        while (*s && nt < 16) {
            char *end;
            long t = strtol(s, &end, 10);
            if (end == s || t < 1 || t > 1024 || (*end && *end != ',')) {
                fprintf(stderr, "nemo bench: -t expects thread counts like 1,2,4, got '%s'\n",
                        tlist);
                return 2;
            }
            threads[nt++] = (int)t;
            s = *end ? end + 1 : end;
        }
    } else {
        threads[nt++] = 0;
    }

    nemo_error err = {0};
    nemo_model *m = NULL;
    nemo_model_params mp = {0};
    mp.prefault = 1; /* page the weights in before timing */
    if (nemo_model_open_ex(path, &mp, &m, &err)) return cli_report("bench", &err);
    const nemo_config *c = nemo_model_config(m);
    nemo_model_info info;
    nemo_model_get_info(m, &info);
    int n_tok = (int)(n_prompt > n_gen ? n_prompt : n_gen);
    int32_t *ids = malloc(sizeof *ids * (size_t)n_tok);
    double *ts = malloc(sizeof *ts * (size_t)reps);
    if (!ids || !ts) {
        fprintf(stderr, "nemo bench: out of memory\n");
        return 1;
    }
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < n_tok; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        ids[i] = (int32_t)((rng >> 33) % (uint64_t)c->vocab_size);
    }
    const char *name = strrchr(path, '/');
    name = name && name[1] ? name + 1 : path;
    char size[32], params[32];
    double gib = (double)info.weight_bytes / (1024.0 * 1024 * 1024);
    if (gib >= 1)
        snprintf(size, sizeof size, "%.2f GiB", gib);
    else
        snprintf(size, sizeof size, "%.2f MiB", gib * 1024);
    if (info.n_params >= 1000000000ull)
        snprintf(params, sizeof params, "%.2f B", (double)info.n_params / 1e9);
    else
        snprintf(params, sizeof params, "%.2f M", (double)info.n_params / 1e6);
    if (csv)
        printf("model,size,params,type,threads,test,tokens,median_ts,mean_ts,stddev_ts,reps\n");
    else
        printf("| %-28s | %10s | %8s | %-7s | %7s | %6s | %18s |\n"
               "| %.28s | %.10s | %.8s | %.7s | %.7s | %.6s | %.18s |\n",
               "model", "size", "params", "type", "threads", "test", "t/s",
               "----------------------------", "---------:", "-------:", "-------",
               "------:", "-----:", "-----------------:");
    int rc = 0;
    for (int ti = 0; ti < nt && !rc; ti++) {
        nemo_session_params sp = {n_tok + 1, 1, n_prompt > 0 ? (int)n_prompt : 1, threads[ti]};
        nemo_session *s = NULL;
        if (nemo_session_create(m, &sp, &s, &err)) {
            rc = cli_report("bench", &err);
            break;
        }
        int nthr = threads[ti];
        if (!nthr) nthr = -1;
        for (int test = 0; test < 2 && !rc; test++) {
            int np = test == 0 ? (int)n_prompt : 0, ng = test == 1 ? (int)n_gen : 0;
            if (!np && !ng) continue;
            /* warm-up: a short run of the same kind */
            if (run_once(s, ids, np ? (np < 16 ? np : 16) : 0, ng ? 2 : 0, &err) < 0) {
                rc = cli_report("bench", &err);
                break;
            }
            double sum = 0, sq = 0;
            for (int r = 0; r < reps; r++) {
                double t = run_once(s, ids, np, ng, &err);
                if (t < 0) {
                    rc = cli_report("bench", &err);
                    break;
                }
                ts[r] = (np ? np : ng) / t;
                sum += ts[r];
                sq += ts[r] * ts[r];
            }
            if (rc) break;
            qsort(ts, (size_t)reps, sizeof *ts, cmp_d);
            double med = reps % 2 ? ts[reps / 2] : (ts[reps / 2 - 1] + ts[reps / 2]) / 2;
            double mean = sum / reps,
                   sd = reps > 1 ? sqrt(fmax(0, (sq - sum * mean) / (reps - 1))) : 0;
            char tname[16], tps[40], thr[16];
            snprintf(tname, sizeof tname, "%s%d", np ? "pp" : "tg", np ? np : ng);
            if (nthr > 0)
                snprintf(thr, sizeof thr, "%d", nthr);
            else
                snprintf(thr, sizeof thr, "all");
            if (csv) {
                printf("%s,%llu,%llu,%s,%s,%s,%d,%.3f,%.3f,%.3f,%ld\n", name,
                       (unsigned long long)info.weight_bytes, (unsigned long long)info.n_params,
                       nemo_dtype_name(info.main_dtype), thr, tname, np ? np : ng, med, mean, sd,
                       reps);
            } else {
                snprintf(tps, sizeof tps, "%.2f ± %.2f", med, sd);
                /* "±" is two bytes: one more column of padding keeps the table aligned */
                printf("| %-28.28s | %10s | %8s | %-7s | %7s | %6s | %19s |\n", name, size, params,
                       nemo_dtype_name(info.main_dtype), thr, tname, tps);
            }
            fflush(stdout);
        }
        nemo_session_free(s);
    }
    if (!csv && !rc) printf("(t/s: median of %ld runs ± standard deviation)\n", reps);
    free(ids);
    free(ts);
    nemo_model_free(m);
    return rc;
}
