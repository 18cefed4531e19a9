/*
 * fuzz_cluster.c - libFuzzer target for cluster_msg_parse, the parser of
 * every value and published message read back from Redis (cluster.h).
 *
 * The input is one message, copied to a block of exactly its size so ASan
 * sees a read past it.  The promises checked: a refused message leaves the
 * event zero and a reason within its buffer; an accepted one formats back
 * to exactly its bytes (the parser accepts only the canonical text), parses
 * again to the same event, has a key that fits, and carries only bounded
 * fields (TTL, COUNT, node and reason lengths); cluster_msg_left never
 * exceeds the TTL.  An input that starts with '+' is, after it, a
 * Sentinel's +switch-master message for cluster_msg_switch: what it takes
 * has a numeric address and a port in 1..65535.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "cluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cluster_event zero;
	struct cluster_event e, e2;
	char why[96], buf[CLUSTER_MSG_MAX], key[CLUSTER_KEY_MAX];
	char *copy;
	size_t n;

	if (size > 0 && data[0] == '+') {
		char host[ADDR_STRLEN];
		struct addr a;
		int port = 0, rc;

		if ((copy = malloc(size - 1 ? size - 1 : 1)) == NULL)
			return 0;
		memcpy(copy, data + 1, size - 1);
		rc = cluster_msg_switch(copy, size - 1, "mymaster", host, &port,
		    why, sizeof why);
		free(copy);
		if (rc == 1 && (addr_parse(host, &a) != 0 || port < 1 ||
		    port > 65535))
			FUZZ_FAIL();
		if (rc == -1 && why[0] == '\0')
			FUZZ_FAIL();
		return 0;
	}
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	if (cluster_msg_parse(copy, size, &e, why, sizeof why) != 0) {
		free(copy);
		if (memcmp(&e, &zero, sizeof e) != 0 || why[0] == '\0' ||
		    strnlen(why, sizeof why) >= sizeof why)
			FUZZ_FAIL();
		return 0;
	}
	if (e.ttl_s > CLUSTER_TTL_MAX || e.count > CLUSTER_COUNT_MAX ||
	    strnlen(e.node, sizeof e.node) >= sizeof e.node ||
	    strnlen(e.reason, sizeof e.reason) >= sizeof e.reason ||
	    (unsigned)e.kind >= CLUSTER_KIND_MAX)
		FUZZ_FAIL();
	n = cluster_msg_format(&e, buf, sizeof buf);
	if (n != size || memcmp(buf, copy, size) != 0)
		FUZZ_FAIL();
	free(copy);
	if (cluster_msg_parse(buf, n, &e2, NULL, 0) != 0 ||
	    memcmp(&e, &e2, sizeof e) != 0)
		FUZZ_FAIL();
	if (cluster_msg_key("smtpgate:", &e, key, sizeof key) == 0)
		FUZZ_FAIL();
	if (cluster_msg_left(&e, e.at_ms + (int64_t)(data[0] & 0x7f) *
	    1000) > e.ttl_s)
		FUZZ_FAIL();
	return 0;
}
