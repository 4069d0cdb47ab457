/* harness.c — shared runner state of tests/unit/test.h (linked into every test binary). */
#include "test.h"

#include <sys/stat.h>
#include <unistd.h>

int test_failed_checks;
const char *test_current = "";
static int passed, failed;

void test_run(const char *name, test_fn fn) {
    test_current = name;
    test_failed_checks = 0;
    fn();
    if (test_failed_checks) {
        failed++;
        fprintf(stderr, "FAIL %s\n", name);
    } else {
        passed++;
        fprintf(stderr, "ok   %s\n", name);
    }
}

int test_finish(void) {
    printf("RESULT %d %d\n", passed, failed);
    return failed ? 1 : 0;
}

const char *test_tmpdir(void) {
    static char dir[1024];
    if (!dir[0]) {
        const char *base = getenv("NEMO_TEST_TMP");
        if (!base) base = "/tmp";
        snprintf(dir, sizeof dir, "%s/t%ld", base, (long)getpid());
        mkdir(base, 0777);
        mkdir(dir, 0777);
    }
    return dir;
}

const char *test_repo_path(const char *rel) {
    static char buf[2048];
    const char *root = getenv("NEMO_ROOT");
    snprintf(buf, sizeof buf, "%s/%s", root ? root : ".", rel);
    return buf;
}

/* One ring per function, on purpose: tests keep a folder from test_sub in a variable and call
 * test_file_in on it many times (test_synth's shard test makes 8 such calls on one folder).
 * Were both on one ring, the 8th call would write the buffer that holds the folder while
 * snprintf reads it as its argument: an overlapping copy, a garbled path. */
const char *test_sub(const char *name) {
    static char buf[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", test_tmpdir(), name);
    return buf[k];
}

const char *test_file_in(const char *dir, const char *name) {
    static char buf[8][2048];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}
