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
 * that opens with a greeting opens with a command.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "helo.h"
#include "smtpcmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_ctx {
	struct conf_sniffer *cs;
	bool ended;
	size_t lines;
};

static void
fuzz_line(void *ctx, enum smtpcmd_verb v, const char *arg, size_t len)
{
	struct fuzz_ctx *f = ctx;
	char name[HELO_NAME_MAX];

	if (f->ended || len > SMTPCMD_LINE_MAX)
		abort();
	f->lines++;
	if (v != SMTPCMD_HELO && v != SMTPCMD_EHLO && v != SMTPCMD_MAIL)
		return;
	(void)helo_judge(f->cs, arg, len, name);
	if (strlen(name) >= HELO_NAME_MAX)
		abort();
	for (const char *p = name; *p; p++)
		if ((*p >= 'A' && *p <= 'Z') || *p == '_' || *p == ' ')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf conf;
	struct smtpcmd c;
	struct fuzz_ctx f = { .cs = &conf.sniffer };
	uint32_t seq = 1000;
	size_t off = 0;

	if (conf.sniffer.queue == 0)
		conf_defaults(&conf);
	smtpcmd_init(&c);
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
		if (smtpcmd_feed(&c, seq, buf, len, fuzz_line, &f) !=
		    SMTPCMD_READING)
			f.ended = true;
		free(buf);
		seq += (uint32_t)len;
		off += len;
		if (c.len > SMTPCMD_LINE_MAX)
			abort();
	}
	return 0;
}
