/*
 * fuzz.h - what the fuzz targets share: FUZZ_FAIL(), the end of a run
 * whose result broke a promise of the code under test.  It names the
 * target's file and line (the promise checked there) on stderr before
 * aborting, so that a failure reported from a run whose reproducer is
 * gone (a CI clone) still says which promise broke.
 */
#ifndef SMTPGATE_FUZZ_H
#define SMTPGATE_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_FAIL() do {						\
	fprintf(stderr, "fuzz: promise broken at %s:%d\n",		\
	    __FILE__, __LINE__);					\
	abort();							\
} while (0)

#endif
