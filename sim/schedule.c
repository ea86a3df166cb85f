/* schedule.c - the printed form of a decision stream.
 *
 * Grammar (documented in sim.h): tokens "<letter><label>[x<count>]"
 * separated by ',' or white space. Runs of the same decision are written
 * once with a repeat count, so a long stretch of "thread 0 goes on" costs a
 * few characters. Parse errors name the 1-based column.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define SCHEDULE_MAX_DECISIONS 100000000u

/* Appends the decimal form of v at tok[w]; returns the new length. Written
 * by hand: every execution of fuzz and bench formats its schedule, and
 * snprintf per token was over half of an execution's instructions. */
static int put_u32(char *tok, int w, uint32_t v) {
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0) tok[w++] = digits[--n];
    return w;
}

size_t sim_schedule_format(const sim_decision *d, uint32_t count, char *buf, size_t buflen) {
    size_t used = 0;
    for (uint32_t i = 0; i < count;) {
        uint32_t j = i + 1;
        while (j < count && d[j].kind == d[i].kind && d[j].label == d[i].label) j++;
        char tok[32]; /* ',' letter, 10 digits, 'x', 10 digits */
        int w = 0;
        if (i) tok[w++] = ',';
        tok[w++] = sim_choice_letter((sim_choice_kind)d[i].kind);
        if (d[i].kind == SIM_CHOICE_THREAD && d[i].label == SIM_KERNEL_LABEL)
            tok[w++] = 'k';
        else
            w = put_u32(tok, w, d[i].label);
        if (j - i > 1) {
            tok[w++] = 'x';
            w = put_u32(tok, w, j - i);
        }
        if (used + (size_t)w < buflen) memcpy(buf + used, tok, (size_t)w);
        used += (size_t)w;
        i = j;
    }
    if (buflen > 0) buf[used < buflen ? used : buflen - 1] = 0;
    return used;
}

/* got: the offending character; 0: the end of the schedule; -1: nothing
 * to quote (msg says it all). */
static bool fail(char *err, size_t errlen, size_t col, const char *msg, int got) {
    if (got < 0)
        snprintf(err, errlen, "col %zu: %s", col, msg);
    else if (got == 0)
        snprintf(err, errlen, "col %zu: %s, got the end of the schedule", col, msg);
    else if (isprint((unsigned char)got))
        snprintf(err, errlen, "col %zu: %s, got '%c'", col, msg, got);
    else
        snprintf(err, errlen, "col %zu: %s, got byte 0x%02x", col, msg, (unsigned char)got);
    return false;
}

/* Reads a decimal number at text[*i]; false on no digits or overflow. */
static bool read_number(const char *text, size_t *i, uint64_t max, uint64_t *out) {
    if (!isdigit((unsigned char)text[*i])) return false;
    uint64_t v = 0;
    while (isdigit((unsigned char)text[*i])) {
        v = v * 10 + (uint64_t)(text[*i] - '0');
        if (v > max) return false;
        (*i)++;
    }
    *out = v;
    return true;
}

bool sim_schedule_parse(const char *text, sim_schedule *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    uint32_t cap = 0;
    size_t i = 0;
    bool need_token = false; /* after a ',' */
    for (;;) {
        while (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r') i++;
        if (text[i] == 0) {
            if (need_token) break;
            return true;
        }
        size_t tok_col = i + 1;
        int kind = sim_choice_from_letter(text[i]);
        if (kind < 0) {
            char msg[96] = "expected a choice letter (";
            for (int k = 0; k < SIM_CHOICE__COUNT; k++) {
                size_t l = strlen(msg);
                snprintf(msg + l, sizeof msg - l, "%s%c", k ? " " : "", sim_choice_letter((sim_choice_kind)k));
            }
            strncat(msg, ")", sizeof msg - strlen(msg) - 1);
            sim_schedule_free(out);
            return fail(err, errlen, i + 1, msg, text[i]);
        }
        i++;
        uint64_t label, count = 1;
        size_t at = i;
        if (kind == SIM_CHOICE_THREAD && text[i] == 'k') {
            label = SIM_KERNEL_LABEL;
            i++;
        } else if (!read_number(text, &i, UINT32_MAX - 1, &label)) {
            sim_schedule_free(out);
            return fail(err, errlen, at + 1,
                        isdigit((unsigned char)text[at]) ? "label too large (at most 4294967294)" : "expected a decimal label",
                        isdigit((unsigned char)text[at]) ? -1 : text[at]);
        }
        if (text[i] == 'x') {
            i++;
            at = i;
            if (!read_number(text, &i, SCHEDULE_MAX_DECISIONS, &count) || count == 0) {
                sim_schedule_free(out);
                /* Name what is wrong: no count, a zero, or too many. */
                if (!isdigit((unsigned char)text[at]))
                    return fail(err, errlen, at + 1, "expected a repeat count from 1 to 100000000 after 'x'", text[at]);
                return fail(err, errlen, at + 1,
                            count == 0 && i > at ? "a repeat count is from 1 to 100000000, not 0"
                                                 : "repeat count too large (at most 100000000)",
                            -1);
            }
        }
        if ((uint64_t)out->count + count > SCHEDULE_MAX_DECISIONS) {
            sim_schedule_free(out);
            return fail(err, errlen, tok_col, "schedule longer than 100000000 decisions", -1);
        }
        if (out->count + count > cap) {
            while (out->count + count > cap) cap = cap ? cap * 2 : 64;
            sim_decision *d = realloc(out->d, cap * sizeof *d);
            uint32_t *c = realloc(out->col, cap * sizeof *c);
            if (d != NULL) out->d = d;
            if (c != NULL) out->col = c;
            if (d == NULL || c == NULL) {
                sim_schedule_free(out);
                snprintf(err, errlen, "col %zu: out of memory", tok_col);
                return false;
            }
        }
        for (uint64_t k = 0; k < count; k++) {
            sim_decision *d = &out->d[out->count];
            memset(d, 0, sizeof *d);
            d->kind = (uint8_t)kind;
            d->label = (uint32_t)label;
            out->col[out->count++] = (uint32_t)tok_col;
        }
        need_token = false;
        size_t end = i;
        while (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r') i++;
        if (text[i] == ',') {
            i++;
            need_token = true;
        } else if (text[i] != 0 && i == end) {
            sim_schedule_free(out);
            return fail(err, errlen, i + 1, "expected ',' or white space after a token", text[i]);
        }
    }
    sim_schedule_free(out);
    return fail(err, errlen, i + 1, "expected a token after ','", 0);
}

void sim_schedule_free(sim_schedule *s) {
    free(s->d);
    free(s->col);
    s->d = NULL;
    s->col = NULL;
    s->count = 0;
}
