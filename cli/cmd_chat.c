/* cmd_chat.c — `nemo chat MODEL`: an interactive multi-turn conversation. On a terminal lines
 * are read with libedit (editing, history); otherwise one user message per stdin line, so it
 * can be scripted. The KV cache is kept across turns (gen.c decodes only what differs from
 * the cached prefix). Ctrl-C during an answer stops it: the partial answer stays in the
 * conversation and the prompt returns; Ctrl-C or Ctrl-D at the prompt exits. */
#include "cli.h"
#include "convo.h"
#include "gen.h"

#include <editline/readline.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

static volatile sig_atomic_t g_interrupt;

static void on_sigint(int sig) {
    (void)sig;
    g_interrupt = 1;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: nemo chat MODEL [options]\n"
            "\n"
            "Interactive chat in the tokenizer's chat template (instruct models). On a terminal\n"
            "lines are edited with libedit (arrows, history); when stdin is not a terminal each\n"
            "line is one user message (for scripts and pipes). Answers stream to stdout; the\n"
            "KV cache is kept between turns, so only new tokens are decoded.\n"
            "Ctrl-C during an answer stops it (the partial answer stays in the conversation);\n"
            "Ctrl-C or Ctrl-D at the prompt exits.\n"
            "\n"
            "commands:\n"
            "  /help          this list\n"
            "  /reset         forget the conversation (system prompt and tools stay)\n"
            "  /system TEXT   set the system prompt (empty TEXT: none) and start over\n"
            "  /tool TEXT     the result of the model's next pending tool call\n"
            "  /quit, /exit   leave\n"
            "\n");
    gen_opts_help(f, 1);
}

static void commands_help(void) {
    printf("/help  /reset  /system TEXT  /tool TEXT  /quit   (Ctrl-C stops an answer, Ctrl-D "
           "exits)\n");
}

/* libedit reads through this, so a Ctrl-C at the prompt ends readline (EOF) instead of being
 * retried after the signal handler ran. SIGINT stays blocked except inside pselect, so a
 * Ctrl-C that lands between the flag check and the wait is not lost. */
static int chat_getc(FILE *f) {
    int fd = fileno(f), rc = EOF;
    sigset_t block, orig;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &orig);
    sigdelset(&orig, SIGINT);
    for (;;) {
        if (g_interrupt) break;
        fd_set r;
        FD_ZERO(&r);
        FD_SET(fd, &r);
        int k = pselect(fd + 1, &r, NULL, NULL, NULL, &orig);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) break;
        unsigned char c;
        ssize_t n = read(fd, &c, 1);
        if (n == 1) {
            rc = c;
            break;
        }
        if (n < 0 && errno == EINTR) continue;
        break; /* end of input or an error */
    }
    pthread_sigmask(SIG_UNBLOCK, &block, NULL);
    return rc;
}

/* One line of input without its newline (malloc'd), or NULL at the end of input. */
static char *read_line(int tty) {
    if (tty) {
        char *l = readline("> ");
        if (l && *l) add_history(l);
        return l;
    }
    char *l = NULL;
    size_t cap = 0;
    ssize_t n = getline(&l, &cap, stdin);
    if (n < 0) {
        free(l);
        return NULL;
    }
    while (n > 0 && (l[n - 1] == '\n' || l[n - 1] == '\r')) l[--n] = 0;
    return l;
}

/* One turn: encode the conversation, generate, show, keep the answer. */
static int answer(gen_ctx *g, convo *c, const gen_opts *o) {
    nemo_error err = {0};
    int32_t *ids = NULL;
    size_t n = 0;
    if (convo_encode(c, gen_tokenizer(g), &ids, &n, &err)) {
        cli_report("chat", &err);
        return 1;
    }
    gen_result r;
    g_interrupt = 0;
    int rc = gen_generate(g, ids, (int)n, stdout, &g_interrupt, &r);
    free(ids);
    int has_calls = r.calls && r.calls->has_marker;
    if (r.content_len ? r.content[r.content_len - 1] != '\n' : !has_calls) putchar('\n');
    gen_print_calls("chat", r.calls, stdout);
    fflush(stdout);
    if (r.why == GEN_STOP_INTERRUPT) fprintf(stderr, "[interrupted]\n");
    if (!rc && !o->quiet) gen_print_timing("chat", &r);
    int calls = has_calls && !r.calls->malformed && r.calls->n_calls > 0;
    if (!rc && (r.content_len || calls)) {
        rc = convo_add_answer(c, r.content, r.content_len, r.calls) ? 1 : 0;
        if (!rc && calls)
            fprintf(stderr, "(%d tool call%s: give %s with /tool TEXT)\n", r.calls->n_calls,
                    r.calls->n_calls > 1 ? "s" : "",
                    r.calls->n_calls > 1 ? "results" : "the result");
    } else {
        /* nothing to keep: the user's message goes too, so roles keep alternating */
        if (!rc && has_calls)
            fprintf(stderr,
                    "(the unparsable tool call above was not kept: this turn is dropped)\n");
        else if (!rc)
            fprintf(stderr, "(empty answer: this turn was not kept)\n");
        rc = 1;
    }
    nemo_tool_calls_free(r.calls);
    g_interrupt = 0;
    return rc;
}

/* A /command. Returns 1 to leave, 0 to go on. */
static int command(const char *line, gen_ctx *g, convo *c, const gen_opts *o) {
    const char *arg = strchr(line, ' ');
    size_t name_len = arg ? (size_t)(arg - line) : strlen(line);
    if (arg) arg++;
#define IS(s) (name_len == strlen(s) && !strncmp(line, s, name_len))
    if (IS("/quit") || IS("/exit")) return 1;
    if (IS("/help")) {
        commands_help();
    } else if (IS("/reset")) {
        convo_reset(c);
        gen_reset_cache(g);
        fprintf(stderr, "(conversation cleared)\n");
    } else if (IS("/system")) {
        if (convo_set_system(c, arg)) {
            fprintf(stderr, "nemo chat: out of memory\n");
            return 1;
        }
        convo_reset(c);
        gen_reset_cache(g);
        fprintf(stderr, arg && *arg ? "(system prompt set; conversation cleared)\n"
                                    : "(system prompt removed; conversation cleared)\n");
    } else if (IS("/tool")) {
        int r = convo_add_tool_result(c, arg ? arg : "", arg ? strlen(arg) : 0);
        if (r == -1)
            fprintf(stderr, "(no tool call is waiting for a result)\n");
        else if (r == 0 && convo_pending_calls(c) == 0)
            answer(g, c, o); /* all results given: the model goes on (results stay either way) */
        else if (r == 0)
            fprintf(stderr, "(%d more result%s expected)\n", convo_pending_calls(c),
                    convo_pending_calls(c) > 1 ? "s" : "");
    } else {
        fprintf(stderr, "(unknown command %.*s; /help lists them)\n", (int)name_len, line);
    }
#undef IS
    return 0;
}

int cmd_chat(int argc, char **argv) {
    gen_opts o;
    gen_opts_init(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            gen_opts_free(&o);
            return 0;
        }
        int k = gen_opts_flag("chat", argc, argv, &i, &o);
        if (k < 0) {
            gen_opts_free(&o);
            return 2;
        }
        if (k) continue;
        if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nemo chat: unknown option '%s' (see nemo chat --help)\n", a);
            gen_opts_free(&o);
            return 2;
        }
        if (o.model) {
            fprintf(stderr, "nemo chat: unexpected argument '%s'\n", a);
            gen_opts_free(&o);
            return 2;
        }
        o.model = a;
    }
    if (!o.model || o.raw) {
        fprintf(stderr, o.raw ? "nemo chat: --raw is for nemo run (chat needs the template)\n"
                              : "nemo chat: MODEL is required (see nemo chat --help)\n");
        gen_opts_free(&o);
        return 2;
    }
    /* worker threads start inside gen_open and inherit this mask: SIGINT must reach the main
     * thread, so that it interrupts a blocked read at the prompt */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    convo *c = convo_create("chat", o.system, o.tools_file);
    gen_ctx *g = c ? gen_open("chat", &o) : NULL;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!g) {
        convo_free(c);
        gen_close(g);
        gen_opts_free(&o);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint; /* no SA_RESTART: a blocked read returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    int tty = isatty(0);
    if (tty) {
        rl_catch_signals = 0;
        rl_getc_function = chat_getc;
        using_history();
        if (!o.quiet) fprintf(stderr, "nemo chat: /help for commands, Ctrl-D to quit\n");
    }
    for (;;) {
        g_interrupt = 0;
        char *line = read_line(tty);
        if (!line || g_interrupt) { /* Ctrl-D, Ctrl-C at the prompt, or the end of input */
            if (tty) fputc('\n', stdout);
            free(line);
            break;
        }
        int quit = 0;
        if (line[0] == '/') {
            quit = command(line, g, c, &o);
        } else if (line[0]) {
            if (convo_pending_calls(c) > 0)
                fprintf(stderr, "(%d tool call%s still without a result: /tool TEXT gives one)\n",
                        convo_pending_calls(c), convo_pending_calls(c) > 1 ? "s" : "");
            if (convo_add(c, "user", line, strlen(line)))
                quit = 1;
            else if (answer(g, c, &o))
                convo_pop(c);
        }
        free(line);
        if (quit) break;
    }
    convo_free(c);
    gen_close(g);
    gen_opts_free(&o);
    return 0;
}
