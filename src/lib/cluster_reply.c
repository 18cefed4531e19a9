/*
 * cluster_reply.c - what one reply from Redis may hold, enforced inside
 * hiredis's reader (cluster_int.h: CLUSTER_REPLY_*).  hiredis 0.14 bounds
 * nothing: it grows its buffer to a bulk string's announced length,
 * allocates an array's announced element count, and builds a reply's
 * tree for as long as the server sends.  Its object functions are
 * wrapped here: a string over CLUSTER_REPLY_STRING_MAX, an array over
 * CLUSTER_REPLY_ELEMENTS_MAX (or of a negative count) and a reply whose
 * objects pass CLUSTER_REPLY_BYTES_MAX in all get no object; NULL is
 * hiredis's "out of memory", so the reader stops with an error and the
 * connection goes (cluster_conn.c names the bound from the budget).  A
 * bulk string longer than the bound is caught before it is whole, from
 * the bytes the reader holds unparsed (cluster_reply_check, after each
 * read).
 *
 * Exports cluster_reply_bound and cluster_reply_check (cluster_int.h).
 * Pure: no descriptor, no loop; fuzz/fuzz_reply.c drives it with
 * hiredis's reader alone.
 */
#include <stdio.h>

#include "cluster_int.h"

_Static_assert(CLUSTER_REPLY_STRING_MAX > CLUSTER_MSG_MAX &&
    CLUSTER_REPLY_STRING_MAX > CLUSTER_KEY_MAX,
    "a reply's string bound below a message or a key");

/* hiredis's own object functions, which ours wrap (every reader starts
 * with the same ones). */
static const redisReplyObjectFunctions *cluster_reply_objects;

/* The first bound passed is the one told. */
static void *
cluster_reply_refuse(struct cluster_reply_budget *b, const char *why)
{
	if (b->why[0] == '\0')
		snprintf(b->why, sizeof b->why, "%s", why);
	return NULL;
}

/* An object of `bytes` more: false (and why) past the reply's bound. */
static bool
cluster_reply_account(const redisReadTask *task, size_t bytes)
{
	struct cluster_reply_budget *b = task->privdata;
	char why[64];

	if (task->parent == NULL)
		b->bytes = 0;		/* a new reply */
	bytes += sizeof(redisReply);
	if (b->bytes > CLUSTER_REPLY_BYTES_MAX - bytes) {
		snprintf(why, sizeof why, "over %zu bytes",
		    (size_t)CLUSTER_REPLY_BYTES_MAX);
		(void)cluster_reply_refuse(b, why);
		return false;
	}
	b->bytes += bytes;
	return true;
}

static void *
cluster_reply_string(const redisReadTask *task, char *str, size_t len)
{
	char why[64];

	if (len > CLUSTER_REPLY_STRING_MAX) {
		snprintf(why, sizeof why, "string of %zu bytes (at most %d)",
		    len, CLUSTER_REPLY_STRING_MAX);
		return cluster_reply_refuse(task->privdata, why);
	}
	if (!cluster_reply_account(task, len))
		return NULL;
	return cluster_reply_objects->createString(task, str, len);
}

static void *
cluster_reply_array(const redisReadTask *task, int elements)
{
	char why[64];

	if (elements < 0 || elements > CLUSTER_REPLY_ELEMENTS_MAX) {
		snprintf(why, sizeof why, "array of %d elements (at most %d)",
		    elements, CLUSTER_REPLY_ELEMENTS_MAX);
		return cluster_reply_refuse(task->privdata, why);
	}
	if (!cluster_reply_account(task, (size_t)elements *
	    sizeof(redisReply *)))
		return NULL;
	return cluster_reply_objects->createArray(task, elements);
}

static void *
cluster_reply_integer(const redisReadTask *task, long long value)
{
	if (!cluster_reply_account(task, 0))
		return NULL;
	return cluster_reply_objects->createInteger(task, value);
}

static void *
cluster_reply_nil(const redisReadTask *task)
{
	if (!cluster_reply_account(task, 0))
		return NULL;
	return cluster_reply_objects->createNil(task);
}

static void
cluster_reply_free(void *obj)
{
	cluster_reply_objects->freeObject(obj);
}

static redisReplyObjectFunctions cluster_reply_bounded = {
	cluster_reply_string,
	cluster_reply_array,
	cluster_reply_integer,
	cluster_reply_nil,
	cluster_reply_free,
};

void
cluster_reply_bound(redisReader *r, struct cluster_reply_budget *b)
{
	if (cluster_reply_objects == NULL)
		cluster_reply_objects = r->fn;
	r->fn = &cluster_reply_bounded;
	r->privdata = b;
	b->bytes = 0;
	b->why[0] = '\0';
}

int
cluster_reply_check(const redisReader *r, struct cluster_reply_budget *b)
{
	char why[64];

	if (r->len <= r->pos || r->len - r->pos <= CLUSTER_REPLY_STRING_MAX +
	    CLUSTER_READ_SLACK)
		return 0;
	snprintf(why, sizeof why, "string over %d bytes (%zu buffered)",
	    CLUSTER_REPLY_STRING_MAX, r->len - r->pos);
	(void)cluster_reply_refuse(b, why);
	return -1;
}
