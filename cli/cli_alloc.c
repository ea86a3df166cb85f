/* cli_alloc.c - allocation for the command line: every allocation of cli/
 * goes through these, so none is left unchecked. On failure the command
 * cannot go on with a true report, so it says so and exits with 3 (internal
 * error) instead of writing a wrong one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void *checked(void *p, size_t n) {
    if (p != NULL) return p;
    fflush(stdout); /* what was reported so far stays in order before the message */
    fprintf(stderr, "iocpcheck: out of memory (%zu bytes): stopped, the report would be incomplete\n", n);
    exit(CLI_EXIT_INTERNAL);
}

void *cli_xmalloc(size_t n) { return checked(malloc(n > 0 ? n : 1), n); }

void *cli_xcalloc(size_t n, size_t size) {
    if (size != 0 && n > SIZE_MAX / size) return checked(NULL, SIZE_MAX);
    return checked(calloc(n > 0 ? n : 1, size > 0 ? size : 1), n * size);
}

void *cli_xrealloc(void *p, size_t n) { return checked(realloc(p, n > 0 ? n : 1), n); }

char *cli_xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(cli_xmalloc(n), s, n);
}
