/* test.h — the unit-test harness: TEST functions with CHECK assertions; each binary ends with
 * a "RESULT <passed> <failed>" line that tests/run.sh adds up. */
#ifndef NEMO_TEST_H
#define NEMO_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int test_failed_checks; /* checks failed in the current TEST */
extern const char *test_current;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            test_failed_checks++;                                                                  \
            fprintf(stderr, "  FAIL %s:%d in %s: %s\n", __FILE__, __LINE__, test_current, #cond);  \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            test_failed_checks++;                                                                  \
            fprintf(stderr, "  FAIL %s:%d in %s: %s: ", __FILE__, __LINE__, test_current, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

/* Checks that an expression returning nemo_status succeeded; prints err on failure. */
#define CHECK_OK(expr, errp)                                                                       \
    do {                                                                                           \
        nemo_status st_ = (expr);                                                                  \
        CHECK_MSG(st_ == NEMO_OK, "%s", (errp)->msg);                                              \
    } while (0)

typedef void (*test_fn)(void);
/* Runs one test and records the result. */
void test_run(const char *name, test_fn fn);
/* Prints the RESULT line; returns the process exit code. */
int test_finish(void);
/* A scratch directory for this test binary (created on first use, under $NEMO_TEST_TMP). */
const char *test_tmpdir(void);
/* Path of a file under the repository root ($NEMO_ROOT or "."). Static buffer. */
const char *test_repo_path(const char *rel);
/* test_tmpdir()/name. From a ring of 8 static buffers: valid until 8 more test_sub calls
 * (test_file_in calls do not reuse them). */
const char *test_sub(const char *name);
/* dir/name, from a ring of 8 static buffers of its own: valid until 8 more test_file_in calls. */
const char *test_file_in(const char *dir, const char *name);

#define RUN(fn) test_run(#fn, fn)

/* A seeded linear congruential generator for test data (each test keeps its own state, so its
 * data does not depend on other tests): the next 24 random bits, and a float uniform in
 * [-1, 1) made from them. */
static inline uint32_t test_urand(uint32_t *state) {
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}
static inline float test_frand(uint32_t *state) {
    return (float)test_urand(state) / (float)(1u << 23) - 1.0f;
}

/* a and b have the same bits (any two NaNs count as equal: payloads are not a contract). */
static inline int test_same_bits(float a, float b) {
    if (isnan(a) && isnan(b)) return 1;
    uint32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    return x == y;
}

#endif
