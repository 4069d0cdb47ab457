/* test_core.c — number formats, dtype table, worker pool, file maps. */
#include "core/core.h"
#include "core/pool.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

static void test_bf16_roundtrip(void) {
    CHECK(nemo_bf16_to_f32(0x3f80) == 1.0f);
    CHECK(nemo_f32_to_bf16(1.0f) == 0x3f80);
    /* 1 + 2^-8 is exactly halfway between bf16 1.0 and 1.0078125: ties to even (1.0) */
    CHECK(nemo_f32_to_bf16(1.00390625f) == 0x3f80);
    CHECK(nemo_f32_to_bf16(1.01171875f) == 0x3f82); /* halfway, odd below: rounds up */
}

static void test_f16(void) {
    CHECK(nemo_f16_to_f32(0x3c00) == 1.0f);
    CHECK(nemo_f16_to_f32(0xc000) == -2.0f);
    CHECK(nemo_f16_to_f32(0x0001) == ldexpf(1, -24)); /* smallest subnormal */
    CHECK(nemo_f16_to_f32(0x7bff) == 65504.0f);
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00) continue; /* inf/nan */
        float f = nemo_f16_to_f32((uint16_t)h);
        if (nemo_f32_to_f16(f) != h && !(f == 0 && (h & 0x7fff) == 0)) {
            CHECK_MSG(0, "f16 %04x -> %g -> %04x", h, f, nemo_f32_to_f16(f));
            break;
        }
    }
    CHECK(nemo_f32_to_f16(1e6f) == 0x7c00);
}

static void test_fp8(void) {
    CHECK(nemo_fp8_e4m3_to_f32(0x7e) == 448.0f);
    CHECK(nemo_fp8_e4m3_to_f32(0xfe) == -448.0f);
    CHECK(nemo_fp8_e4m3_to_f32(0x01) == ldexpf(1, -9));
    CHECK(nemo_fp8_e4m3_to_f32(0x38) == 1.0f);
    CHECK(isnan(nemo_fp8_e4m3_to_f32(0x7f)));
}

static void test_dtype_table(void) {
    nemo_dtype t;
    CHECK(nemo_dtype_from_name("BF16", &t) == 0 && t == NEMO_DTYPE_BF16);
    CHECK(nemo_dtype_from_name("q4_k", &t) == 0 && t == NEMO_DTYPE_Q4_K);
    CHECK(nemo_dtype_from_name("F7", &t) != 0);
    CHECK(nemo_dtype_bytes(NEMO_DTYPE_Q4_K, 512) == 288);
    CHECK(nemo_dtype_bytes(NEMO_DTYPE_Q8_0, 33) == 0);
    CHECK(nemo_dtype_bytes(NEMO_DTYPE_BF16, 10) == 20);
}

typedef struct {
    long sum[8];
} pool_ctx;
static void pool_fn(void *c, int ith, int nth) {
    pool_ctx *pc = c;
    long lo, hi;
    nemo_pool_split(1000, ith, nth, &lo, &hi);
    for (long i = lo; i < hi; i++) pc->sum[ith] += i;
}

static void test_pool(void) {
    for (int n = 1; n <= 4; n++) {
        nemo_pool *p = nemo_pool_create(n);
        CHECK(p != NULL);
        for (int rep = 0; rep < 50; rep++) {
            pool_ctx c = {{0}};
            nemo_pool_run(p, pool_fn, &c);
            long s = 0;
            for (int i = 0; i < 8; i++) s += c.sum[i];
            CHECK(s == 999 * 1000 / 2);
        }
        nemo_pool_free(p);
    }
    nemo_pool_free(NULL);
}

/* A large file's map moved into anonymous memory keeps its address and every byte (the weights'
 * pointers into it stay valid); NEMO_MMAP=1 keeps the file map; small files are not moved. */
static void test_map_resident(void) {
    const uint64_t size = (40ull << 20) + 123; /* over the 32 MiB threshold, not page-sized */
    const char *path = test_sub("resident.bin");
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    uint32_t st = 7;
    uint8_t *buf = malloc(1 << 20);
    CHECK(buf != NULL);
    if (!buf) {
        fclose(f);
        return;
    }
    for (uint64_t off = 0; off < size; off += 1 << 20) {
        const uint64_t n = size - off < (1 << 20) ? size - off : (1 << 20);
        for (uint64_t i = 0; i < n; i++) buf[i] = (uint8_t)test_urand(&st);
        CHECK(fwrite(buf, 1, (size_t)n, f) == n);
    }
    CHECK(fclose(f) == 0);
    for (int mode = 0; mode < 2; mode++) {
        if (mode) setenv("NEMO_MMAP", "1", 1);
        nemo_map m;
        nemo_error err = {0};
        CHECK_OK(nemo_map_open(path, &m, &err), &err);
        CHECK(m.size == size && (uintptr_t)m.data % (2u << 20) == 0);
        const uint8_t *before = m.data;
        const int moved = nemo_map_resident(&m, NULL, NULL);
        CHECK(m.data == before && m.size == size);
        if (mode) CHECK(!moved);
        if (!mode && !moved) printf("  (not moved: little memory available)\n");
        st = 7;
        int bad = 0;
        for (uint64_t i = 0; i < size; i++) bad += m.data[i] != (uint8_t)test_urand(&st);
        CHECK_MSG(!bad, "moved %d: %d bytes differ", moved, bad);
        nemo_map_close(&m);
        unsetenv("NEMO_MMAP");
    }
    free(buf);
    remove(path);
}

int main(void) {
    RUN(test_bf16_roundtrip);
    RUN(test_f16);
    RUN(test_fp8);
    RUN(test_dtype_table);
    RUN(test_pool);
    RUN(test_map_resident);
    return test_finish();
}
