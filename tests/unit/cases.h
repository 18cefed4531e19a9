/*
 * cases.h - register one named cmocka test per row of a case table.
 *
 * Where the test list is built, declare "struct CMUnitTest t[N]",
 * "char names[N][96]" and "size_t n = 0"; then CASES(table, test_fn) adds
 * one test named "fn: row name" per row, with the row as its state.
 */
#ifndef SMTPGATE_TEST_CASES_H
#define SMTPGATE_TEST_CASES_H

#include <stdio.h>

#define CASES(tbl, fn)							\
	do {								\
		for (size_t i_ = 0; i_ < sizeof tbl / sizeof tbl[0]; i_++) { \
			snprintf(names[n], sizeof names[n], "%s: %s",	\
			    #fn + 5, tbl[i_].name);			\
			t[n].name = names[n];				\
			t[n].test_func = fn;				\
			t[n].setup_func = NULL;				\
			t[n].teardown_func = NULL;			\
			t[n].initial_state = (void *)&tbl[i_];		\
			n++;						\
		}							\
	} while (0)

#endif
