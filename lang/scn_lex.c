/* scn_lex.c - splits one scenario line into tokens (see scn_lex.h).
 *
 * Indentation is spaces only: a tab would make "the same indentation"
 * depend on the editor, and the parser compares indents exactly.
 */
#include "scn_lex.h"

#include <stdio.h>
#include <string.h>

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_word(char c) { return is_alpha(c) || is_digit(c) || c == '.' || c == '-'; }

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes a string literal starting at text[*i] == '"'. Returns 0 or an
 * error column. */
static uint32_t lex_string(const char *text, size_t len, size_t *i, char *dst, uint32_t *dlen, char *err,
                           size_t errlen) {
    size_t start = *i;
    size_t j = start + 1;
    uint32_t n = 0;
    while (j < len && text[j] != '"') {
        char c = text[j];
        if (c != '\\') {
            dst[n++] = c;
            j++;
            continue;
        }
        if (j + 1 >= len) break;
        char e = text[j + 1];
        switch (e) {
        case 'n': dst[n++] = '\n'; j += 2; break;
        case 't': dst[n++] = '\t'; j += 2; break;
        case 'r': dst[n++] = '\r'; j += 2; break;
        case '0': dst[n++] = '\0'; j += 2; break;
        case '\\': dst[n++] = '\\'; j += 2; break;
        case '"': dst[n++] = '"'; j += 2; break;
        case 'x': {
            int h = j + 2 < len ? hexval(text[j + 2]) : -1;
            int l = j + 3 < len ? hexval(text[j + 3]) : -1;
            if (h < 0 || l < 0) {
                snprintf(err, errlen, "bad escape: \\x needs two hex digits");
                return (uint32_t)j + 1;
            }
            dst[n++] = (char)(h * 16 + l);
            j += 4;
            break;
        }
        default:
            snprintf(err, errlen, "unknown escape '\\%c' (known: \\n \\t \\r \\0 \\\\ \\\" \\xHH)", e);
            return (uint32_t)j + 1;
        }
    }
    if (j >= len) {
        snprintf(err, errlen, "unterminated string");
        return (uint32_t)start + 1;
    }
    *i = j + 1;
    *dlen = n;
    return 0;
}

uint32_t scn_lex_line(const char *text, size_t len, scn_line *out, char *strbuf, char *err, size_t errlen) {
    memset(out, 0, sizeof(out->indent) + sizeof(out->ntok));
    size_t i = 0;
    while (i < len && text[i] == ' ') i++;
    if (i < len && text[i] == '\t') {
        snprintf(err, errlen, "bad indentation: tabs are not allowed, indent with spaces");
        return (uint32_t)i + 1;
    }
    out->indent = (uint32_t)i;
    size_t sb = 0; /* used bytes of strbuf */
    for (;;) {
        while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) i++;
        if (i >= len || text[i] == '#') break;
        if (out->ntok == SCN_LINE_TOKENS) {
            snprintf(err, errlen, "too many tokens on one line (at most %d)", SCN_LINE_TOKENS);
            return (uint32_t)i + 1;
        }
        scn_tok *t = &out->tok[out->ntok];
        t->col = (uint32_t)i + 1;
        t->s = text + i;
        char c = text[i];
        if (is_alpha(c) || is_digit(c)) {
            size_t j = i + 1;
            while (j < len && (is_word(text[j]) || (is_digit(c) && is_alpha(text[j])))) j++;
            t->kind = is_digit(c) ? SCN_T_NUM : SCN_T_IDENT;
            t->len = (uint32_t)(j - i);
            i = j;
        } else if (c == '"') {
            uint32_t dlen = 0;
            uint32_t ecol = lex_string(text, len, &i, strbuf + sb, &dlen, err, errlen);
            if (ecol != 0) return ecol;
            t->kind = SCN_T_STR;
            t->s = strbuf + sb;
            t->len = dlen;
            sb += dlen;
        } else if ((c == '<' || c == '>') && i + 1 < len && text[i + 1] == '=') {
            t->kind = SCN_T_CMP;
            t->len = 2;
            i += 2;
        } else if (strchr("=:{}(),", c) != NULL) {
            t->kind = SCN_T_PUNCT;
            t->len = 1;
            i++;
        } else {
            if (c == '<' || c == '>')
                snprintf(err, errlen, "unexpected '%c' (comparisons are <= and >=)", c);
            else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
                snprintf(err, errlen, "unexpected character (byte 0x%02x)", (unsigned char)c);
            else
                snprintf(err, errlen, "unexpected character '%c'", c);
            return (uint32_t)i + 1;
        }
        out->ntok++;
    }
    out->tok[out->ntok].kind = SCN_T_END;
    out->tok[out->ntok].col = (uint32_t)i + 1;
    out->tok[out->ntok].s = text + i;
    out->tok[out->ntok].len = 0;
    return 0;
}

int scn_tok_is(const scn_tok *t, const char *word) {
    if (t->kind != SCN_T_IDENT && t->kind != SCN_T_PUNCT && t->kind != SCN_T_CMP) return 0;
    size_t n = strlen(word);
    return t->len == n && memcmp(t->s, word, n) == 0;
}
