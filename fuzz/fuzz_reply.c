/*
 * fuzz_reply.c - libFuzzer target for the reader of every reply from
 * Redis: hiredis 0.14's RESP parser with cluster_reply.c's bounds on it,
 * as each cluster connection reads (cluster_conn.c).
 *
 * The input's first byte sets the size of the pieces the rest is fed in
 * (1..256 bytes: a reply split across reads); the rest is what the
 * server sent.  After each piece every whole reply is taken.  The
 * promises checked: a reply taken holds no string over
 * CLUSTER_REPLY_STRING_MAX, no array over CLUSTER_REPLY_ELEMENTS_MAX
 * elements, and its objects' cost stays within CLUSTER_REPLY_BYTES_MAX;
 * a bound passed stops the reader with hiredis's out-of-memory error and
 * says which bound (the budget's why); bytes held unparsed past a
 * string's bound are caught by cluster_reply_check; a reader error
 * without a bound passed is a protocol error, never out of memory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "fuzz.h"
#include "../src/lib/cluster_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reply's objects as cluster_reply.c counts them; -1 past a bound. */
static long long
fuzz_reply_walk(const redisReply *r, int depth)
{
	long long bytes = (long long)sizeof(redisReply), sub;

	if (depth > 8)
		FUZZ_FAIL();		/* hiredis nests 7 at most */
	switch (r->type) {
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_ERROR:
		if (r->len > CLUSTER_REPLY_STRING_MAX)
			return -1;
		return bytes + (long long)r->len;
	case REDIS_REPLY_ARRAY:
		if (r->elements > CLUSTER_REPLY_ELEMENTS_MAX)
			return -1;
		bytes += (long long)(r->elements * sizeof(redisReply *));
		for (size_t i = 0; i < r->elements; i++) {
			if (r->element[i] == NULL)
				FUZZ_FAIL();
			if ((sub = fuzz_reply_walk(r->element[i], depth + 1)) <
			    0)
				return -1;
			bytes += sub;
		}
		return bytes;
	default:
		return bytes;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cluster_reply_budget b;
	redisReader *r;
	size_t piece, off;
	void *reply;
	long long cost;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] + 1;
	data++;
	size--;
	if ((r = redisReaderCreate()) == NULL)
		return 0;
	cluster_reply_bound(r, &b);
	for (off = 0; off < size; off += piece) {
		size_t n = size - off < piece ? size - off : piece;

		if (redisReaderFeed(r, (const char *)data + off, n) !=
		    REDIS_OK)
			break;
		if (cluster_reply_check(r, &b) == -1) {
			if (b.why[0] == '\0')
				FUZZ_FAIL();
			break;
		}
		for (;;) {
			if (redisReaderGetReply(r, &reply) != REDIS_OK) {
				/* Out of memory is only ever a bound here. */
				if ((r->err == REDIS_ERR_OOM) !=
				    (b.why[0] != '\0'))
					FUZZ_FAIL();
				goto out;
			}
			if (reply == NULL)
				break;
			cost = fuzz_reply_walk(reply, 0);
			if (cost < 0 || (size_t)cost > CLUSTER_REPLY_BYTES_MAX)
				FUZZ_FAIL();
			freeReplyObject(reply);
		}
	}
out:
	redisReaderFree(r);
	return 0;
}
