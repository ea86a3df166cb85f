/* decisions.c - see decisions.h. Each embedded scenario is opened (parsed,
 * its simulator created, PCT's calibration run) the first time an input
 * picks it, and stays open: every execution starts from the simulator's
 * reset, so what ran before does not matter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../search/strategies.h"
#include "decisions.h"

#define MAX_SCENARIOS 256 /* the selector is one byte */
static cli_target targets[MAX_SCENARIOS];
static bool opened[MAX_SCENARIOS];
static int64_t last = -1;

static void (*observer)(const sim_choice_point *pt, uint32_t index);

void fuzz_decisions_observe(void (*fn)(const sim_choice_point *pt, uint32_t index)) { observer = fn; }

static const shim *(*wrapper)(sim_ctx *sim, const shim *sh);
void fuzz_decisions_wrap(const shim *(*wrap)(sim_ctx *sim, const shim *sh)) { wrapper = wrap; }

static cli_target *open_target(uint32_t pick) {
    if (!opened[pick]) {
        const fuzz_scenario *f = &fuzz_scenarios[pick];
        if (cli_target_open_text(&targets[pick], f->path, f->text) != 0) exit(CLI_EXIT_USAGE);
        opened[pick] = true;
    }
    last = pick;
    return &targets[pick];
}

/* fuzz_decisions_encode: the bytes that make the bytes chooser answer as
 * `inner` does (its inverse, decision by decision). */
typedef struct encoder {
    sim_chooser *inner;
    uint8_t *buf;
    size_t len, cap;
    bool ok;
} encoder;

static void put(encoder *e, uint8_t b) {
    if (e->len == e->cap) e->buf = cli_xrealloc(e->buf, e->cap = e->cap ? e->cap * 2 : 256);
    e->buf[e->len++] = b;
}

/* The bytes that make the bytes chooser answer `idx` at `pt`. */
static void put_answer(encoder *e, const sim_choice_point *pt, uint32_t idx) {
    uint32_t base = pt->current != SIM_NO_CURRENT ? pt->current : 0;
    uint32_t v = (idx + pt->n - base) % (pt->n);
    if (pt->n > 65536) e->ok = false;
    if (pt->n > 256) put(e, (uint8_t)(v >> 8));
    put(e, (uint8_t)v);
}

static uint32_t encode_choose(void *self, sim_ctx *sim, const sim_choice_point *pt) {
    encoder *e = self;
    uint32_t idx = e->inner->choose(e->inner->self, sim, pt);
    if (idx >= pt->n) return idx;
    put_answer(e, pt, idx);
    return idx;
}

static void encode_begin(void *self, sim_ctx *sim) {
    encoder *e = self;
    if (e->inner->begin != NULL) e->inner->begin(e->inner->self, sim);
}

static void encode_end(void *self, sim_ctx *sim) {
    encoder *e = self;
    if (e->inner->end != NULL) e->inner->end(e->inner->self, sim);
}

bool fuzz_decisions_encode(uint32_t pick, sim_chooser *chooser, uint8_t **bytes, size_t *size, cli_outcome *out) {
    encoder e = {chooser, NULL, 0, 0, true};
    uint32_t first, n;
    fuzz_decisions_range(&first, &n);
    put(&e, (uint8_t)(pick - first));
    sim_chooser ch = {&e, "encode", encode_begin, encode_choose, encode_end};
    cli_exec(open_target(pick), &ch, out);
    *bytes = e.buf;
    *size = e.len;
    return e.ok;
}

cli_target *fuzz_decisions_target(void) { return last >= 0 ? &targets[last] : NULL; }

void fuzz_decisions_range(uint32_t *first, uint32_t *count) {
    static int64_t only = -2; /* -2: not looked up yet; -1: every scenario */
    if (only == -2) {
        const char *want = getenv("IOCPCHECK_FUZZ_SCENARIO");
        only = -1;
        if (want != NULL && *want != 0) {
            for (uint32_t i = 0; i < fuzz_nscenarios && i < MAX_SCENARIOS; i++)
                if (strcmp(fuzz_scenarios[i].path, want) == 0) only = i;
            if (only < 0) {
                fprintf(stderr, "fuzz_decisions: IOCPCHECK_FUZZ_SCENARIO=%s is not among the %u embedded scenarios\n",
                        want, fuzz_nscenarios);
                exit(CLI_EXIT_USAGE);
            }
        }
    }
    *first = only >= 0 ? (uint32_t)only : 0;
    *count = only >= 0 ? 1 : fuzz_nscenarios < MAX_SCENARIOS ? fuzz_nscenarios : MAX_SCENARIOS;
}

static uint32_t input_pick(const uint8_t *data, size_t size) {
    uint32_t first, n;
    fuzz_decisions_range(&first, &n);
    return first + (size > 0 ? data[0] % n : 0);
}

/* The input's chooser: its bytes (search/bytes.c), then, past their end,
 * the tail (decisions.h): random, seeded from the bytes, or the first
 * chooser's non-preemptive answers. */
typedef struct input_chooser {
    sim_bytes b;
    sim_chooser bytes;
    sim_random r;
    sim_swarm w;
    sim_pct p;
    sim_chooser tail;
    bool record; /* into `expansion` */
} input_chooser;

/* The tail's strategies (IOCPCHECK_FUZZ_TAIL, decisions.h): a weighted
 * list, one drawn per input by its hash. */
enum { TAIL_RANDOM, TAIL_SWARM, TAIL_FIRST, TAIL_PCT };

#define MAX_TAILS 8
static struct {
    uint32_t n, total;
    uint8_t kind[MAX_TAILS];
    uint32_t weight[MAX_TAILS];
} tails;

static void tail_add(int kind, uint32_t weight) {
    tails.kind[tails.n] = (uint8_t)kind;
    tails.weight[tails.n++] = weight;
    tails.total += weight;
}

static void tails_parse(void) {
    const char *t = getenv("IOCPCHECK_FUZZ_TAIL");
    if (t == NULL || *t == 0) t = "random:3,pct"; /* measured best on the README's hard pairs */
    if (strcmp(t, "mix") == 0) t = "random,swarm";
    const char *p = t;
    while (*p != 0) {
        size_t len = strcspn(p, ":,");
        int kind = len == 6 && strncmp(p, "random", 6) == 0 ? TAIL_RANDOM
                 : len == 5 && strncmp(p, "swarm", 5) == 0  ? TAIL_SWARM
                 : len == 5 && strncmp(p, "first", 5) == 0  ? TAIL_FIRST
                 : len == 3 && strncmp(p, "pct", 3) == 0    ? TAIL_PCT
                                                            : -1;
        unsigned long w = 1;
        const char *q = p + len;
        if (*q == ':') {
            char *end;
            w = strtoul(q + 1, &end, 10);
            if (end == q + 1) w = 0;
            q = end;
        }
        if (kind < 0 || w == 0 || w > 1000 || (*q != 0 && *q != ',') || tails.n == MAX_TAILS) {
            fprintf(stderr,
                    "fuzz_decisions: IOCPCHECK_FUZZ_TAIL=%s: at position %d: expected random, swarm, first, pct or mix, "
                    "each with an optional :WEIGHT (1 to 1000), at most %d, separated by commas\n",
                    t, (int)(p - t) + 1, MAX_TAILS);
            exit(CLI_EXIT_USAGE);
        }
        tail_add(kind, (uint32_t)w);
        p = *q == ',' ? q + 1 : q;
    }
}

static int tail_kind(uint64_t h) {
    if (tails.n == 0) tails_parse();
    uint32_t x = (uint32_t)(h >> 32) % tails.total;
    for (uint32_t i = 0;; i++) {
        if (x < tails.weight[i]) return tails.kind[i];
        x -= tails.weight[i];
    }
}

/* Every answer of the last fuzz_decisions_check, as input bytes
 * (fuzz_decisions_expansion). */
static encoder expansion;
static bool recording;
void fuzz_decisions_record(bool on) { recording = on; }

static uint32_t input_choose(void *self, sim_ctx *sim, const sim_choice_point *pt) {
    input_chooser *in = self;
    uint32_t idx = in->b.pos < in->b.size ? in->bytes.choose(in->bytes.self, sim, pt) : in->tail.choose(in->tail.self, sim, pt);
    if (observer != NULL) observer(pt, idx);
    if (in->record && idx < pt->n) put_answer(&expansion, pt, idx);
    return idx;
}
static void input_begin(void *self, sim_ctx *sim) {
    input_chooser *in = self;
    in->bytes.begin(in->bytes.self, sim);
    if (in->tail.begin != NULL) in->tail.begin(in->tail.self, sim);
}

static sim_chooser input_chooser_for(input_chooser *in, const cli_target *t, const uint8_t *data, size_t size) {
    in->bytes = size > 0 ? sim_bytes_chooser(&in->b, data + 1, size - 1) : sim_bytes_chooser(&in->b, NULL, 0);
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the whole input */
    for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 0x100000001b3ull;
    int kind = tail_kind(h);
    in->record = false;
    /* PCT's depth from the hash too: 1 (priorities alone) to 3. */
    in->tail = kind == TAIL_FIRST   ? sim_first_chooser()
             : kind == TAIL_SWARM ? sim_swarm_chooser(&in->w, h)
             : kind == TAIL_PCT   ? sim_pct_chooser(&in->p, h, 1 + (uint32_t)(h >> 24) % 3, t->pct_k)
                                    : sim_random_chooser(&in->r, h);
    return (sim_chooser){in, "bytes", input_begin, input_choose, NULL};
}

const char *fuzz_decisions_run(const uint8_t *data, size_t size, cli_outcome *out) {
    uint32_t pick = input_pick(data, size);
    cli_target *t = open_target(pick);
    input_chooser in;
    sim_chooser ch = input_chooser_for(&in, t, data, size);
    cli_exec(t, &ch, out);
    return fuzz_scenarios[pick].path;
}

/* cli_exec_main on the wrapped seam. */
static void wrapped_main(sim_ctx *sim, const shim *sh, void *arg) {
    cli_exec_main(sim, wrapper != NULL ? wrapper(sim, sh) : sh, arg);
}

bool fuzz_decisions_check(const uint8_t *data, size_t size) {
    cli_target *t = open_target(input_pick(data, size));
    input_chooser in;
    sim_chooser ch = input_chooser_for(&in, t, data, size);
    in.record = recording;
    expansion.len = 0;
    expansion.ok = true;
    put(&expansion, size > 0 ? data[0] : 0);
    t->violated = false;
    return sim_run(t->sim, &ch, wrapped_main, t)->verdict != SIM_PASS;
}

size_t fuzz_decisions_position(void) { return recording ? expansion.len : 0; }

const uint8_t *fuzz_decisions_expansion(size_t *size) {
    *size = expansion.ok && recording ? expansion.len : 0;
    return expansion.buf;
}
