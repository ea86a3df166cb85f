/* mutator.h - what fuzz_decisions tells its mutator (mutator.c). */
#ifndef IOCPCHECK_FUZZ_MUTATOR_H
#define IOCPCHECK_FUZZ_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

/* Reads IOCPCHECK_FUZZ_MUTATOR; called before the first input. */
void fuzz_mutator_setup(void);
/* Called after each input ran (fuzz_decisions_check): keeps its expansion
 * for the mutations of it that may follow. */
void fuzz_mutator_note(const uint8_t *data, size_t size);

/* fuzz_decisions.c: counts a run of the mutator's as an execution. */
void fuzz_decisions_count(void);

#endif
