/* scn_lex.h - the scenario lexer: one line at a time into tokens.
 *
 * The language is line-oriented (one statement a line, `#` comments,
 * indentation only for thread steps), so the lexer works per line and the
 * parser never looks across lines. Tokens point into the source text; string
 * literals are decoded into a buffer the caller provides.
 */
#ifndef IOCPCHECK_RUNNER_SCN_LEX_H
#define IOCPCHECK_RUNNER_SCN_LEX_H

#include <stddef.h>
#include <stdint.h>

#define SCN_LINE_TOKENS 48 /* tokens on one line */

typedef enum scn_tok_kind {
    SCN_T_END = 0, /* end of the line (or a comment) */
    SCN_T_IDENT,   /* [A-Za-z_][A-Za-z0-9_.-]*  (dots: s.peer) */
    SCN_T_NUM,     /* [0-9][0-9A-Za-z.]*  (a count or a duration: 15.625ms) */
    SCN_T_STR,     /* "..." decoded */
    SCN_T_PUNCT,   /* one of = : { } ( ) , */
    SCN_T_CMP,     /* <= or >= */
} scn_tok_kind;

typedef struct scn_tok {
    uint8_t kind;
    uint32_t col;      /* 1-based */
    const char *s;     /* source text (for SCN_T_STR: the decoded bytes) */
    uint32_t len;
} scn_tok;

typedef struct scn_line {
    uint32_t indent;   /* leading spaces */
    uint32_t ntok;     /* tokens before SCN_T_END */
    scn_tok tok[SCN_LINE_TOKENS + 1];
} scn_line;

/* Tokenizes the line [text, text+len) (no newline). String bytes are decoded
 * into `strbuf` (at least len bytes). Returns 0, or the column of an error
 * with a message in err. */
uint32_t scn_lex_line(const char *text, size_t len, scn_line *out, char *strbuf, char *err, size_t errlen);

/* True if the token is the identifier or punctuation `word`. */
int scn_tok_is(const scn_tok *t, const char *word);

#endif
