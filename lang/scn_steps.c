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

/* ---- Stream sockets: the socket statement's kinds ---- */

bool scn__socket_kind(scn_parser *P, const scn_tok *t, uint32_t *i, scn_socket *k) {
    const scn_tok *w = &t[*i];
    if (k->kind != SCN_SOCK_PAIR) return scn__err(P, w->col, "a socket has one kind: listen, dial, accept or dgram");
    if (scn__tok_eq(w, "dgram")) {
        k->kind = SCN_SOCK_DGRAM;
        return true;
    }
    if (scn__tok_eq(w, "listen")) {
        k->kind = SCN_SOCK_LISTEN;
        k->backlog = 4;
        if (t[*i + 1].kind == SCN_T_NUM) {
            int64_t v;
            if (!scn__int(P, &t[*i + 1], 1, 8, "the backlog", &v)) return false;
            k->backlog = (uint32_t)v;
            (*i)++;
        }
        return true;
    }
    k->kind = scn__tok_eq(w, "dial") ? SCN_SOCK_DIAL : SCN_SOCK_ACCEPT;
    const scn_tok *l = &t[*i + 1];
    int32_t li = l->kind == SCN_T_IDENT ? scn__find_socket(P->s, l->s, l->len) : -1;
    if (li < 0 || P->s->sockets[li].kind != SCN_SOCK_LISTEN)
        return scn__err(P, l->col, "expected a listener declared before (socket NAME listen), got '%s'", scn__text(P, l));
    k->listener = li;
    k->deferred = true; /* opened by its dial or accept step */
    (*i)++;
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
    if (is_peer && (P->s->sockets[k].kind == SCN_SOCK_DIAL || P->s->sockets[k].kind == SCN_SOCK_ACCEPT))
        return scn__err(P, t->col, "'%s' has no harness peer: its other end is the poller's own", P->s->sockets[k].name);
    if (peer && !is_peer)
        return scn__err(P, t->col, "this step acts on the peer: write '%s.peer'", P->s->sockets[k].name);
    if (!peer && is_peer)
        return scn__err(P, t->col, "this step acts on the poller side: write '%s', not its peer", P->s->sockets[k].name);
    *out = k;
    return true;
}

/* A listener's peer is a harness client that only connects, shuts down
 * or resets; a listener's own end only accepts, closes and takes deadlines. */
static bool not_listener(scn_parser *P, const scn_tok *t, int32_t k) {
    if (P->s->sockets[k].kind != SCN_SOCK_LISTEN) return true;
    return scn__err(P, t[0].col, "'%s' is a listener: `%s` does not apply (accept, close, deadline; connect, shutdown, reset on its peer)",
                    P->s->sockets[k].name, scn__text(P, &t[0]));
}

/* Datagram steps on datagram sockets, stream steps on stream sockets. */
static bool kind_ok(scn_parser *P, const scn_tok *t, int32_t k, bool dgram) {
    const scn_socket *so = &P->s->sockets[k];
    if ((so->kind == SCN_SOCK_DGRAM) == dgram) return true;
    if (so->kind == SCN_SOCK_DGRAM)
        return scn__err(P, t->col, "'%s' is a dgram socket: use recvfrom / sendto (and recv / sendto on its peer)", so->name);
    return scn__err(P, t->col, "'%s' is a stream socket: declare it `socket %s dgram` for datagram steps", so->name, so->name);
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
    else if (w->kind == SCN_T_IDENT && scn__tok_eq(w, "truncated")) it->outcome = MOUT_TRUNC, valued = true;
    else if (w->kind == SCN_T_IDENT && scn__tok_eq(w, "nomem")) { /* np_fd_open's NP_ERR_NO_MEMORY (-4) */
        it->outcome = MOUT_ERROR;
        it->has_value = true;
        it->value = (uint64_t)(int64_t)SCN_NOMEM;
    } else
        return scn__err(P, w->col,
                        "unknown outcome '%s' (known: ok, ok(N), eof, timeout, closed, error, error(N), nomem, truncated, truncated(N))",
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

/* ---- Operations ----
 * One parser per shape of arguments: t[0] is the step's name, the arguments
 * follow; each sets st->sock (if any) and *used, the tokens it took. */

static bool p_read(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    scn_scenario *s = P->s;
    scn_thread *th = &s->threads[P->cur];
    if (!sock_ref(P, &t[1], false, &st->sock) || !usable(P, &t[1], st->sock) || !not_listener(P, t, st->sock)) return false;
    if (!kind_ok(P, &t[1], st->sock, st->op == SCN_RECVFROM)) return false;
    if (!s->sockets[st->sock].shared && !claim(P, &t[1], st->sock, &s->sockets[st->sock].reader, "read")) return false;
    st->arg = 64;
    *used = 2;
    if (st->op != SCN_READ_ALL || t[2].kind != SCN_T_END) {
        int64_t v;
        /* `read S 0`: a zero-length read (it waits for data, takes none);
         * `recvfrom S 0`: Go's ReadFrom of an empty buffer, which takes no datagram. */
        int64_t least = st->op == SCN_READ || st->op == SCN_RECVFROM ? 0 : 1;
        if (!scn__int(P, &t[2], least, SCN_MAX_LEN, st->op == SCN_READ_EXACT ? "the byte count" : "the length", &v)) return false;
        st->arg = v;
        *used = 3;
    }
    if ((uint32_t)st->arg > th->buf_len) th->buf_len = (uint32_t)st->arg;
    return true;
}

static bool p_write(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    if (!sock_ref(P, &t[1], false, &st->sock) || !usable(P, &t[1], st->sock) || !not_listener(P, t, st->sock)) return false;
    if (!kind_ok(P, &t[1], st->sock, st->op == SCN_SENDTO)) return false;
    if (!P->s->sockets[st->sock].shared && !claim(P, &t[1], st->sock, &P->s->sockets[st->sock].writer, "written"))
        return false;
    *used = 3;
    return data_arg(P, &t[2], st);
}

static bool p_send(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used);

/* sendto SOCK "data"|LEN: the poller sends a datagram to the peer;
 * sendto SOCK.peer "data"|LEN: the peer sends one to the poller's socket. */
static bool p_sendto(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    if (t[1].kind == SCN_T_IDENT && t[1].len > 5 && memcmp(t[1].s + t[1].len - 5, ".peer", 5) == 0) {
        st->op = SCN_SEND;
        if (!p_send(P, t, st, used)) return false;
        return kind_ok(P, &t[1], st->sock, true);
    }
    return p_write(P, t, st, used);
}

static bool p_deadline(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    if (!sock_ref(P, &t[1], false, &st->sock) || !usable(P, &t[1], st->sock)) return false;
    const scn_tok *m = &t[2];
    if (scn__tok_eq(m, "read")) st->mode = 'r';
    else if (scn__tok_eq(m, "write")) st->mode = 'w';
    else if (scn__tok_eq(m, "both")) st->mode = 'r' + 'w';
    else return scn__err(P, m->col, "expected read, write or both, got '%s'", scn__text(P, m));
    const scn_tok *d = &t[3];
    if (d->kind == SCN_T_IDENT && scn__tok_eq(d, "none")) st->arg = 0;
    else if (d->kind == SCN_T_IDENT && scn__tok_eq(d, "past")) st->arg = -1;
    /* Go's time.Until of a far deadline saturates at the largest Duration. */
    else if (d->kind == SCN_T_IDENT && scn__tok_eq(d, "max")) st->arg = INT64_MAX;
    else if (!scn__dur(P, d, &st->arg)) return false;
    else if (st->arg == 0) return scn__err(P, d->col, "a deadline of 0: write 'none' (no deadline) or 'past' (expired)");
    *used = 4;
    return true;
}

static bool p_send(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    if (!sock_ref(P, &t[1], true, &st->sock) || !not_listener(P, t, st->sock)) return false;
    scn_socket *so = &P->s->sockets[st->sock];
    if (!claim(P, &t[1], st->sock, &so->sender, "driven from its peer")) return false;
    if (so->pending_line != 0)
        return scn__err(P, t[0].col, "the peer of '%s' cannot send: the pending foreign recv of line %u would take the bytes",
                        so->name, so->pending_line);
    if (so->send_line == 0) so->send_line = P->line;
    *used = 3;
    if (t[2].kind == SCN_T_NUM && so->kind == SCN_SOCK_DGRAM) { /* a datagram may be empty: `sendto s.peer 0` */
        int64_t v;
        if (!scn__int(P, &t[2], 0, SCN_MAX_LEN, "the length", &v)) return false;
        st->len = (uint32_t)v;
        return add_bytes(P, NULL, st->len, st->slot, &st->data);
    }
    return data_arg(P, &t[2], st);
}

/* shutdown, reset: the peer only. */
static bool p_peer(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    if (!sock_ref(P, &t[1], true, &st->sock)) return false;
    if (!kind_ok(P, &t[1], st->sock, false)) return false; /* UDP has no shutdown or reset to send */
    *used = 2;
    return claim(P, &t[1], st->sock, &P->s->sockets[st->sock].sender, "driven from its peer");
}

/* recv, drain: the peer reads (between them it has stopped reading). */
#define SCN_DRAIN_CHUNK 4096u
static bool p_peer_read(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    scn_thread *th = &P->s->threads[P->cur];
    if (!sock_ref(P, &t[1], true, &st->sock) || !not_listener(P, t, st->sock)) return false;
    if (!claim(P, &t[1], st->sock, &P->s->sockets[st->sock].peer_reader, "read from its peer")) return false;
    *used = 2;
    st->arg = SCN_DRAIN_CHUNK;
    if (st->op == SCN_PEER_RECV) {
        int64_t v;
        if (!scn__int(P, &t[2], 1, SCN_MAX_LEN, "the length", &v)) return false;
        st->arg = v;
        *used = 3;
    }
    if ((uint32_t)st->arg > th->buf_len) th->buf_len = (uint32_t)st->arg;
    return true;
}

static bool p_close(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    *used = 2;
    return sock_ref(P, &t[1], false, &st->sock) && usable(P, &t[1], st->sock);
}

static bool p_foreign(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    scn_scenario *s = P->s;
    if (!p_close(P, t, st, used)) return false;
    if (!kind_ok(P, &t[1], st->sock, false)) return false;
    scn_socket *so = &s->sockets[st->sock];
    /* The foreign recv takes the next byte of the stream: it must not race the socket's reader. */
    if (!claim(P, &t[1], st->sock, &so->reader, "read")) return false;
    /* One OVERLAPPED per foreign step: repeating it would resubmit it while its packet may be queued. */
    if (st->repeat > 1) return scn__err(P, t[0].col, "`foreign` cannot be repeated (write several foreign steps)");
    st->data = s->nforeign++;
    /* `pending`: no byte follows, the recv stays outstanding (until a close cancels it). */
    if (t[2].kind == SCN_T_IDENT && scn__tok_eq(&t[2], "pending")) {
        st->arg = 1;
        *used = 3;
        if (so->send_line != 0)
            return scn__err(P, t[2].col, "a pending foreign recv on '%s' would take the bytes its peer sends (line %u)",
                            so->name, so->send_line);
        so->pending_line = P->line;
    }
    return true;
}

static bool p_open(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    if (!sock_ref(P, &t[1], false, &st->sock)) return false;
    scn_socket *so = &P->s->sockets[st->sock];
    if (scn__tok_eq(&t[2], "again") && t[2].kind == SCN_T_IDENT) {
        /* A second np_fd_open of a socket already opened before the threads
         * start: its association with the port fails (FACTS.md, second
         * association: 87), and the open reports it. */
        if (so->deferred || so->kind != SCN_SOCK_PAIR)
            return scn__err(P, t[1].col, "`open %s again` needs a socket opened before the threads start (not deferred, not dgram, listen, dial or accept)", so->name);
        if (st->maybe || st->repeat > 1) return scn__err(P, t[0].col, "`open` cannot be repeated or maybe");
        st->arg = 1;
        *used = 3;
        return true;
    }
    if (!so->deferred)
        return scn__err(P, t[1].col, "socket '%s' is opened before the threads start; declare it `deferred` to open it in a step", so->name);
    if (so->kind != SCN_SOCK_PAIR)
        return scn__err(P, t[1].col, "socket '%s' is opened by its `%s` step", so->name, so->kind == SCN_SOCK_DIAL ? "dial" : "accept");
    if (so->opener >= 0) return scn__err(P, t[1].col, "socket '%s' is opened twice", so->name);
    if (st->maybe || st->repeat > 1) return scn__err(P, t[0].col, "`open` cannot be repeated or maybe");
    so->opener = P->cur;
    *used = 2;
    return true;
}

static bool p_none(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    (void)P, (void)t, (void)st;
    *used = 1;
    return true;
}

/* shutdown S.peer (the peer's sending side) | shutdown S read|write|both
 * (the poller's own end, np_fd_shutdown). */
static bool p_shutdown(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    if (t[1].kind == SCN_T_IDENT && memchr(t[1].s, '.', t[1].len) != NULL) return p_peer(P, t, st, used);
    if (!sock_ref(P, &t[1], false, &st->sock) || !usable(P, &t[1], st->sock) || !not_listener(P, t, st->sock)) return false;
    const scn_tok *m = &t[2];
    if (scn__tok_eq(m, "read")) st->mode = 'r';
    else if (scn__tok_eq(m, "write")) st->mode = 'w';
    else if (scn__tok_eq(m, "both")) st->mode = 'r' + 'w';
    else return scn__err(P, m->col, "expected read, write or both (or SOCK.peer), got '%s'", scn__text(P, m));
    st->op = SCN_SHUTDOWN_OWN;
    *used = 3;
    return true;
}

/* accept A | dial C [DUR]: opens A (C) as its `open` would. */
static bool p_conn(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    if (!sock_ref(P, &t[1], false, &st->sock)) return false;
    scn_socket *so = &P->s->sockets[st->sock];
    uint8_t want = st->op == SCN_ACCEPT ? SCN_SOCK_ACCEPT : SCN_SOCK_DIAL;
    if (so->kind != want)
        return scn__err(P, t[1].col, "'%s' is not declared `%s LISTENER`", so->name, st->op == SCN_ACCEPT ? "accept" : "dial");
    if (so->opener >= 0) return scn__err(P, t[1].col, "socket '%s' is %s twice", so->name, st->op == SCN_ACCEPT ? "accepted" : "dialed");
    if (st->maybe || st->repeat > 1) return scn__err(P, t[0].col, "`%s` cannot be repeated or maybe", scn__text(P, &t[0]));
    /* One accepting thread per listener: Go's accept holds the listener's read lock. */
    if (st->op == SCN_ACCEPT && !claim(P, &t[1], so->listener, &P->s->sockets[so->listener].reader, "accepted from"))
        return false;
    so->opener = P->cur;
    *used = 2;
    if (st->op == SCN_DIAL && t[2].kind != SCN_T_END) {
        if (!scn__dur(P, &t[2], &st->arg)) return false;
        if (st->arg == 0) return scn__err(P, t[2].col, "a dial timeout of 0: leave it out for none");
        *used = 3;
    }
    return true;
}

/* connect L.peer: the harness's client of listener L. */
static bool p_connect(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    if (!sock_ref(P, &t[1], true, &st->sock)) return false;
    scn_socket *so = &P->s->sockets[st->sock];
    if (so->kind != SCN_SOCK_LISTEN) return scn__err(P, t[1].col, "'%s' is not a listener (socket NAME listen)", so->name);
    if (st->maybe || st->repeat > 1) return scn__err(P, t[0].col, "`connect` cannot be repeated or maybe");
    *used = 2;
    return claim(P, &t[1], st->sock, &so->sender, "driven from its peer");
}

static bool p_run_poller(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    if (st->maybe || st->repeat > 1) return scn__err(P, t[0].col, "run_poller cannot be repeated or maybe");
    scn_thread *th = &P->s->threads[P->cur];
    th->polls = th->runs_poller = true;
    *used = 1;
    return true;
}

static bool p_sleep(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    *used = 2;
    return scn__dur(P, &t[1], &st->arg);
}

static bool p_poll(scn_parser *P, const scn_tok *t, scn_step *st, uint32_t *used) {
    if (t[1].kind == SCN_T_IDENT && scn__tok_eq(&t[1], "forever")) st->arg = -1;
    else if (!scn__dur(P, &t[1], &st->arg)) return false;
    P->s->threads[P->cur].polls = true;
    *used = 2;
    return true;
}

/* Every step of the language, in opcode order, which is also the order
 * messages list them in. */
static const scn_step_def steps[] = {
    {"read", "read SOCK LEN", SCN_READ, MOP_READ, true, p_read},
    {"read_exact", "read_exact SOCK N", SCN_READ_EXACT, MOP_READ, true, p_read},
    {"read_all", "read_all SOCK [LEN]", SCN_READ_ALL, MOP_READ, true, p_read},
    {"write", "write SOCK \"data\"|LEN", SCN_WRITE, MOP_WRITE, true, p_write},
    {"deadline", "deadline SOCK read|write|both DUR|none|past|max", SCN_DEADLINE, 0, false, p_deadline},
    {"send", "send SOCK.peer \"data\"|LEN", SCN_SEND, 0, false, p_send},
    {"shutdown", "shutdown SOCK.peer | shutdown SOCK read|write|both", SCN_SHUTDOWN, 0, false, p_shutdown},
    {"reset", "reset SOCK.peer", SCN_RESET, 0, false, p_peer},
    {"close", "close SOCK", SCN_CLOSE, MOP_CLOSE, true, p_close},
    {"open", "open SOCK [again]", SCN_OPEN, 0, true, p_open}, /* result: ok, or error(-4) when out of memory; again: error(N) */
    {"break", "break", SCN_BREAK, MOP_BREAK, false, p_none},
    {"sleep", "sleep DUR", SCN_SLEEP, MOP_SLEEP, false, p_sleep},
    {"poll", "poll DUR|forever", SCN_POLL, MOP_POLL, true, p_poll},
    {"foreign", "foreign SOCK [pending]", SCN_FOREIGN, 0, false, p_foreign},
    {"run_poller", "run_poller", SCN_RUN_POLLER, 0, false, p_run_poller},
    {"recv", "recv SOCK.peer LEN", SCN_PEER_RECV, 0, true, p_peer_read},
    {"drain", "drain SOCK.peer", SCN_DRAIN, 0, true, p_peer_read},
    {"accept", "accept SOCK", SCN_ACCEPT, MOP_ACCEPT, true, p_conn},
    {"dial", "dial SOCK [DUR]", SCN_DIAL, MOP_DIAL, true, p_conn},
    {"connect", "connect SOCK.peer", SCN_CONNECT, 0, true, p_connect},
    {"shutdown", "shutdown SOCK read|write|both", SCN_SHUTDOWN_OWN, MOP_SHUTDOWN, true, p_shutdown},
    {"recvfrom", "recvfrom SOCK LEN", SCN_RECVFROM, MOP_RECVFROM, true, p_read},
    {"sendto", "sendto SOCK[.peer] \"data\"|LEN", SCN_SENDTO, MOP_SENDTO, true, p_sendto},
};
#define NSTEPS (sizeof steps / sizeof steps[0])

const scn_step_def *scn__step_def(uint8_t op) {
    /* The rows are in opcode order (the interpreter asks on every operation). */
    if (op >= 1 && op <= NSTEPS && steps[op - 1].op == op) return &steps[op - 1];
    for (size_t i = 0; i < NSTEPS; i++)
        if (steps[i].op == op) return &steps[i];
    return NULL;
}

static const scn_step_def *find_step(const scn_tok *t) {
    for (size_t i = 0; i < NSTEPS; i++)
        if (t->kind == SCN_T_IDENT && scn__tok_eq(t, steps[i].name)) return &steps[i];
    return NULL;
}

/* A step's name, or a word that starts a step line (modifiers, expect). */
bool scn__step_known(const scn_tok *t) {
    return find_step(t) != NULL || (t->kind == SCN_T_IDENT && (scn__tok_eq(t, "maybe") || scn__tok_eq(t, "repeat") ||
                                                               scn__tok_eq(t, "expect")));
}

/* "read, read_exact, ...": every step, or those that may assign a result;
 * a name with two forms (shutdown) once. */
static const char *step_names(char *buf, size_t n, bool results_only) {
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < NSTEPS && len < n; i++) {
        if (results_only && !steps[i].result) continue;
        bool listed = false; /* a name with two rows (shutdown of the peer, of the own end) once */
        for (size_t j = 0; j < i; j++)
            listed = listed || (strcmp(steps[j].name, steps[i].name) == 0 && (!results_only || steps[j].result));
        if (!listed) len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "", steps[i].name);
    }
    return buf;
}

static bool op_args(scn_parser *P, const scn_tok *t, scn_step *st) {
    const scn_step_def *d = find_step(t);
    if (d == NULL) {
        char known[512];
        return scn__err(P, t->col, "unknown step '%s' (known: %s, expect)", scn__text(P, t),
                        step_names(known, sizeof known, false));
    }
    st->op = d->op;
    uint32_t used = 1;
    if (!d->parse(P, t, st, &used)) return false;
    if (t[used].kind != SCN_T_END)
        return scn__err(P, t[used].col, "unexpected '%s' at the end of the step (%s)", scn__text(P, &t[used]), d->shape);
    return true;
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
    if (!op_args(P, &t[i], st)) return false;
    if (rname != NULL) {
        char names[512];
        if (!scn__step_def(st->op)->result)
            return scn__err(P, rname->col, "step '%s' has no result (results: %s)", scn__text(P, &t[i]),
                            step_names(names, sizeof names, true));
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
        so->dgrams += st->repeat;
        uint64_t total = (uint64_t)so->stream + (uint64_t)st->len * st->repeat;
        if (total > SCN_MAX_STREAM)
            return scn__err(P, st->col, "the peer of '%s' would send more than %u bytes", so->name, SCN_MAX_STREAM);
        so->stream = (uint32_t)total;
    }
    s->nsteps++;
    return true;
}
