/* test.h — the unit-test harness: TEST functions with CHECK assertions; each binary ends with
 * a "RESULT <passed> <failed>" line that tests/run.sh adds up. */
#ifndef NEMO_TEST_H
#define NEMO_TEST_H

#include <math.h>
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

#define RUN(fn) test_run(#fn, fn)

#endif
