#!/bin/bash
# t_sniff_cut.sh BUILD_DIR - [sniffer] cut_session = yes: a session judged
# forged is cut at once, by a rule that needs no DNS (at the HELO) and by
# one that does (SPF, later): the client gets a reset and the MTA's socket
# is gone; a clean session is not cut.
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"

conf=$(e2e_sniff_conf cut sniffer.offender_strikes=1000 sniffer.cut_session=yes)
e2e_sniff_start "$conf" || e2e_finish
raw() { world_cl python3 "$WORLD_TOOLS/smtpraw.py" --dst "$WORLD_GW4" "$@"; }
mta_has() {	# an established socket of smtp-sink with client ADDR?
	world_gw ss -Htn state established "( sport = :25 )" | grep -qF " $1:"
}

e2e_mark
out=$(raw --src 198.51.100.57 --helo localhost cut)
e2e_check "unqualified HELO: the client gets a reset ($out)" [ "$out" = "cut: reset" ]
if mta_has 198.51.100.57; then
	e2e_not_ok "the MTA's socket of the session is still established"
else
	e2e_ok "the MTA's socket of the session is gone"
fi
line=$(e2e_wait_judgment 198.51.100.57 unqualified 3)
e2e_check "the judgment says cut=yes (${line#*: })" grep -q ' cut=yes$' <<<"$line"

e2e_mark
out=$(raw --src 198.51.100.50 --helo mail.spffail.test cut)
e2e_check "SPF fail, judged after the lookups: the client gets a reset ($out)" [ "$out" = "cut: reset" ]
line=$(e2e_wait_judgment 198.51.100.50 spf-fail 3)
e2e_check "the SPF judgment says cut=yes (${line#*: })" grep -q ' cut=yes$' <<<"$line"

e2e_mark
e2e_check "a clean session is not cut (swaks)" world_smtp 198.51.100.10 --helo mail.clean.test
raw --src 198.51.100.52 --helo mail52.clean.test cut >"$WORLD_DIR/clean-cut.out" &
cp=$!
sleep 2
e2e_check "the MTA still holds the clean session after 2 s" mta_has 198.51.100.52
wait $cp
out=$(cat "$WORLD_DIR/clean-cut.out")
e2e_check "a clean session stays open ($out)" [ "$out" = "cut: still open after 4 s" ]
stats=$(e2e_ctl stats | tail -1)
e2e_check "stats: cuts=2 cut_errors=0" [ "$(e2e_field "$stats" cuts)/$(e2e_field "$stats" cut_errors)" = 2/0 ]
e2e_finish
