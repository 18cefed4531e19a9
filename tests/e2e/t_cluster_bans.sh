#!/bin/bash
# t_cluster_bans.sh BUILD_DIR - [cluster]: strikes are summed over the
# gateways.  A bot that sends one forged HELO to each of a, b and c
# (offender_strikes = 3: no gateway alone would ban it) has three strikes
# everywhere and is banned on all three (offend4/offend6 of each, its new
# sessions reset); the ban is in Redis; IPv4 and IPv6.
. "$(dirname "$0")/lib/cluster.sh"
e2ec_init "$@"

declare -A conf
for n in a b c; do
	conf[$n]=$(cworld_conf "$n" bans sniffer.offender_strikes=3 sniffer.offender_window=120 \
		sniffer.offender_timeout=120 sniffer.offender_timeout_max=600 gate.dnsbl=off gate.dnsbl_sites=)
	cworld_start "$n" "${conf[$n]}" gate sniffer || { e2e_not_ok "$n: the daemons did not start"; e2ec_finish; }
done
if e2ec_wait_up "a b c" 20 2; then
	e2e_ok "every gateway's two daemons are up and see their siblings"
else
	e2e_not_ok "the gateways did not all come up in the cluster"
fi

# offender_strikes NODE ADDR: strikes= of ADDR in NODE's offenders listing.
strikes_of() {
	cworld_ctl "$1" sniffer offenders | grep "^ip=$2 " | tr ' ' '\n' | sed -n 's/^strikes=//p'
}
wait_strikes() {	# NODE ADDR MIN TIMEOUT_S
	local end=$(( $(world_now_ms) + $4 * 1000 )) s
	while :; do
		s=$(strikes_of "$1" "$2")
		[ -n "$s" ] && [ "$s" -ge "$3" ] && return 0
		[ "$(world_now_ms)" -ge "$end" ] && return 1
		sleep 0.1
	done
}
# forge NODE ADDR: one session with a forged HELO; its judgment line.
forge() {
	local n=$1 a=$2 end line
	e2ec_mark
	e2ec_smtp "$n" "$a" --helo localhost
	end=$(( $(world_now_ms) + 6000 ))
	while :; do
		line=$(e2ec_since "$n" sniffer | grep -E " helo ip=$a " | grep -F ' rule=unqualified ' | head -1)
		[ -n "$line" ] && { printf '%s\n' "${line#*: }"; return 0; }
		[ "$(world_now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

for spec in "198.51.100.56 mail56.clean.test 4 a b c" "2001:db8:c::50 mail6-50.clean.test 6 b c a"; do
	set -- $spec
	bot=$1 name=$2 fam=$3 order="$4 $5 $6"
	k=0
	for n in $order; do
		k=$((k + 1))
		if ! line=$(forge "$n" "$bot"); then
			e2e_not_ok "IPv$fam forged HELO $k on $n: no judgment for $bot"
			continue
		fi
		act=$(e2e_field "$line" action)
		if [ $k -lt 3 ]; then
			e2e_check "IPv$fam forged HELO $k on $n: a strike, no ban ($line)" test "$act" = strike
			for m in $order; do
				[ "$m" = "$n" ] && continue
				e2e_check "IPv$fam after strike $k: $m counts $k strikes for $bot (offenders: strikes=$(strikes_of "$m" "$bot"))" \
					wait_strikes "$m" "$bot" "$k" 3
			done
		else
			# The ban comes from the judgment itself (the siblings'
			# strikes merged already) or from the shared total's
			# return ("cluster ip=... kind=strike ... action=ban").
			if [ "$act" = ban ]; then
				e2e_ok "IPv$fam forged HELO 3 on $n, the first there: the shared third strike bans ($line)"
			elif world_wait_log "$(cworld_log_path "$n" sniffer)" "cluster ip=$bot kind=strike node=$n .*action=ban" 3; then
				e2e_ok "IPv$fam forged HELO 3 on $n, the first there: the shared total bans ($(grep -E "cluster ip=$bot kind=strike node=$n .*action=ban" "$(cworld_log_path "$n" sniffer)" | tail -1 | sed 's/^[^ ]* [^ ]* //'))"
			else
				e2e_not_ok "IPv$fam forged HELO 3 on $n: no ban ($line)"
			fi
		fi
	done
	for n in a b c; do
		if e2ec_wait_set "$n" "offend$fam" "$bot" yes 3; then
			e2e_ok "IPv$fam $bot banned on $n (in offend$fam)"
		else
			e2e_not_ok "IPv$fam $bot not in $n's offend$fam 3 s after the third strike"
		fi
	done
	last=${order##* }
	for n in $order; do
		[ "$n" = "$last" ] && continue
		l=$(e2ec_since "$n" sniffer | grep -E "cluster ip=$bot kind=ban node=$last " | head -1)
		e2e_check "IPv$fam $n applied $last's ban (${l#*: })" grep -q 'action=applied' <<<"$l"
		e2e_check "IPv$fam $n's offenders lists $bot as banned" \
			grep -qE "^ip=$bot .* bans=[1-9][0-9]* banned_until=[1-9]" <<<"$(cworld_ctl "$n" sniffer offenders)"
	done
	e2e_check "IPv$fam Redis holds the ban (smtpgate:b:$bot: $(cworld_redis_cli GET "smtpgate:b:$bot"))" \
		grep -qE "^1 ban $last [0-9]+ [0-9]+ 1 " <<<"$(cworld_redis_cli GET "smtpgate:b:$bot")"
	for n in a b c; do
		if e2ec_smtp "$n" "$bot" --helo "$name"; then
			e2e_not_ok "IPv$fam $bot still gets a session on $n"
		else
			e2e_ok "IPv$fam $bot's new session is reset on $n"
		fi
	done
done
e2ec_finish
