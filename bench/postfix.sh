#!/bin/bash
# postfix.sh - a throwaway Postfix MTA in the test world's gateway namespace,
# for benchmarks that want a real MTA behind the gate instead of smtp-sink.
# Source it after tests/world/world.sh and world_up.
#
#   bench_postfix_start   stop the world's smtp-sink4/smtp-sink6 and start
#                         Postfix (master, smtpd, cleanup, qmgr, discard)
#                         listening on $WORLD_GW4:25 and [$WORLD_GW6]:25
#                         in $WORLD_GW_NS; 0 once it listens on both
#   bench_postfix_stop    `postfix stop`, then end whatever of it is left
#                         in the namespace; safe to run twice or when it
#                         never started
#   BENCH_PF_DIR          its tree: etc/ (main.cf, master.cf), spool/
#                         (queue_directory), data/, maillog
#
# The instance accepts every message from the world's client ranges
# (mynetworks) and delivers it to the discard transport, so each session
# costs what it costs a real MTA (smtpd with its PTR lookup, cleanup writing
# and syncing the queue file, qmgr, discard) and nothing ever leaves.  No
# smtpd_* restrictions beyond the relay check (permit_mynetworks
# reject_unauth_destination),
# no chroot, logging to BENCH_PF_DIR/maillog through postlogd (there is
# no syslog in the world).  Everything lives under WORLD_DIR, so
# world_down removes it; the system's /etc/postfix is only read for
# dynamicmaps.cf (meta_directory) and never written.

BENCH_PF_DIR=
BENCH_PF_UP=

bench_pf_log() { printf 'bench_postfix: %s\n' "$*" >&2; }

# End the world's smtp-sink processes (world_up recorded their PIDs in
# WORLD_DIR/pids) and wait until nothing listens on port 25.
bench_pf_stop_sink() {
	local pid exe i
	# `ip netns exec` execs its command, so each recorded PID is the
	# program's own: pick those whose executable is smtp-sink.
	while read -r pid; do
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
		[ "${exe##*/}" = smtp-sink ] && world_stop "$pid" TERM
	done <"$WORLD_DIR/pids"
	for i in $(seq 50); do
		[ -z "$(world_gw ss -Hltn 'sport = :25')" ] && return 0
		sleep 0.1
	done
	bench_pf_log "port 25 still in use after stopping smtp-sink: $(world_gw ss -Hltnp 'sport = :25' | tr '\n' ' ')"
	return 1
}

bench_pf_write_conf() {
	local d=$1
	cat >"$d/etc/main.cf" <<-EOF
	compatibility_level = 3.6
	config_directory = $d/etc
	queue_directory = $d/spool
	data_directory = $d/data
	meta_directory = /etc/postfix
	maillog_file = $d/maillog
	maillog_file_prefixes = $d
	myhostname = gw.example.test
	mydomain = example.test
	myorigin = \$myhostname
	mydestination =
	local_recipient_maps =
	alias_maps =
	alias_database =
	relay_domains =
	relayhost =
	default_transport = discard
	local_transport = discard
	relay_transport = discard
	virtual_transport = discard
	inet_interfaces = $WORLD_GW4, [$WORLD_GW6]
	inet_protocols = all
	mynetworks = 127.0.0.0/8 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 198.18.0.0/15 [::1]/128 [2001:db8:ffff::]/64 [2001:db8:c::]/64 [2001:db8:b::]/64 [2001:db8:1::]/64
	smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination
	smtpd_recipient_restrictions =
	smtpd_client_restrictions =
	smtpd_helo_restrictions =
	smtpd_sender_restrictions =
	smtpd_data_restrictions =
	smtpd_banner = \$myhostname ESMTP
	biff = no
	append_dot_mydomain = no
	smtputf8_enable = no
	default_process_limit = 100
	mail_owner = postfix
	setgid_group = postdrop
	EOF
	cat >"$d/etc/master.cf" <<-'EOF'
	smtp      inet  n       -       n       -       -       smtpd
	pickup    unix  n       -       n       60      1       pickup
	cleanup   unix  n       -       n       -       0       cleanup
	qmgr      unix  n       -       n       300     1       qmgr
	rewrite   unix  -       -       n       -       -       trivial-rewrite
	bounce    unix  -       -       n       -       0       bounce
	defer     unix  -       -       n       -       0       bounce
	trace     unix  -       -       n       -       0       bounce
	verify    unix  -       -       n       -       1       verify
	flush     unix  n       -       n       1000?   0       flush
	proxymap  unix  -       -       n       -       -       proxymap
	showq     unix  n       -       n       -       -       showq
	error     unix  -       -       n       -       -       error
	retry     unix  -       -       n       -       -       error
	discard   unix  -       -       n       -       -       discard
	anvil     unix  -       -       n       -       1       anvil
	scache    unix  -       -       n       -       1       scache
	postlog   unix-dgram n  -       n       -       1       postlogd
	EOF
}

# bench_pf_cmd VERB: `postfix -c ETC VERB` in the gateway namespace.  The
# postfix command reports a fatal error only to syslog (absent here) or to
# a terminal, so on failure the command runs again under script(1) to show
# why (set-permissions, check and start are safe to repeat).
bench_pf_cmd() {
	local etc=$BENCH_PF_DIR/etc
	world_gw postfix -c "$etc" "$1" >>"$BENCH_PF_DIR/setup.log" 2>&1 && return 0
	bench_pf_log "postfix -c $etc $1 failed: $(world_gw script -qec "postfix -c '$etc' '$1'" /dev/null 2>&1 | tr -d '\r' | tail -3 | tr '\n' ' ')"
	return 1
}

bench_postfix_start() {
	local d i
	[ -n "${WORLD_DIR:-}" ] || { bench_pf_log "no test world"; return 1; }
	command -v postfix >/dev/null || { bench_pf_log "postfix missing"; return 1; }
	d=$WORLD_DIR/postfix
	BENCH_PF_DIR=$d
	mkdir -p "$d/etc" "$d/spool" "$d/data" || return 1
	chmod 755 "$d" "$d/etc" "$d/spool"
	chown postfix "$d/data"
	bench_pf_write_conf "$d"
	bench_pf_stop_sink || return 1
		# set-permissions builds the queue tree with Postfix's own owners
	# and modes.
	bench_pf_cmd set-permissions || return 1
	bench_pf_cmd check || return 1
	BENCH_PF_UP=1
	bench_pf_cmd start || return 1
	for i in $(seq 100); do
		world_gw ss -Hltn 'sport = :25' | grep -q "$WORLD_GW4:25" &&
			world_gw ss -Hltn 'sport = :25' | grep -q "\[$WORLD_GW6\]:25" && return 0
		sleep 0.05
	done
	bench_pf_log "postfix does not listen on :25; see $d/maillog $d/setup.log"
	return 1
}

bench_postfix_stop() {
	local d=$BENCH_PF_DIR pids i
	[ -n "$BENCH_PF_UP" ] || return 0
	world_gw postfix -c "$d/etc" stop >>"$d/setup.log" 2>&1 ||
		bench_pf_log "postfix -c $d/etc stop failed"
	# `postfix stop` signals master, which ends its children; give them
	# 2 s, then end by PID whatever of this instance is left in the
	# namespace: TERM, and KILL 2 s later.
	for i in $(seq 60); do
		pids=$(bench_pf_pids)
		[ -z "$pids" ] && break
		if [ "$i" = 20 ] || [ "$i" = 40 ]; then
			bench_pf_log "still running after postfix stop, sending $([ "$i" = 20 ] && echo TERM || echo KILL): $pids"
			# shellcheck disable=SC2086
			kill -s "$([ "$i" = 20 ] && echo TERM || echo KILL)" $pids 2>/dev/null
		fi
		sleep 0.1
	done
	BENCH_PF_UP=
	[ -z "$(bench_pf_pids)" ]
}

# PIDs of Postfix processes in the gateway namespace.
bench_pf_pids() {
	local pid exe
	for pid in $(ip netns pids "$WORLD_GW_NS" 2>/dev/null); do
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
		case $exe in /usr/lib/postfix/*) printf '%s ' "$pid" ;; esac
	done
}
