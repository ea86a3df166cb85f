/* format.c - model events as text: one line per event, for failure reports
 * and `--trace FILE`.
 *
 *   [seq] time thread  name  named arguments
 *   [12] 50.000000ms t2 dequeue port h1 key 0x11 ov3 status 0xC0000120 bytes 0
 *
 * Only values are printed (ordinals, keys, sizes, virtual or backend time),
 * never an address, so the text of a simulated execution is the same on
 * every run and every machine.
 */
#include <inttypes.h>
#include <stdio.h>

#include "trace.h"

static const char *const kind_names[MEV__COUNT] = {
    [MEV_PORT_CREATE] = "port_create", [MEV_ASSOCIATE] = "associate",   [MEV_POST] = "post",
    [MEV_DEQUEUE] = "dequeue",         [MEV_DEQUEUE_FAIL] = "dequeue_fail", [MEV_WAIT_BEGIN] = "wait",
    [MEV_SUBMIT] = "submit",           [MEV_CANCEL] = "cancel",         [MEV_GET_RESULT] = "get_result",
    [MEV_SET_MODES] = "set_modes",     [MEV_CLOSESOCKET] = "closesocket", [MEV_CLOSE_HANDLE] = "close_handle",
    [MEV_FD_OPEN] = "fd_open",         [MEV_OP_BEGIN] = "op_begin",     [MEV_OP_END] = "op_end",
    [MEV_DEADLINE] = "deadline",       [MEV_PEER_SEND] = "peer_send",   [MEV_PEER_SHUTDOWN] = "peer_shutdown",
    [MEV_PEER_RESET] = "peer_reset",   [MEV_FOREIGN] = "foreign",       [MEV_FATAL] = "fatal",
    [MEV_QUIESCENT] = "quiescent",     [MEV_NOTE] = "note",             [MEV_DEADLINE_SET] = "deadline_set",
    [MEV_FAULT] = "fault",
};

const char *model_event_name(uint32_t kind) {
    return kind < MEV__COUNT && kind_names[kind] != NULL ? kind_names[kind] : "event?";
}

const char *model_op_name(uint64_t op) {
    switch (op) {
    case MOP_READ: return "read";
    case MOP_WRITE: return "write";
    case MOP_CLOSE: return "close";
    case MOP_BREAK: return "break";
    case MOP_POLL: return "poll";
    case MOP_SLEEP: return "sleep";
    case MOP_ACCEPT: return "accept";
    case MOP_DIAL: return "dial";
    case MOP_SHUTDOWN: return "shutdown";
    case MOP_RECVFROM: return "recvfrom";
    case MOP_SENDTO: return "sendto";
    default: return "op?";
    }
}

const char *model_outcome_name(uint64_t o) {
    switch (o) {
    case MOUT_OK: return "ok";
    case MOUT_EOF: return "eof";
    case MOUT_TIMEOUT: return "timeout";
    case MOUT_CLOSED: return "closed";
    case MOUT_ERROR: return "error";
    case MOUT_TRUNC: return "truncated";
    case 0: return "unassigned"; /* a result slot before its step ran */
    default: return "outcome?";
    }
}

static const char *mode_name(uint64_t m) {
    return m == 'r' ? "read" : m == 'w' ? "write" : m == 'r' + 'w' ? "both" : "mode?";
}

/* "ov3", or "null" for a NULL OVERLAPPED. */
static const char *ovs(uint64_t ov, char *b, size_t n) {
    if (ov == 0) return "null";
    snprintf(b, n, "ov%" PRIu64, ov);
    return b;
}

static const char *ms(uint64_t timeout, char *b, size_t n) {
    if (timeout == SHIM_INFINITE) return "infinite";
    snprintf(b, n, "%" PRIu64 "ms", timeout);
    return b;
}

/* The event's arguments, named. */
static int args(const model_event *e, char *d, size_t n) {
    const uint64_t *a = e->a;
    char x[32], y[32];
    switch (e->kind) {
    case MEV_PORT_CREATE: return snprintf(d, n, "h%" PRIu64, a[0]);
    case MEV_ASSOCIATE:
        return snprintf(d, n, "h%" PRIu64 " to port h%" PRIu64 " key 0x%" PRIX64 " %s", a[1], a[0], a[2],
                        a[3] ? "ok" : "failed");
    case MEV_POST:
        return snprintf(d, n, "port h%" PRIu64 " key 0x%" PRIX64 " %s bytes %" PRIu64 " %s", a[0], a[1],
                        ovs(a[2], x, sizeof x), a[3], a[4] ? "ok" : "failed");
    case MEV_DEQUEUE:
        return snprintf(d, n, "port h%" PRIu64 " key 0x%" PRIX64 " %s status 0x%08" PRIX64 " bytes %" PRIu64, a[0],
                        a[1], ovs(a[2], x, sizeof x), a[3], a[4]);
    case MEV_DEQUEUE_FAIL:
        return snprintf(d, n, "port h%" PRIu64 " error %" PRIu64 " timeout %s", a[0], a[1], ms(a[2], x, sizeof x));
    case MEV_WAIT_BEGIN:
        return snprintf(d, n, "port h%" PRIu64 " timeout %s batch %" PRIu64, a[0], ms(a[1], x, sizeof x), a[2]);
    case MEV_SUBMIT: {
        const char *what = a[2] == 'r' ? "recv" : a[2] == 'w' ? "send" : "io?";
        if (a[3] == 0)
            return snprintf(d, n, "%s h%" PRIu64 " %s sync bytes %" PRIu64, what, a[0], ovs(a[1], x, sizeof x), a[4]);
        if (a[3] == SHIM_ERROR_IO_PENDING)
            return snprintf(d, n, "%s h%" PRIu64 " %s pending", what, a[0], ovs(a[1], x, sizeof x));
        return snprintf(d, n, "%s h%" PRIu64 " %s error %" PRIu64 " bytes %" PRIu64, what, a[0], ovs(a[1], x, sizeof x),
                        a[3], a[4]);
    }
    case MEV_CANCEL:
        if (a[2]) return snprintf(d, n, "h%" PRIu64 " %s ok", a[0], a[1] ? ovs(a[1], x, sizeof x) : "all");
        return snprintf(d, n, "h%" PRIu64 " %s error %" PRIu64, a[0], a[1] ? ovs(a[1], x, sizeof x) : "all", a[3]);
    case MEV_GET_RESULT:
        if (a[2]) return snprintf(d, n, "h%" PRIu64 " %s ok bytes %" PRIu64, a[0], ovs(a[1], x, sizeof x), a[4]);
        return snprintf(d, n, "h%" PRIu64 " %s error %" PRIu64, a[0], ovs(a[1], x, sizeof x), a[3]);
    case MEV_SET_MODES:
        return snprintf(d, n, "h%" PRIu64 " flags 0x%" PRIX64 " %s ifs %s", a[0], a[1], a[2] ? "ok" : "failed",
                        a[3] == 1 ? "yes" : a[3] == 0 ? "no" : "unknown");
    case MEV_CLOSESOCKET: return snprintf(d, n, "h%" PRIu64 " -> %" PRId64, a[0], (int64_t)a[1]);
    case MEV_CLOSE_HANDLE: return snprintf(d, n, "h%" PRIu64 " %s", a[0], a[1] ? "ok" : "failed");
    case MEV_FD_OPEN:
        return snprintf(d, n, "fd%" PRIu64 " socket h%" PRIu64 " seq %" PRIu64 " skip_sync %" PRIu64, a[0], a[1], a[2],
                        a[3]);
    case MEV_OP_BEGIN:
        if (a[2] == UINT64_MAX)
            return snprintf(d, n, "#%" PRIu64 " %s arg %" PRId64, a[0], model_op_name(a[1]), (int64_t)a[3]);
        return snprintf(d, n, "#%" PRIu64 " %s fd%" PRIu64 " arg %" PRId64, a[0], model_op_name(a[1]), a[2], (int64_t)a[3]);
    case MEV_OP_END:
        if (a[1] == MOP_READ && (a[2] == MOUT_OK || a[2] == MOUT_EOF))
            return snprintf(d, n, "#%" PRIu64 " %s %s %" PRIu64 " offset %" PRIu64, a[0], model_op_name(a[1]),
                            model_outcome_name(a[2]), a[3], a[4]);
        if (a[2] == MOUT_ERROR)
            return snprintf(d, n, "#%" PRIu64 " %s error %" PRId64, a[0], model_op_name(a[1]), (int64_t)a[3]);
        return snprintf(d, n, "#%" PRIu64 " %s %s %" PRIu64, a[0], model_op_name(a[1]), model_outcome_name(a[2]), a[3]);
    case MEV_DEADLINE:
        if (a[2] == 0) return snprintf(d, n, "fd%" PRIu64 " %s none", a[0], mode_name(a[1]));
        if (a[2] == UINT64_MAX) return snprintf(d, n, "fd%" PRIu64 " %s past", a[0], mode_name(a[1]));
        return snprintf(d, n, "fd%" PRIu64 " %s at %" PRId64 "ns", a[0], mode_name(a[1]), (int64_t)a[2]);
    case MEV_PEER_SEND:
        return snprintf(d, n, "fd%" PRIu64 " bytes %" PRIu64 " offset %" PRIu64, a[0], a[1], a[2]);
    case MEV_DEADLINE_SET: return snprintf(d, n, "fd%" PRIu64 " %s", a[0], mode_name(a[1]));
    case MEV_PEER_SHUTDOWN:
    case MEV_PEER_RESET: return snprintf(d, n, "fd%" PRIu64, a[0]);
    case MEV_FOREIGN:
        return snprintf(d, n, "fd%" PRIu64 " %s decoy %s", a[0], ovs(a[1], y, sizeof y), a[2] ? "intact" : "WRITTEN");
    case MEV_QUIESCENT:
        return snprintf(d, n, "waiters %" PRId32 " parked %" PRIu64, (int32_t)(uint32_t)a[0], a[1]);
    case MEV_FAULT:
        if (a[1] == 0) return snprintf(d, n, "family %" PRIu64 " call %" PRIu64 " no fault (decision %" PRIu64 ")", a[0], a[2], a[3]);
        return snprintf(d, n, "family %" PRIu64 " call %" PRIu64 " fails with %" PRIu64 " (decision %" PRIu64 ")", a[0], a[2],
                        a[1], a[3]);
    case MEV_FATAL:
    case MEV_NOTE: return snprintf(d, n, "%s", e->text != NULL ? e->text : "");
    default:
        return snprintf(d, n, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64, a[0], a[1], a[2], a[3],
                        a[4]);
    }
}

/* "[seq] time thread name " */
static int head(const model_event *e, char *d, size_t n) {
    const char *name = model_event_name(e->kind);
    int64_t t = e->time_ns;
    uint64_t ut = t < 0 ? (uint64_t)0 - (uint64_t)t : (uint64_t)t;
    return snprintf(d, n, "[%" PRIu64 "] %s%" PRIu64 ".%06" PRIu64 "ms t%" PRIu32 " %s ", e->seq, t < 0 ? "-" : "",
                    ut / 1000000, ut % 1000000, e->thread, name);
}

static bool has_text(const model_event *e) { return (e->kind == MEV_FATAL || e->kind == MEV_NOTE) && e->text != NULL; }

size_t model_event_format(const model_event *e, char *buf, size_t len) {
    char h[96];
    int hn = head(e, h, sizeof h);
    if (hn < 0) hn = 0;
    if (has_text(e)) return (size_t)snprintf(buf, len, "%s%s", h, e->text);
    char tail[256];
    int an = args(e, tail, sizeof tail);
    if (an < 0) an = 0;
    return (size_t)snprintf(buf, len, "%s%s", h, tail);
}

void model_trace_write(const model_trace *t, FILE *out) {
    uint32_t n = model_trace_count(t);
    const model_event *ev = model_trace_events(t);
    char line[384];
    for (uint32_t i = 0; i < n; i++) {
        if (has_text(&ev[i])) {
            head(&ev[i], line, sizeof line);
            fputs(line, out);
            fputs(ev[i].text, out);
        } else {
            model_event_format(&ev[i], line, sizeof line);
            fputs(line, out);
        }
        fputc('\n', out);
    }
}
