/* cmd_encode_chat.c — `nemo encode-chat --tokenizer FILE_OR_MODEL_DIR < request.json`: an
 * OpenAI-style chat request on stdin -> the prompt token ids (as mistral-common's
 * encode_chat_completion gives them), separated by spaces. `--text` prints the prompt decoded
 * with control tokens by name instead, for reading. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int usage(FILE *f) {
    fprintf(f, "usage: nemo encode-chat --tokenizer FILE_OR_MODEL_DIR [--text] < request.json\n"
               "  request: {\"messages\": [...], \"tools\": [...], \"continue_final_message\": "
               "false}\n"
               "  prints the prompt token ids separated by spaces (--text: the prompt as text)\n");
    return f == stdout ? 0 : 2;
}

int cmd_encode_chat(int argc, char **argv) {
    const char *tok_path = NULL;
    int as_text = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout);
        if (!strcmp(argv[i], "--tokenizer") && i + 1 < argc)
            tok_path = argv[++i];
        else if (!strcmp(argv[i], "--text"))
            as_text = 1;
        else {
            fprintf(stderr, "nemo encode-chat: unexpected argument '%s'\n", argv[i]);
            return usage(stderr);
        }
    }
    if (!tok_path) {
        fprintf(stderr, "nemo encode-chat: --tokenizer is required\n");
        return usage(stderr);
    }
    size_t len = 0;
    char *req = cli_read_all(stdin, &len);
    if (!req) {
        fprintf(stderr, "nemo encode-chat: cannot read the request from stdin\n");
        return 1;
    }
    nemo_error err = {0};
    nemo_tokenizer *t = NULL;
    nemo_chat *c = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = 0;
    if (nemo_tokenizer_open(tok_path, &t, &err) || nemo_chat_parse(req, len, &c, &err) ||
        nemo_chat_encode(c, t, &ids, &n, &err)) {
        rc = cli_report("encode-chat", &err);
    } else if (as_text) {
        size_t cap = 16 * n + 64, got = 0;
        char *txt = malloc(cap);
        nemo_status st =
            txt ? nemo_tokenizer_decode(t, ids, n, NEMO_SPECIAL_KEEP, txt, cap, &got, &err)
                : NEMO_ERR_NOMEM;
        if (st == NEMO_ERR_FULL) {
            free(txt);
            cap = got + 1;
            txt = malloc(cap);
            st = txt ? nemo_tokenizer_decode(t, ids, n, NEMO_SPECIAL_KEEP, txt, cap, &got, &err)
                     : NEMO_ERR_NOMEM;
        }
        if (st == NEMO_OK) {
            fwrite(txt, 1, got, stdout);
            putchar('\n');
        } else if (st == NEMO_ERR_NOMEM) {
            fprintf(stderr, "nemo encode-chat: out of memory\n");
            rc = 1;
        } else {
            rc = cli_report("encode-chat", &err);
        }
        free(txt);
    } else {
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", (int)ids[i]);
        putchar('\n');
    }
    free(ids);
    nemo_chat_free(c);
    nemo_tokenizer_free(t);
    free(req);
    return rc;
}
