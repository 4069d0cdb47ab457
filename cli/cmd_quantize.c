/* cmd_quantize.c — `nemo quantize IN OUT.gguf --type T`: a model folder (or GGUF) -> a llama.cpp
 * GGUF in one weight type, with the folder's tekken.json as its vocabulary, through
 * nemo_quantize; a progress bar on a terminal. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(
        f, "usage: nemo quantize IN OUT.gguf --type T [options]\n"
           "\n"
           "Writes a llama-architecture GGUF v3 file (the metadata llama.cpp's converter writes\n"
           "for Mistral NeMo) from a native or HF safetensors folder (BF16, F16, F32 or FP8) or a\n"
           "GGUF. Every 2-D weight gets type T (\"pure\"); norms stay F32.\n"
           "\n"
           "  --type T      q8_0, q4_k, q4_0, f16, bf16, f32, or fp8 (our FP8 GGUF extension:\n"
           "                layer matrices F8_E4M3 with per-tensor scales, embeddings and LM\n"
           "                head bf16; docs/fp8.md; llama.cpp cannot load it)\n"
           "  --vocab FILE  tekken.json to embed as the vocabulary (default: IN/tekken.json if\n"
           "                present; llama.cpp refuses a GGUF without one, our engine does not)\n"
           "  --no-vocab    write no vocabulary\n"
           "  -t N          threads (default: all CPUs)\n"
           "  --quiet       no progress\n");
}

typedef struct {
    int tty, last;
    struct timespec t0;
} bar;

static void on_progress(uint64_t done, uint64_t total, void *user) {
    bar *b = user;
    int pm = total ? (int)(done * 1000 / total) : 1000;
    if (pm == b->last && done != total) return;
    b->last = pm;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double s = (double)(t.tv_sec - b->t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - b->t0.tv_nsec);
    char line[41];
    int fill = pm * 40 / 1000;
    for (int i = 0; i < 40; i++) line[i] = i < fill ? '#' : '.';
    line[40] = 0;
    fprintf(stderr, "\rquantize [%s] %5.1f%% %.2f/%.2f GB %.0fs", line, pm / 10.0,
            (double)done / 1e9, (double)total / 1e9, s);
    if (done == total) fputc('\n', stderr);
}

int cmd_quantize(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *type = NULL, *vocab = NULL;
    int no_vocab = 0, quiet = 0;
    long threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--type") && v) {
            type = v, i++;
        } else if (!strcmp(a, "--vocab") && v) {
            vocab = v, i++;
        } else if (!strcmp(a, "--no-vocab")) {
            no_vocab = 1;
        } else if (!strcmp(a, "-t")) {
            if (cli_int("quantize", a, v, 1, 1024, &threads)) return 2;
            i++;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nemo quantize: unknown option or missing value: %s\n\n", a);
            usage(stderr);
            return 2;
        } else if (!in) {
            in = a;
        } else if (!out) {
            out = a;
        } else {
            fprintf(stderr, "nemo quantize: too many arguments ('%s')\n", a);
            return 2;
        }
    }
    if (!in || !out || !type) {
        usage(stderr);
        return 2;
    }
    nemo_quantize_params p = {0};
    if (!strcmp(type, "fp8") || !strcasecmp(type, "f8_e4m3"))
        p.type = NEMO_DTYPE_F8_E4M3;
    else if (nemo_dtype_from_name(type, &p.type) ||
             !(p.type == NEMO_DTYPE_Q8_0 || p.type == NEMO_DTYPE_Q4_0 ||
               p.type == NEMO_DTYPE_Q4_K || p.type == NEMO_DTYPE_F16 || p.type == NEMO_DTYPE_BF16 ||
               p.type == NEMO_DTYPE_F32)) {
        fprintf(stderr,
                "nemo quantize: --type expects q8_0, q4_k, q4_0, f16, bf16, f32 or fp8, got "
                "'%s'\n",
                type);
        return 2;
    }
    char vpath[4200];
    struct stat sb;
    if (!vocab && !no_vocab && stat(in, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        snprintf(vpath, sizeof vpath, "%s/tekken.json", in);
        if (access(vpath, R_OK) == 0) vocab = vpath;
    }
    p.vocab = no_vocab ? NULL : vocab;
    p.n_threads = (int)threads;
    bar b = {isatty(2), -1, {0, 0}};
    clock_gettime(CLOCK_MONOTONIC, &b.t0);
    if (!quiet && b.tty) {
        p.progress = on_progress;
        p.user = &b;
    }
    nemo_error err = {0};
    if (nemo_quantize(in, out, &p, &err)) return cli_report("quantize", &err);
    if (stat(out, &sb) != 0) sb.st_size = 0;
    printf("%s: %s, %.3f GB, vocabulary: %s\n", out, nemo_dtype_name(p.type),
           (double)sb.st_size / 1e9, p.vocab ? p.vocab : "none (llama.cpp will not load it)");
    return 0;
}
