/* main.c - the iocpcheck command line.
 *
 * Exit codes: 0 passed, 1 a property failed, 2 bad usage or input,
 * 3 internal error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

#define IOCPCHECK_VERSION "0.1.0"

static void usage(FILE *out) {
    fprintf(out,
            "usage: iocpcheck COMMAND [OPTIONS]\n"
            "\n"
            "commands:\n"
            "  demo [--seed N] [--seeds N] [--trace] [--replay-lost-update SCHEDULE]\n"
            "            run the engine's demonstration programs: find a lost update,\n"
            "            replay it from its schedule, find a deadlock, time a wait\n"
            "  version   print the version\n"
            "  help      this text\n"
            "\n"
            "exit codes: 0 passed, 1 a property failed, 2 bad usage or input, 3 internal error\n");
}

static int bad_usage(const char *fmt, const char *arg) {
    fprintf(stderr, "iocpcheck: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(run 'iocpcheck help' for usage)\n");
    return 2;
}

static int parse_u64(const char *s, uint64_t *out) {
    if (s == NULL || *s == 0 || *s == '-') return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || *end != 0) return 0;
    *out = v;
    return 1;
}

static int cmd_demo(const char *argv0, int argc, char **argv) {
    uint64_t seed = 1, seeds = 1000;
    int trace = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0) {
            if (!parse_u64(i + 1 < argc ? argv[++i] : NULL, &seed))
                return bad_usage("--seed needs a non-negative integer, got '%s'", i < argc ? argv[i] : "");
        } else if (strcmp(argv[i], "--seeds") == 0) {
            if (!parse_u64(i + 1 < argc ? argv[++i] : NULL, &seeds) || seeds == 0 || seeds > UINT32_MAX)
                return bad_usage("--seeds needs an integer from 1 to 4294967295, got '%s'", i < argc ? argv[i] : "");
        } else if (strcmp(argv[i], "--replay-lost-update") == 0) {
            if (i + 1 >= argc) return bad_usage("%s needs a schedule string", argv[i]);
            return demo_replay_lost_update(argv[i + 1]);
        } else if (strcmp(argv[i], "--trace") == 0) {
            trace = 1;
        } else {
            return bad_usage("demo: unknown option '%s'", argv[i]);
        }
    }
    return demo_main(argv0, seed, (uint32_t)seeds, trace);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "demo") == 0) return cmd_demo(argv[0], argc - 2, argv + 2);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("iocpcheck %s\n", IOCPCHECK_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    return bad_usage("unknown command '%s'", cmd);
}
