/*
 * ptrclass.h - is a PTR name a generic (access-pool) name or a named host?
 *
 * Name + client address + forward-confirmation state in; a class and a short
 * reason with its evidence out ("ip-dashed-reversed", "token:pool").  No
 * allocation per call and no regex engine: the address encodings are
 * precomputed once per call on the stack.  A ptrclass context holds what is
 * loaded once (the Public Suffix List handle, the provider table) and is
 * read-only afterwards, so one context may serve many callers.
 */
#ifndef SMTPGATE_PTRCLASS_H
#define SMTPGATE_PTRCLASS_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

enum ptr_class {
	PTR_NAMED,		/* a deliberately named host */
	PTR_GENERIC,		/* dynamic / residential / cloud pool name */
	PTR_STATIC_GENERIC,	/* ISP-assigned static or business pool name */
	PTR_INVALID,		/* not an LDH host name */
};

#define PTRCLASS_REASON_MAX 64

struct ptr_verdict {
	enum ptr_class cls;
	char reason[PTRCLASS_REASON_MAX];	/* e.g. "ip-dashed-reversed" */
};

struct ptrclass;

/*
 * Load the classifier.  providers: path of the provider table (names that
 * embed address digits by design, honoured only when forward-confirmed), or
 * NULL for none.  Returns NULL with a "file:line: reason" message in err.
 */
struct ptrclass *ptrclass_new(const char *providers, char *err, size_t errlen);
void ptrclass_free(struct ptrclass *pc);

/* Classify name (any case, trailing dot allowed) for client. Never fails. */
void ptrclass_classify(const struct ptrclass *pc, const char *name,
    const struct addr *client, bool confirmed, struct ptr_verdict *out);

const char *ptrclass_name(enum ptr_class c);

#endif
