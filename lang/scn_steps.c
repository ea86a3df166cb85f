/* scn_steps.c - parsing of thread steps and expectations (scn_parse.c does
 * the top-level statements).
 *
 * Step := [ RESULT '=' ] [ 'maybe' ] [ 'repeat' N ] OP ARGS
 * The rules that keep an execution's bookkeeping exact are checked here,
 * at parse time: one thread reads a socket, one writes it, one drives its
 * peer (the poller has one reader and one writer per descriptor, and the
 * stream offsets of the trace are counted by those threads alone); a
 * deferred socket is used by the thread that opens it, after the open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn_parse_int.h"

static const char *const step_names[] = {"read",  "read_exact", "read_all", "write", "deadline",
                                         "send",  "shutdown",   "reset",    "close", "open",
                                         "break", "sleep",      "poll",     "foreign", "run_poller",
                                         "expect", "maybe",     "repeat"};

bool scn__step_known(const scn_tok *t) {
    for (size_t i = 0; i < sizeof step_names / sizeof step_names[0]; i++)
        if (t->kind == SCN_T_IDENT && scn__tok_eq(t, step_names[i])) return true;
    return false;
}

static bool add_bytes(scn_parser *P, const char *src, uint32_t len, uint32_t slot, uint32_t *off) {
    scn_scenario *s = P->s;
    while (s->nbytes + len + 1 > P->cap_bytes)
        if (!scn__grow((void **)&s->bytes, &P->cap_bytes, P->cap_bytes, 1)) return scn__err(P, 1, "out of memory");
    *off = s->nbytes;
    for (uint32_t i = 0; i < len; i++)
        s->bytes[s->nbytes + i] = src != NULL ? src[i] : (char)('a' + (slot * 7u + i) % 26u);
    s->nbytes += len;
    return true;
}

/* A socket operand: the poller side NAME, or the peer NAME.peer. */
static bool sock_ref(scn_parser *P, const scn_tok *t, bool peer, int32_t *out) {
    if (t->kind != SCN_T_IDENT)
        return scn__err(P, t->col, "expected a socket%s, got '%s'", peer ? "'s peer (NAME.peer)" : "", scn__text(P, t));
    const char *dot = memchr(t->s, '.', t->len);
    size_t base = dot != NULL ? (size_t)(dot - t->s) : t->len;
    bool is_peer = dot != NULL && t->len - base == 5 && memcmp(dot, ".peer", 5) == 0;
    if (dot != NULL && !is_peer) return scn__err(P, t->col, "bad socket '%s' (NAME or NAME.peer)", scn__text(P, t));
    int32_t k = scn__find_socket(P->s, t->s, base);
    if (k < 0) {
        scn__text(P, t);
        P->tbuf[base < sizeof P->tbuf ? base : sizeof P->tbuf - 1] = '\0';
        return scn__err(P, t->col, "undeclared socket '%s'", P->tbuf);
    }
    if (peer && !is_peer)
        return scn__err(P, t->col, "this step acts on the peer: write '%s.peer'", P->s->sockets[k].name);
    if (!peer && is_peer)
        return scn__err(P, t->col, "this step acts on the poller side: write '%s', not its peer", P->s->sockets[k].name);
    *out = k;
    return true;
}

/* One thread per role and socket (see the file comment). */
static bool claim(scn_parser *P, const scn_tok *t, int32_t k, int32_t *role, const char *what) {
    if (*role < 0) *role = P->cur;
    if (*role == P->cur) return true;
    return scn__err(P, t->col, "socket '%s' is already %s by thread '%s' (one thread per socket may do that)",
                    P->s->sockets[k].name, what, P->s->threads[*role].name);
}

/* Poller-side use of a deferred socket: only after its `open`, in that thread. */
static bool usable(scn_parser *P, const scn_tok *t, int32_t k) {
    const scn_socket *so = &P->s->sockets[k];
    if (!so->deferred || so->opener == P->cur) return true;
    return scn__err(P, t->col, "socket '%s' is deferred: use it after `open %s`, in the thread that opens it", so->name,
                    so->name);
}

static bool data_arg(scn_parser *P, const scn_tok *t, scn_step *st) {
    if (t->kind == SCN_T_STR) {
        if (t->len == 0) return scn__err(P, t->col, "empty data: send or write at least one byte");
        if (t->len > SCN_MAX_LEN) return scn__err(P, t->col, "data longer than %d bytes", SCN_MAX_LEN);
        st->len = t->len;
        return add_bytes(P, t->s, t->len, st->slot, &st->data);
    }
    int64_t v;
    if (t->kind != SCN_T_NUM) return scn__err(P, t->col, "expected \"data\" or a length, got '%s'", scn__text(P, t));
    if (!scn__int(P, t, 1, SCN_MAX_LEN, "the length", &v)) return false;
    st->len = (uint32_t)v;
    return add_bytes(P, NULL, st->len, st->slot, &st->data);
}

/* ---- Expectations ---- */

static bool outcome_item(scn_parser *P, const scn_tok *t, uint32_t *i, scn_item *it) {
    const scn_tok *w = &t[*i];
    memset(it, 0, sizeof *it);
    bool valued = false;
    if (w->kind == SCN_T_IDENT && scn__tok_eq(w, "ok")) it->outcome = MOUT_OK, valued = true;
    else if (w->kind == SCN_T_IDENT && scn__tok_eq(w, "eof")) it->outcome = MOUT_EOF;
    else if (w->kind == SCN_T_IDENT && scn__tok_eq(w, "timeout")) it->outcome = MOUT_TIMEOUT;
    else if (w->kind == SCN_T_IDENT && scn__tok_eq(w, "closed")) it->outcome = MOUT_CLOSED;
    else if (w->kind == SCN_T_IDENT && scn__tok_eq(w, "error")) it->outcome = MOUT_ERROR, valued = true;
    else
        return scn__err(P, w->col, "unknown outcome '%s' (known: ok, ok(N), eof, timeout, closed, error, error(N))",
                        scn__text(P, w));
    (*i)++;
    if (valued && scn_tok_is(&t[*i], "(")) {
        int64_t v;
        if (!scn__int(P, &t[*i + 1], 0, 0xffffffffLL, "a value", &v)) return false;
        if (!scn_tok_is(&t[*i + 2], ")")) return scn__err(P, t[*i + 2].col, "expected ')'");
        it->has_value = true;
        it->value = (uint64_t)v;
        *i += 3;
    }
    return true;
}

static bool expect_in(scn_parser *P, const scn_tok *t, uint32_t i, scn_step *st) {
    scn_scenario *s = P->s;
    if (!scn_tok_is(&t[i], "{")) return scn__err(P, t[i].col, "expected '{' after 'in'");
    i++;
    st->items = s->nitems;
    for (;;) {
        if (st->nitems == SCN_MAX_ITEMS) return scn__err(P, t[i].col, "too many outcomes (at most %d)", SCN_MAX_ITEMS);
        if (!scn__grow((void **)&s->items, &P->cap_items, s->nitems, sizeof *s->items)) return scn__err(P, 1, "out of memory");
        if (!outcome_item(P, t, &i, &s->items[s->nitems])) return false;
        s->nitems++;
        st->nitems++;
        if (scn_tok_is(&t[i], "}")) break;
        if (!scn_tok_is(&t[i], ",")) return scn__err(P, t[i].col, "expected ',' or '}' in the set of outcomes");
        i++;
    }
    st->op = SCN_EXPECT_IN;
    return scn__end(P, &t[i + 1]);
}

static bool expect_bound(scn_parser *P, const scn_tok *t, uint32_t i, scn_step *st) {
    if (t[i].kind != SCN_T_CMP) return scn__err(P, t[i].col, "expected '<=' or '>='");
    st->mode = t[i].s[0] == '<' ? '<' : '>';
    if (!scn__dur(P, &t[i + 1], &st->arg)) return false;
    P->s->timed = true;
    return scn__end(P, &t[i + 2]);
}

/* expect R in {...} | expect R at|took <=|>= DUR | expect elapsed <=|>= DUR.
 * t[0] is `expect`; `thread` is the current thread or -1 (top level). */
static bool parse_expect(scn_parser *P, const scn_tok *t, scn_step *st) {
    scn_scenario *s = P->s;
    st->col = t[0].col;
    if (t[1].kind == SCN_T_IDENT && scn__tok_eq(&t[1], "elapsed")) {
        st->op = SCN_EXPECT_ELAPSED;
        return expect_bound(P, t, 2, st);
    }
    if (!scn__name_ok(P, &t[1], "a result name or 'elapsed'")) return false;
    int32_t r = scn__find_result(s, t[1].s, t[1].len);
    if (r < 0) {
        if (scn__known_later(P, &t[1]))
            return scn__err(P, t[1].col, "result '%s' is used before it is assigned", scn__text(P, &t[1]));
        return scn__err(P, t[1].col, "undeclared result '%s'", scn__text(P, &t[1]));
    }
    if (P->cur >= 0 && s->results[r].thread != P->cur)
        return scn__err(P, t[1].col, "result '%s' is assigned in thread '%s': expect it at the top level, after the threads",
                        s->results[r].name, s->threads[s->results[r].thread].name);
    st->result = r;
    if (t[2].kind == SCN_T_IDENT && scn__tok_eq(&t[2], "in")) return expect_in(P, t, 3, st);
    if (t[2].kind == SCN_T_IDENT && (scn__tok_eq(&t[2], "at") || scn__tok_eq(&t[2], "took"))) {
        st->op = scn__tok_eq(&t[2], "at") ? SCN_EXPECT_AT : SCN_EXPECT_TOOK;
        s->results[r].timed = true;
        s->steps[s->results[r].step].timed = true;
        return expect_bound(P, t, 3, st);
    }
    return scn__err(P, t[2].col, "expected 'in {...}', 'at <= DUR' or 'took <= DUR' after the result");
}

bool scn__final_expect(scn_parser *P, const scn_tok *t) {
    scn_scenario *s = P->s;
    if (!scn__grow((void **)&s->finals, &P->cap_finals, s->nfinals, sizeof *s->finals)) return scn__err(P, 1, "out of memory");
    scn_step *st = &s->finals[s->nfinals];
    memset(st, 0, sizeof *st);
    st->repeat = 1;
    st->sock = st->result = -1;
    st->line = P->line;
    if (!parse_expect(P, t, st)) return false;
    s->nfinals++;
    return true;
}

/* ---- Operations ---- */

static bool op_args(scn_parser *P, const scn_tok *t, uint32_t i, scn_step *st) {
    scn_scenario *s = P->s;
    scn_thread *th = &s->threads[P->cur];
    const scn_tok *w = &t[i];
    int64_t v;
    int32_t k = -1;
    if (scn__tok_eq(w, "read") || scn__tok_eq(w, "read_exact") || scn__tok_eq(w, "read_all")) {
        st->op = scn__tok_eq(w, "read") ? SCN_READ : scn__tok_eq(w, "read_exact") ? SCN_READ_EXACT : SCN_READ_ALL;
        if (!sock_ref(P, &t[i + 1], false, &k) || !usable(P, &t[i + 1], k)) return false;
        if (!claim(P, &t[i + 1], k, &s->sockets[k].reader, "read")) return false;
        st->arg = 64;
        i += 2;
        if (st->op != SCN_READ_ALL || t[i].kind != SCN_T_END) {
            if (!scn__int(P, &t[i], 1, SCN_MAX_LEN, st->op == SCN_READ_EXACT ? "the byte count" : "the length", &v)) return false;
            st->arg = v;
            i++;
        }
        if ((uint32_t)st->arg > th->buf_len) th->buf_len = (uint32_t)st->arg;
    } else if (scn__tok_eq(w, "write")) {
        st->op = SCN_WRITE;
        if (!sock_ref(P, &t[i + 1], false, &k) || !usable(P, &t[i + 1], k)) return false;
        if (!claim(P, &t[i + 1], k, &s->sockets[k].writer, "written")) return false;
        if (!data_arg(P, &t[i + 2], st)) return false;
        i += 3;
    } else if (scn__tok_eq(w, "deadline")) {
        st->op = SCN_DEADLINE;
        if (!sock_ref(P, &t[i + 1], false, &k) || !usable(P, &t[i + 1], k)) return false;
        const scn_tok *m = &t[i + 2];
        if (scn__tok_eq(m, "read")) st->mode = 'r';
        else if (scn__tok_eq(m, "write")) st->mode = 'w';
        else if (scn__tok_eq(m, "both")) st->mode = 'r' + 'w';
        else return scn__err(P, m->col, "expected read, write or both, got '%s'", scn__text(P, m));
        const scn_tok *d = &t[i + 3];
        if (d->kind == SCN_T_IDENT && scn__tok_eq(d, "none")) st->arg = 0;
        else if (d->kind == SCN_T_IDENT && scn__tok_eq(d, "past")) st->arg = -1;
        else if (!scn__dur(P, d, &st->arg)) return false;
        else if (st->arg == 0) return scn__err(P, d->col, "a deadline of 0: write 'none' (no deadline) or 'past' (expired)");
        i += 4;
    } else if (scn__tok_eq(w, "send")) {
        st->op = SCN_SEND;
        if (!sock_ref(P, &t[i + 1], true, &k)) return false;
        if (!claim(P, &t[i + 1], k, &s->sockets[k].sender, "driven from its peer")) return false;
        if (s->sockets[k].pending_line != 0)
            return scn__err(P, w->col, "the peer of '%s' cannot send: the pending foreign recv of line %u would take the bytes",
                            s->sockets[k].name, s->sockets[k].pending_line);
        if (s->sockets[k].send_line == 0) s->sockets[k].send_line = P->line;
        if (!data_arg(P, &t[i + 2], st)) return false;
        i += 3;
    } else if (scn__tok_eq(w, "shutdown") || scn__tok_eq(w, "reset")) {
        st->op = scn__tok_eq(w, "shutdown") ? SCN_SHUTDOWN : SCN_RESET;
        if (!sock_ref(P, &t[i + 1], true, &k)) return false;
        if (!claim(P, &t[i + 1], k, &s->sockets[k].sender, "driven from its peer")) return false;
        i += 2;
    } else if (scn__tok_eq(w, "close") || scn__tok_eq(w, "foreign")) {
        st->op = scn__tok_eq(w, "close") ? SCN_CLOSE : SCN_FOREIGN;
        if (!sock_ref(P, &t[i + 1], false, &k) || !usable(P, &t[i + 1], k)) return false;
        /* The foreign recv takes the next byte of the stream: it must not race the socket's reader. */
        if (st->op == SCN_FOREIGN) {
            if (!claim(P, &t[i + 1], k, &s->sockets[k].reader, "read")) return false;
            /* One OVERLAPPED per foreign step: repeating it would resubmit it while its packet may be queued. */
            if (st->repeat > 1) return scn__err(P, w->col, "`foreign` cannot be repeated (write several foreign steps)");
            st->data = s->nforeign++;
            /* `pending`: no byte follows, the recv stays outstanding (until a close cancels it). */
            if (t[i + 2].kind == SCN_T_IDENT && scn__tok_eq(&t[i + 2], "pending")) {
                st->arg = 1;
                i++;
                if (s->sockets[k].send_line != 0)
                    return scn__err(P, t[i + 1].col, "a pending foreign recv on '%s' would take the bytes its peer sends (line %u)",
                                    s->sockets[k].name, s->sockets[k].send_line);
                s->sockets[k].pending_line = P->line;
            }
        }
        i += 2;
    } else if (scn__tok_eq(w, "open")) {
        st->op = SCN_OPEN;
        if (!sock_ref(P, &t[i + 1], false, &k)) return false;
        scn_socket *so = &s->sockets[k];
        if (!so->deferred)
            return scn__err(P, t[i + 1].col, "socket '%s' is opened before the threads start; declare it `deferred` to open it in a step", so->name);
        if (so->opener >= 0) return scn__err(P, t[i + 1].col, "socket '%s' is opened twice", so->name);
        if (st->maybe || st->repeat > 1) return scn__err(P, w->col, "`open` cannot be repeated or maybe");
        so->opener = P->cur;
        i += 2;
    } else if (scn__tok_eq(w, "break") || scn__tok_eq(w, "run_poller")) {
        st->op = scn__tok_eq(w, "break") ? SCN_BREAK : SCN_RUN_POLLER;
        if (st->op == SCN_RUN_POLLER) {
            if (st->maybe || st->repeat > 1) return scn__err(P, w->col, "run_poller cannot be repeated or maybe");
            th->polls = th->runs_poller = true;
        }
        i += 1;
    } else if (scn__tok_eq(w, "sleep")) {
        st->op = SCN_SLEEP;
        if (!scn__dur(P, &t[i + 1], &st->arg)) return false;
        i += 2;
    } else if (scn__tok_eq(w, "poll")) {
        st->op = SCN_POLL;
        const scn_tok *d = &t[i + 1];
        if (d->kind == SCN_T_IDENT && scn__tok_eq(d, "forever")) st->arg = -1;
        else if (!scn__dur(P, d, &st->arg)) return false;
        th->polls = true;
        i += 2;
    } else {
        return scn__err(P, w->col, "unknown step '%s'", scn__text(P, w));
    }
    st->sock = k;
    return scn__end(P, &t[i]);
}

static bool may_assign(uint8_t op) {
    return op == SCN_READ || op == SCN_READ_EXACT || op == SCN_READ_ALL || op == SCN_WRITE || op == SCN_CLOSE ||
           op == SCN_POLL;
}

bool scn__thread_step(scn_parser *P, const scn_line *L) {
    scn_scenario *s = P->s;
    scn_thread *th = &s->threads[P->cur];
    const scn_tok *t = L->tok;
    if (s->nsteps > th->first && s->steps[s->nsteps - 1].op == SCN_RUN_POLLER)
        return scn__err(P, t[0].col, "run_poller must be the last step of its thread");
    if (s->nsteps == SCN_MAX_STEPS) return scn__err(P, t[0].col, "too many steps (at most %d)", SCN_MAX_STEPS);
    if (!scn__grow((void **)&s->steps, &P->cap_steps, s->nsteps, sizeof *s->steps)) return scn__err(P, 1, "out of memory");
    scn_step *st = &s->steps[s->nsteps];
    memset(st, 0, sizeof *st);
    st->repeat = 1;
    st->sock = st->result = -1;
    st->line = P->line;
    st->col = t[0].col;
    st->slot = s->nsteps + 1;
    if (t[0].kind == SCN_T_IDENT && scn__tok_eq(&t[0], "expect")) {
        if (!parse_expect(P, t, st)) return false;
        s->nsteps++;
        return true;
    }
    uint32_t i = 0;
    const scn_tok *rname = NULL;
    if (t[1].kind == SCN_T_PUNCT && scn_tok_is(&t[1], "=")) {
        if (!scn__name_ok(P, &t[0], "a result name")) return false;
        int32_t dup = scn__find_result(s, t[0].s, t[0].len);
        if (dup >= 0)
            return scn__err(P, t[0].col, "duplicate result '%s' (first at line %u)", scn__text(P, &t[0]),
                            s->steps[s->results[dup].step].line);
        if (scn__find_socket(s, t[0].s, t[0].len) >= 0)
            return scn__err(P, t[0].col, "result '%s' has the name of a socket", scn__text(P, &t[0]));
        rname = &t[0];
        i = 2;
    }
    for (;;) {
        if (t[i].kind == SCN_T_IDENT && scn__tok_eq(&t[i], "maybe") && !st->maybe) {
            st->maybe = true;
            s->chooses = true;
            i++;
        } else if (t[i].kind == SCN_T_IDENT && scn__tok_eq(&t[i], "repeat") && st->repeat == 1) {
            int64_t v;
            if (!scn__int(P, &t[i + 1], 2, SCN_MAX_REPEAT, "the repeat count", &v)) return false;
            st->repeat = (uint32_t)v;
            i += 2;
        } else {
            break;
        }
    }
    if (t[i].kind != SCN_T_IDENT) return scn__err(P, t[i].col, "expected a step, got '%s'", scn__text(P, &t[i]));
    if (scn__tok_eq(&t[i], "expect")) return scn__err(P, t[i].col, "an expectation cannot be assigned, repeated or maybe");
    if (!op_args(P, t, i, st)) return false;
    if (rname != NULL) {
        if (!may_assign(st->op))
            return scn__err(P, rname->col, "step '%s' has no result (results: read, read_exact, read_all, write, close, poll)",
                            scn__text(P, &t[i]));
        if (st->maybe) return scn__err(P, rname->col, "a `maybe` step cannot assign a result (it may not run)");
        if (!scn__grow((void **)&s->results, &P->cap_results, s->nresults, sizeof *s->results)) return scn__err(P, 1, "out of memory");
        scn_result *r = &s->results[s->nresults];
        memset(r, 0, sizeof *r);
        r->name = malloc(rname->len + 1);
        if (r->name == NULL) return scn__err(P, 1, "out of memory");
        memcpy(r->name, rname->s, rname->len);
        r->name[rname->len] = '\0';
        r->thread = P->cur;
        r->step = s->nsteps;
        st->result = (int32_t)s->nresults;
        s->nresults++;
    }
    if (st->op == SCN_SEND) {
        scn_socket *so = &s->sockets[st->sock];
        uint64_t total = (uint64_t)so->stream + (uint64_t)st->len * st->repeat;
        if (total > SCN_MAX_STREAM)
            return scn__err(P, st->col, "the peer of '%s' would send more than %u bytes", so->name, SCN_MAX_STREAM);
        so->stream = (uint32_t)total;
    }
    s->nsteps++;
    return true;
}
