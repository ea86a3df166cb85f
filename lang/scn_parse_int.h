/* scn_parse_int.h - the parser's state and helpers, shared by scn_parse.c
 * (statements) and scn_steps.c (thread steps and expectations).
 */
#ifndef IOCPCHECK_RUNNER_SCN_PARSE_INT_H
#define IOCPCHECK_RUNNER_SCN_PARSE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scn_ast.h"
#include "scn_ext.h"
#include "scn_lex.h"

typedef struct scn_parser {
    scn_scenario *s;
    const char *path;
    char *err;
    size_t errlen;
    bool failed;
    uint32_t line;      /* current line, 1-based */
    int32_t cur;        /* the thread whose steps are being read, or -1 */
    uint32_t indent;    /* its steps' indentation (0: not seen yet) */
    uint32_t name_line; /* line of the `scenario` statement */
    char **later;       /* result names assigned anywhere (pre-scan) */
    uint32_t nlater, cap_later;
    uint32_t cap_sockets, cap_threads, cap_steps, cap_finals, cap_results, cap_items, cap_bytes, cap_scheds,
        cap_knobs;
    char tbuf[48]; /* a token's text for a message */
} scn_parser;

/* Writes "path:line:col: message" (the first error only); returns false. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
bool scn__err(scn_parser *P, uint32_t col, const char *fmt, ...);
const char *scn__text(scn_parser *P, const scn_tok *t);
bool scn__end(scn_parser *P, const scn_tok *t);
bool scn__grow(void **arr, uint32_t *cap, uint32_t n, size_t elem);
bool scn__tok_eq(const scn_tok *t, const char *s);
bool scn__int(scn_parser *P, const scn_tok *t, int64_t min, int64_t max, const char *what, int64_t *out);
bool scn__dur(scn_parser *P, const scn_tok *t, int64_t *out);
bool scn__name_ok(scn_parser *P, const scn_tok *t, const char *what);
int32_t scn__find_socket(const scn_scenario *s, const char *name, size_t n);
int32_t scn__find_result(const scn_scenario *s, const char *name, size_t n);
bool scn__known_later(const scn_parser *P, const scn_tok *t);

/* scn_steps.c */
bool scn__step_known(const scn_tok *t);
bool scn__thread_step(scn_parser *P, const scn_line *L);
bool scn__final_expect(scn_parser *P, const scn_tok *t);
/* `listen [N]`, `dial L`, `accept L` at t[*i] of a socket statement (scn_steps.c). */
bool scn__socket_kind(scn_parser *P, const scn_tok *t, uint32_t *i, scn_socket *k);

#endif
