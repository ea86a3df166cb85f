/* cf_out.h - what a fact body observed: its outcome number and the first
 * expectation it broke. Bodies run on virtual or OS threads, where Check's
 * asserts must not be called; the test reads this afterwards. Used by
 * check_conformance.c, check_win32.c and facts12.h. */
#ifndef IOCPCHECK_TESTS_CF_OUT_H
#define IOCPCHECK_TESTS_CF_OUT_H

#include <stdint.h>
#include <stdio.h>

#include "shim/iocp_shim.h"

typedef struct cf_out {
    uint32_t outcome; /* the fact's outcome number (< 32) */
    uint32_t value;   /* an extra observed number */
    char bad[256];    /* first broken expectation, "" if none */
} cf_out;

typedef void (*cf_body)(const shim *sh, cf_out *o);

/* A fact row that runs on both backends (facts_stream.h, facts_dgram.h):
 * its body, the outcomes allowed anywhere, those the simulator must produce
 * (platform any), and those Wine 8 showed (measured). */
typedef struct cf_row {
    const char *name, *fact; /* the body's name; its rows in sim/kernel/FACTS.md */
    cf_body body;
    uint32_t allowed, sim_must, wine;
} cf_row;

#define CF_EXPECT(o, cond, ...)                                                                                   \
    do {                                                                                                          \
        if (!(cond) && (o)->bad[0] == 0) {                                                                        \
            int w_ = snprintf((o)->bad, sizeof (o)->bad, "line %d: %s: ", __LINE__, #cond);                       \
            if (w_ > 0 && (size_t)w_ < sizeof (o)->bad) snprintf((o)->bad + w_, sizeof (o)->bad - (size_t)w_, __VA_ARGS__); \
        }                                                                                                         \
    } while (0)

#endif
