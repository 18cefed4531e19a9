/*
 * fuzz_smtpcmd.c - libFuzzer target for the command reassembler and the
 * HELO rules, and the test of a session's first data.
 *
 * The input is a script of segments: each starts with a 2-byte header
 * (a signed sequence offset step, then a length byte), then that many
 * payload bytes; what is left at the end is one last segment.  Every
 * segment is copied to a block of exactly its size so ASan sees a read
 * past it.  Every HELO/EHLO argument the reassembler reports goes through
 * helo_judge, and the invariants callers rely on are checked: arguments
 * lie inside the line buffer's bounds, a canonical name is lower case and
 * valid, nothing is reported after the session ended, and every segment
 * that opens with a greeting opens with a command.  The protocol tests
 * (smtpproto) run beside it as the sniffer runs them, the server's state
 * taken from the step's low bits: a finding is made at most once, and
 * bare_lf and more are never left set outside the callback.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "conf.h"
#include "helo.h"
#include "smtpcmd.h"
#include "smtpproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_ctx {
	struct conf_sniffer *cs;
	const struct smtpcmd *c;
	struct smtpproto p;
	unsigned found;
	bool ended;
	size_t lines;
};

static void
fuzz_line(void *ctx, enum smtpcmd_verb v, const char *arg, size_t len)
{
	struct fuzz_ctx *f = ctx;
	char name[HELO_NAME_MAX];
	unsigned n;

	if (f->ended || len > SMTPCMD_LINE_MAX)
		FUZZ_FAIL();
	f->lines++;
	n = smtpproto_line(&f->p, v, f->c->bare_lf, f->c->more);
	if (n & f->found)
		FUZZ_FAIL();
	f->found |= n;
	if (v != SMTPCMD_HELO && v != SMTPCMD_EHLO && v != SMTPCMD_MAIL)
		return;
	(void)helo_judge(f->cs, arg, len, name);
	if (strlen(name) >= HELO_NAME_MAX)
		FUZZ_FAIL();
	for (const char *p = name; *p; p++)
		if ((*p >= 'A' && *p <= 'Z') || *p == '_' || *p == ' ')
			FUZZ_FAIL();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf conf;
	struct smtpcmd c;
	struct fuzz_ctx f = { .cs = &conf.sniffer, .c = &c };
	uint32_t seq = 1000;
	size_t off = 0;

	if (conf.sniffer.queue == 0)
		conf_defaults(&conf);
	smtpcmd_init(&c);
	smtpproto_init(&f.p);
	while (off < size) {
		int8_t step = 0;
		size_t len = size - off;
		uint8_t *buf;

		if (size - off >= 2) {
			step = (int8_t)data[off];
			len = data[off + 1];
			off += 2;
			if (len > size - off)
				len = size - off;
		}
		if ((buf = malloc(len ? len : 1)) == NULL)
			return 0;
		memcpy(buf, data + off, len);
		/* A greeting is a command: the sniffer relies on it. */
		if (smtpcmd_opens_greeting(buf, len) &&
		    !smtpcmd_opens_command(buf, len))
			abort();
		seq += (uint32_t)(int32_t)step;
		if (smtpcmd_fresh(&c, seq, len)) {
			unsigned n = smtpproto_segment(&f.p,
			    (enum smtpproto_server)((uint8_t)step % 3),
			    (uint32_t)((uint8_t)step >> 2));

			if (n & f.found)
				FUZZ_FAIL();
			f.found |= n;
		}
		if (smtpcmd_feed(&c, seq, buf, len, fuzz_line, &f) !=
		    SMTPCMD_READING)
			f.ended = true;
		free(buf);
		seq += (uint32_t)len;
		off += len;
		if (c.len > SMTPCMD_LINE_MAX || c.bare_lf || c.more)
			FUZZ_FAIL();
	}
	return 0;
}
