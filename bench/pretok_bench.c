/* pretok_bench.c — the Tekken pre-tokenizer, hand-written (src/tokenizer/tekken_pretok.c)
 * against PCRE2 with JIT running the same pattern, on one text file: throughput of the
 * find-all loop, and a check that both split the text identically. This is the measurement
 * behind choosing our own matcher over the Debian regex library (see tekken_pretok.c).
 *
 * Build and run (needs libpcre2-dev; not part of the main build):
 *   cc -O2 -std=c11 -D_DEFAULT_SOURCE -Iinclude -Isrc bench/pretok_bench.c \
 *      src/tokenizer/tekken_pretok.c src/tokenizer/unicode_tables.c src/tokenizer/utf8.c \
 *      -lpcre2-8 -o build/pretok_bench && build/pretok_bench FILE...
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/tekken.h"
#include "tokenizer/unicode.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char PATTERN[] =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|"
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|"
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int errc;
    PCRE2_SIZE erro;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)PATTERN, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &errc, &erro, NULL);
    if (!re || pcre2_jit_compile(re, PCRE2_JIT_COMPLETE)) {
        fprintf(stderr, "pcre2 compile/JIT failed\n");
        return 1;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    printf("| file | MB | PCRE2-JIT MB/s | nemo.c MB/s | ratio | same split |\n");
    printf("|---|---:|---:|---:|---:|---|\n");
    for (int a = 1; a < argc; a++) {
        FILE *f = fopen(argv[a], "rb");
        if (!f) continue;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *s = malloc((size_t)n + 1);
        if (fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
        fclose(f);
        n = (long)nemo_utf8_valid_prefix(s, (size_t)n); /* PCRE2 gets valid UTF-8 only */
        double best_p = 1e9, best_o = 1e9;
        size_t pieces_p = 0, pieces_o = 0, same = 1;
        for (int r = 0; r < 5; r++) {
            double t0 = now();
            pieces_p = 0;
            for (size_t i = 0; i < (size_t)n;) {
                if (pcre2_jit_match(re, s, (size_t)n, i, 0, md, NULL) < 0) break;
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                i = ov[1] > i ? ov[1] : i + 1;
                pieces_p++;
            }
            double t1 = now();
            pieces_o = 0;
            for (size_t i = 0; i < (size_t)n; pieces_o++)
                i = nemo_tekken_pretok_next(s, (size_t)n, i);
            double t2 = now();
            best_p = t1 - t0 < best_p ? t1 - t0 : best_p;
            best_o = t2 - t1 < best_o ? t2 - t1 : best_o;
        }
        /* same split: compare piece ends */
        for (size_t i = 0; i < (size_t)n && same;) {
            size_t e = nemo_tekken_pretok_next(s, (size_t)n, i);
            if (pcre2_jit_match(re, s, (size_t)n, i, 0, md, NULL) < 0) {
                same = 0;
                break;
            }
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            same = ov[0] == i && ov[1] == e;
            i = e;
        }
        double mb = (double)n / 1e6;
        printf("| %s | %.2f | %.1f | %.1f | %.1fx | %s |\n", argv[a], mb, mb / best_p, mb / best_o,
               best_p / best_o, same && pieces_p == pieces_o ? "yes" : "NO");
        free(s);
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return 0;
}
