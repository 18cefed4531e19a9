#!/bin/bash
# t_builtin_table.sh BUILD_DIR - the programs of a checkout (no 'make
# install', no SHAREDIR table) use the provider table built into them:
#  - smtpgated -n and smtpgatectl check accept a configuration without
#    ptr_providers; check and the daemon judge a forward-confirmed
#    mailgun.net name with the address in it named (check: provider:
#    mailgun.net), IPv4 and IPv6, which only the table makes so;
#  - ptr_providers = FILE extends the built-in table (both count);
#    ptr_providers_mode = replace leaves only the file;
#  - a configured file that is missing stops smtpgated -n and check with
#    the file's name.
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"
[ -x "$E2E_BUILD/smtpgatectl" ] || e2e_skip "$E2E_BUILD/smtpgatectl not built"

[ -e /usr/local/share/smtpgate/ptr-providers.conf ] &&
	e2e_note "an installed table exists in /usr/local/share/smtpgate; the programs do not read it"

ctl() { CTL_OUT=$(world_gw "$E2E_BUILD/smtpgatectl" -c "$1" check "$2" 2>&1); CTL_RC=$?; }

conf=$(e2e_conf builtin)
grep -q ptr_providers "$conf" && e2e_not_ok "the base configuration names a provider table"
out=$("$E2E_BUILD/smtpgated" -n -c "$conf" 2>&1)
[ $? = 0 ] && grep -q 'configuration ok' <<<"$out" &&
	e2e_ok "smtpgated -n: configuration without ptr_providers ok" ||
	e2e_not_ok "smtpgated -n: $out"
for a in 198.51.100.99 2001:db8:c::99; do
	fam=4; world_is_v6 "$a" && fam=6
	ctl "$conf" "$a"
	[ "$CTL_RC" = 0 ] && grep -q '^class: named, provider:mailgun.net' <<<"$CTL_OUT" &&
		grep -q '^verdict: accept reason=ok cache=yes$' <<<"$CTL_OUT" &&
		e2e_ok "IPv$fam smtpgatectl check from the checkout: named, provider:mailgun.net" ||
		e2e_not_ok "IPv$fam smtpgatectl check: rc $CTL_RC: $(tr '\n' '|' <<<"$CTL_OUT")"
done

e2e_start "$conf" || e2e_finish
e2e_mark
for a in 198.51.100.99 2001:db8:c::99; do
	fam=4; world_is_v6 "$a" && fam=6
	e2e_expect "$a" ok accept ok pass "IPv$fam mailgun.net host accepted, in pass$fam" &&
		{ e2e_has "$E2E_LINE" class named && e2e_has "$E2E_LINE" fcrdns yes &&
			e2e_ok "IPv$fam daemon: class=named (without the table: generic)" ||
			e2e_not_ok "IPv$fam daemon line: $E2E_LINE"; }
done
e2e_stop TERM

# A file extends the built-in table, or replaces it.
printf '# an operator addition\ndynamic.example.net\n' >"$WORLD_DIR/extra-providers"
conf=$(e2e_conf extend "gate.ptr_providers=$WORLD_DIR/extra-providers")
ctl "$conf" 198.51.100.12
grep -q '^class: named, provider:dynamic.example.net' <<<"$CTL_OUT" &&
	e2e_ok "extend: the file's suffix counts" || e2e_not_ok "extend: $(tr '\n' '|' <<<"$CTL_OUT")"
ctl "$conf" 198.51.100.99
grep -q '^class: named, provider:mailgun.net' <<<"$CTL_OUT" &&
	e2e_ok "extend: the built-in suffixes still count" || e2e_not_ok "extend: $(tr '\n' '|' <<<"$CTL_OUT")"
conf=$(e2e_conf replace "gate.ptr_providers=$WORLD_DIR/extra-providers" gate.ptr_providers_mode=replace)
ctl "$conf" 198.51.100.99
grep -q '^class: generic' <<<"$CTL_OUT" &&
	e2e_ok "replace: the built-in table is gone (mailgun.net name generic)" ||
	e2e_not_ok "replace: $(tr '\n' '|' <<<"$CTL_OUT")"

# A configured file that is missing is a fault, named.
conf=$(e2e_conf missing gate.ptr_providers=/nonexistent/ptr-providers.conf)
out=$("$E2E_BUILD/smtpgated" -n -c "$conf" 2>&1)
rc=$?
[ $rc = 1 ] && grep -q '/nonexistent/ptr-providers.conf: open: No such file or directory (\[gate\] ptr_providers)' <<<"$out" &&
	e2e_ok "smtpgated -n: a missing ptr_providers file fails, named" ||
	e2e_not_ok "smtpgated -n with a missing file: rc $rc: $out"
ctl "$conf" 198.51.100.99
[ "$CTL_RC" != 0 ] && grep -q '/nonexistent/ptr-providers.conf: open:' <<<"$CTL_OUT" &&
	e2e_ok "smtpgatectl check: a missing ptr_providers file fails, named (rc $CTL_RC)" ||
	e2e_not_ok "smtpgatectl check with a missing file: rc $CTL_RC: $CTL_OUT"
e2e_finish
