/*
 * conf_reload.c - a running daemon's reload: the new file is loaded and
 * checked as at start (conf_load), then every key the daemon cannot change
 * while it runs is put back to its running value, with a warning.
 *
 * Exports conf_reload and conf_reload_keep (conf.h).  Which keys need a
 * restart, and for which daemon, is the key table's restart column
 * (conf_keys.c); this file only applies it, so smtpgated and
 * smtpgate-sniffd keep the same keys the same way.  Why it matters: a
 * daemon that took a new [nft] table from a reload while its set writer
 * stayed on the old one wrote its allow sets into a table its verdicts
 * never touched.
 */
#include <stdio.h>
#include <string.h>

#include "conf_int.h"

size_t
conf_reload_keep(const struct conf *running, struct conf *next,
    unsigned daemon, conf_warn_fn warn)
{
	char was[640], now[640];	/* a value: [cluster] sentinel's at most */
	size_t kept = 0;

	for (size_t i = 0; i < conf_keys_count(); i++) {
		const struct conf_key *k = conf_keys_at(i);

		if (!(k->restart & daemon))
			continue;
		conf_keys_value(k, running, was, sizeof was);
		conf_keys_value(k, next, now, sizeof now);
		if (strcmp(was, now) == 0)
			continue;
		if (warn != NULL)
			warn("reload: [%s] %s = %s needs a restart; still %s",
			    k->section, k->name, now, was);
		memcpy((char *)next + k->off, (const char *)running + k->off,
		    k->size);
		kept++;
	}
	return kept;
}

int
conf_reload(const char *path, const struct conf *running, unsigned daemon,
    struct conf *out, char *err, size_t errlen, conf_warn_fn warn)
{
	if (conf_load(path, out, err, errlen) == -1)
		return -1;
	conf_reload_keep(running, out, daemon, warn);
	return 0;
}
