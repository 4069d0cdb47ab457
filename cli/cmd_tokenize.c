/* cmd_tokenize.c — `nemo tokenize` (UTF-8 text on stdin -> ids) and `nemo detokenize` (ids on
 * stdin -> text), thin front ends over the nemo.h tokenizer API. `tokenize --batch` reads many
 * length-prefixed strings in one process, for the differential test and the benchmark. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Encodes text, growing the id buffer as needed; prints ids separated by spaces and '\n'. */
static int encode_print(nemo_tokenizer *t, const char *text, size_t len, int bos, int eos,
                        int32_t **ids, size_t *cap) {
    nemo_error err = {0};
    size_t n;
    nemo_status st = nemo_tokenizer_encode(t, text, len, bos, eos, *ids, *cap, &n, &err);
    if (st == NEMO_ERR_FULL) {
        int32_t *nb = realloc(*ids, n * sizeof **ids);
        if (!nb) {
            fprintf(stderr, "nemo tokenize: out of memory\n");
            return 1;
        }
        *ids = nb;
        *cap = n;
        st = nemo_tokenizer_encode(t, text, len, bos, eos, *ids, *cap, &n, &err);
    }
    if (st) return cli_report("tokenize", &err);
    for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", (int)(*ids)[i]);
    putchar('\n');
    return 0;
}

/* --batch: records "LEN\n" + LEN bytes, back to back; one output line per record. With
 * --time, each record's encode time (excluding I/O) goes to stderr as "encode_s S". */
static int run_batch(nemo_tokenizer *t, const char *in, size_t len, int bos, int eos, int timing) {
    size_t cap = 1024;
    int32_t *ids = malloc(cap * sizeof *ids);
    if (!ids) return 1;
    int rc = 0;
    if (timing) {
        /* timing pass first, output pass after, so printing does not count */
        for (size_t p = 0; p < len;) {
            char *end;
            unsigned long long k = strtoull(in + p, &end, 10);
            if (end == in + p || *end != '\n' || k > len - (size_t)(end + 1 - in)) break;
            p = (size_t)(end - in) + 1;
            size_t n;
            nemo_error err = {0};
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            nemo_status st =
                nemo_tokenizer_encode(t, in + p, (size_t)k, bos, eos, ids, cap, &n, &err);
            clock_gettime(CLOCK_MONOTONIC, &b);
            if (st == NEMO_ERR_FULL) { /* grow and time again */
                int32_t *nb = realloc(ids, n * sizeof *ids);
                if (!nb) break;
                ids = nb;
                cap = n;
                clock_gettime(CLOCK_MONOTONIC, &a);
                nemo_tokenizer_encode(t, in + p, (size_t)k, bos, eos, ids, cap, &n, &err);
                clock_gettime(CLOCK_MONOTONIC, &b);
            }
            fprintf(stderr, "encode_s %.6f\n",
                    (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9);
            p += (size_t)k;
        }
    }
    for (size_t p = 0; p < len && !rc;) {
        char *end;
        unsigned long long k = strtoull(in + p, &end, 10);
        if (end == in + p || *end != '\n' || k > len - (size_t)(end + 1 - in)) {
            fprintf(stderr, "nemo tokenize: --batch: bad record header at byte %zu\n", p);
            rc = 1;
            break;
        }
        p = (size_t)(end - in) + 1;
        rc = encode_print(t, in + p, (size_t)k, bos, eos, &ids, &cap);
        p += (size_t)k;
    }
    free(ids);
    return rc;
}

static int open_tok(const char *cmd, const char *path, nemo_tokenizer **t) {
    if (!path) {
        fprintf(stderr, "nemo %s: --tokenizer FILE_OR_MODEL_DIR is required\n", cmd);
        return 2;
    }
    nemo_error err = {0};
    if (nemo_tokenizer_open(path, t, &err)) return cli_report(cmd, &err);
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    const char *path = NULL;
    int bos = 0, eos = 0, batch = 0, timing = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--tokenizer") && i + 1 < argc) {
            path = argv[++i];
        } else if (!strcmp(argv[i], "--bos")) {
            bos = 1;
        } else if (!strcmp(argv[i], "--eos")) {
            eos = 1;
        } else if (!strcmp(argv[i], "--batch")) {
            batch = 1;
        } else if (!strcmp(argv[i], "--time")) {
            timing = 1;
        } else {
            int help = !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
            fprintf(help ? stdout : stderr,
                    "usage: nemo tokenize --tokenizer FILE_OR_MODEL_DIR [--bos] [--eos] "
                    "[--batch [--time]]\n\n"
                    "Reads UTF-8 text on stdin and prints its token ids, separated by spaces, on "
                    "one line.\nThe text is ordinary text: \"[INST]\" is not the control token. "
                    "Invalid UTF-8 bytes\nare encoded as U+FFFD (what mistral-common sees after "
                    "errors=\"replace\");\na .gguf vocabulary encodes as llama.cpp does.\n\n"
                    "  --tokenizer P  a tekken.json, a tokenizer.model* file, a .gguf (its "
                    "vocabulary),\n                 or a model folder\n"
                    "                 (tekken.json preferred, else tokenizer.model.v3/.v2/.v1/"
                    "tokenizer.model)\n"
                    "  --bos, --eos   add the BOS / EOS id\n"
                    "  --batch        stdin holds records \"LEN\\n\" + LEN bytes; prints one line "
                    "per record\n"
                    "  --time         with --batch: also print \"encode_s SECONDS\" per record "
                    "(encoding only)\n                 on stderr\n");
            return help ? 0 : 2;
        }
    }
    nemo_tokenizer *t = NULL;
    int rc = open_tok("tokenize", path, &t);
    if (rc) return rc;
    size_t len;
    char *in = cli_read_all(stdin, &len);
    if (!in) {
        fprintf(stderr, "nemo tokenize: cannot read stdin\n");
        nemo_tokenizer_free(t);
        return 1;
    }
    if (batch) {
        rc = run_batch(t, in, len, bos, eos, timing);
    } else {
        size_t cap = len + 2;
        int32_t *ids = malloc(cap * sizeof *ids);
        rc = ids ? encode_print(t, in, len, bos, eos, &ids, &cap) : 1;
        free(ids);
    }
    free(in);
    nemo_tokenizer_free(t);
    return rc;
}

int cmd_detokenize(int argc, char **argv) {
    const char *path = NULL;
    nemo_special_policy policy = NEMO_SPECIAL_SKIP;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--tokenizer") && i + 1 < argc) {
            path = argv[++i];
        } else if (!strcmp(argv[i], "--special") && i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(v, "skip")) {
                policy = NEMO_SPECIAL_SKIP;
            } else if (!strcmp(v, "keep")) {
                policy = NEMO_SPECIAL_KEEP;
            } else if (!strcmp(v, "error")) {
                policy = NEMO_SPECIAL_ERROR;
            } else {
                fprintf(stderr,
                        "nemo detokenize: --special expects skip, keep or error, got "
                        "'%s'\n",
                        v);
                return 2;
            }
        } else {
            int help = !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
            fprintf(help ? stdout : stderr,
                    "usage: nemo detokenize --tokenizer FILE_OR_MODEL_DIR "
                    "[--special skip|keep|error]\n\n"
                    "Reads token ids (separated by spaces, commas or newlines) on stdin and "
                    "writes the text\nthey decode to, without a trailing newline. Byte sequences "
                    "that are not valid UTF-8\nbecome U+FFFD, as in mistral-common.\n\n"
                    "  --tokenizer P  a tekken.json, a tokenizer.model* file, a .gguf, or a model "
                    "folder\n"
                    "  --special      special/control ids: skip them (default), keep their "
                    "names\n                 (e.g. \"[INST]\"), or fail\n");
            return help ? 0 : 2;
        }
    }
    nemo_tokenizer *t = NULL;
    int rc = open_tok("detokenize", path, &t);
    if (rc) return rc;
    size_t len;
    char *in = cli_read_all(stdin, &len);
    int32_t *ids = NULL;
    int n = 0;
    if (!in || cli_parse_ids(in, &ids, &n)) {
        fprintf(stderr, "nemo detokenize: expected token ids (non-negative integers) on stdin\n");
        free(in);
        nemo_tokenizer_free(t);
        return 1;
    }
    free(in);
    nemo_error err = {0};
    size_t cap = 4096, got = 0;
    char *out = malloc(cap);
    nemo_status st = out ? nemo_tokenizer_decode(t, ids, (size_t)n, policy, out, cap, &got, &err)
                         : NEMO_ERR_NOMEM;
    if (st == NEMO_ERR_FULL) {
        free(out);
        cap = got + 1;
        out = malloc(cap);
        st = out ? nemo_tokenizer_decode(t, ids, (size_t)n, policy, out, cap, &got, &err)
                 : NEMO_ERR_NOMEM;
    }
    if (st) {
        if (!err.msg[0]) err.status = st;
        rc = cli_report("detokenize", &err);
    } else {
        fwrite(out, 1, got, stdout);
    }
    free(out);
    free(ids);
    nemo_tokenizer_free(t);
    return rc;
}
