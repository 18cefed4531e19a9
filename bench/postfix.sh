#!/bin/bash
# postfix.sh - a throwaway Postfix MTA in the test world's gateway namespace,
# for benchmarks that want a real MTA behind the gate instead of smtp-sink.
# Source it after tests/world/world.sh and world_up.  What it shares with
# the test world's sending Postfix comes from tests/e2e/lib/pfinstance.sh.
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

. "$(dirname "${BASH_SOURCE[0]}")/../tests/e2e/lib/pfinstance.sh"

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
	{
		pfi_main_cf "$d" gw.example.test
		cat <<-EOF
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
		default_process_limit = 100
		EOF
	} >"$d/etc/main.cf"
	{
		echo 'smtp      inet  n       -       n       -       -       smtpd'
		pfi_master_cf
	} >"$d/etc/master.cf"
}

bench_postfix_start() {
	local d
	PFI_TAG=bench_postfix
	[ -n "${WORLD_DIR:-}" ] || { bench_pf_log "no test world"; return 1; }
	command -v postfix >/dev/null || { bench_pf_log "postfix missing"; return 1; }
	d=$WORLD_DIR/postfix
	BENCH_PF_DIR=$d
	pfi_tree "$d" || return 1
	bench_pf_write_conf "$d"
	bench_pf_stop_sink || return 1
	# set-permissions builds the queue tree with Postfix's own owners
	# and modes.
	pfi_cmd world_gw "$d" set-permissions || return 1
	pfi_cmd world_gw "$d" check || return 1
	BENCH_PF_UP=1
	pfi_cmd world_gw "$d" start || return 1
	pfi_listening world_gw "$WORLD_GW4:25" "[$WORLD_GW6]:25" && return 0
	bench_pf_log "postfix does not listen on :25; see $d/maillog $d/setup.log"
	return 1
}

bench_postfix_stop() {
	[ -n "$BENCH_PF_UP" ] || return 0
	BENCH_PF_UP=
	pfi_stop world_gw "$WORLD_GW_NS" "$BENCH_PF_DIR"
}

# PIDs of Postfix processes in the gateway namespace.
bench_pf_pids() { pfi_pids "$WORLD_GW_NS"; }
