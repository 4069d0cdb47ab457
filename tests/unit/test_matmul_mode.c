/* test_matmul_mode.c — the activation-mode switch (NEMO_MATMUL, read once per process): an
 * unknown value is not silently ignored (nemo_cpu_check and nemo_model_open fail naming it,
 * nemo_cpu_info says so) and the default q8 mode stays in force; nemo_cpu_set_matmul switches
 * modes and refuses unknown ones. A binary of its own: the variable is set before the first
 * kernel query. */
#include "backend/cpu/kernels.h"
#include "test.h"

static void test_bad_env(void) {
    nemo_error err = {0};
    CHECK(nemo_cpu_check(&err) == NEMO_ERR_ARG);
    CHECK_MSG(strstr(err.msg, "NEMO_MATMUL=f32") && strstr(err.msg, "exact"), "%s", err.msg);
    nemo_model *m = NULL;
    err.msg[0] = 0;
    CHECK(nemo_model_open(test_repo_path("tests/golden/gguf/small.gguf"), &m, &err) ==
          NEMO_ERR_ARG);
    CHECK(m == NULL && strstr(err.msg, "NEMO_MATMUL=f32") != NULL);
    char line[1024];
    nemo_cpu_info(line, sizeof line);
    CHECK_MSG(strstr(line, "NEMO_MATMUL=f32 is not a mode") != NULL, "%s", line);
    CHECK(nemo_kernels_q8() == 1); /* the default stays */
}

static void test_set(void) {
    nemo_error err = {0};
    CHECK(nemo_cpu_set_matmul("exact", &err) == NEMO_OK && nemo_kernels_q8() == 0);
    char line[1024];
    nemo_cpu_info(line, sizeof line);
    CHECK_MSG(strstr(line, "activations f32 for every weight type") != NULL, "%s", line);
    CHECK(nemo_cpu_set_matmul("Q8", &err) == NEMO_ERR_ARG && strstr(err.msg, "'Q8'") != NULL);
    CHECK(nemo_kernels_q8() == 0); /* unchanged by the refused call */
    CHECK(nemo_cpu_set_matmul("q8", &err) == NEMO_OK && nemo_kernels_q8() == 1);
    CHECK(nemo_cpu_set_matmul("exact", &err) == NEMO_OK);
    CHECK(nemo_cpu_set_matmul(NULL, &err) == NEMO_OK && nemo_kernels_q8() == 1); /* env's mode */
    nemo_cpu_info(line, sizeof line);
    CHECK_MSG(strstr(line, "activations q8 for Q8_0/Q4_0/Q4_1/Q4_K/Q5_K/Q6_K") != NULL, "%s", line);
}

int main(void) {
    setenv("NEMO_MATMUL", "f32", 1); /* not a mode: "exact" is */
    RUN(test_bad_env);
    RUN(test_set);
    return test_finish();
}
