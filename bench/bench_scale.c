/*
 * bench_scale.c - helpers of bench/scale.sh (one gateway at scale).
 *
 *   bench_scale sizes
 *       The bytes the daemons spend per pending lookup and per followed
 *       session, from their own structs (sizeof), one "name=bytes" word
 *       each on one line:
 *         lookup   struct gate_lookup (smtpgated, one per address under
 *                  lookup; its first GATE_HELD_INLINE held SYNs inline)
 *         held     struct gate_held (each further held SYN, on the heap)
 *         flow     struct sniff_flow (smtpgate-sniffd, one per session)
 *         session  struct sniff_session (one per session, shared with the
 *                  judgments still running)
 *         cmd      struct smtpcmd (a session's command reassembly, freed
 *                  once the session is done)
 *         record   struct strikes_rec (one per offender record)
 *       Allocator overhead (16 bytes a block with glibc) comes on top;
 *       scale.sh measures the daemon's RSS growth beside these.
 *
 *   bench_scale state RECORDS PATH [NOW]
 *       Write a state file of smtpgate-sniffd with RECORDS offender
 *       records (1..STRIKES_MAX_RECORDS; half IPv4 in 10.0.0.0/8, half
 *       IPv6 in 2001:db8::/32), struck within the last hour before NOW
 *       (default: the clock), every fifth struck twice (banned with the
 *       default strikes = 2; fewer bans with a higher limit), written
 *       with strikes_save as the daemon writes it.  Prints the file's
 *       size and the number of records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gate_int.h"
#include "sniff_int.h"
#include "smtpcmd.h"
#include "strikes.h"

static const struct strikes_cfg bench_scale_cfg = { 2, 3600, 3600,
    7 * 86400, false };

static void
bench_scale_addr(uint32_t i, struct addr *a)
{
	uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	if (i % 2 == 0) {
		uint32_t v = i / 2;

		b[0] = 10;
		b[1] = (uint8_t)(v >> 16);
		b[2] = (uint8_t)(v >> 8);
		b[3] = (uint8_t)v;
		addr_from_v4(a, b);
	} else {
		b[8] = (uint8_t)(i >> 24);
		b[9] = (uint8_t)(i >> 16);
		b[10] = (uint8_t)(i >> 8);
		b[11] = (uint8_t)i;
		b[15] = 1;
		addr_from_v6(a, b);
	}
}

static int
bench_scale_state(long records, const char *path, int64_t now)
{
	struct strikes *t;
	char err[512];
	struct stat st;

	if ((t = strikes_new()) == NULL) {
		fprintf(stderr, "bench_scale: state: out of memory\n");
		return 1;
	}
	for (long i = 0; i < records; i++) {
		struct addr a;
		uint32_t n, to;
		int64_t when = now - 3600 + 60 + i % 3000;

		bench_scale_addr((uint32_t)i, &a);
		if (strikes_add(t, &a, i % 7 == 0 ? RULE_BARE_IP :
		    RULE_UNQUALIFIED, when, &bench_scale_cfg, &n, &to) ==
		    STRIKES_FULL) {
			fprintf(stderr, "bench_scale: state: table full at "
			    "%ld records\n", i);
			strikes_free(t);
			return 1;
		}
		if (i % 5 == 0)
			(void)strikes_add(t, &a, RULE_OWN_NAME, when + 1,
			    &bench_scale_cfg, &n, &to);
	}
	if (strikes_save(t, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_scale: state: %s\n", err);
		strikes_free(t);
		return 1;
	}
	if (stat(path, &st) != 0) {
		perror("bench_scale: state: stat");
		strikes_free(t);
		return 1;
	}
	printf("bench_scale: state records=%zu bytes=%lld\n", strikes_count(t),
	    (long long)st.st_size);
	strikes_free(t);
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc == 2 && strcmp(argv[1], "sizes") == 0) {
		printf("bench_scale: sizes lookup=%zu held=%zu flow=%zu "
		    "session=%zu cmd=%zu record=%zu held_inline=%d\n",
		    sizeof(struct gate_lookup), sizeof(struct gate_held),
		    sizeof(struct sniff_flow), sizeof(struct sniff_session),
		    sizeof(struct smtpcmd), sizeof(struct strikes_rec),
		    GATE_HELD_INLINE);
		return 0;
	}
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "state") == 0) {
		char *end;
		long records = strtol(argv[2], &end, 10);
		int64_t now = argc == 5 ? strtoll(argv[4], NULL, 10) :
		    (int64_t)time(NULL);

		if (*end != '\0' || records < 1 ||
		    records > STRIKES_MAX_RECORDS || now < 86400) {
			fprintf(stderr, "bench_scale: state: RECORDS must be "
			    "1..%d, NOW seconds since the epoch\n",
			    STRIKES_MAX_RECORDS);
			return 2;
		}
		return bench_scale_state(records, argv[3], now);
	}
	fprintf(stderr, "usage: bench_scale sizes\n"
	    "       bench_scale state RECORDS PATH [NOW]\n");
	return 2;
}
