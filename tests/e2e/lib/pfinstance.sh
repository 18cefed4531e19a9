# pfinstance.sh - what every throwaway Postfix instance of the test world
# shares: its tree, the main.cf and master.cf lines every instance has, the
# postfix(1) command run in a namespace, its processes found by namespace,
# and its stop.  Two users: tests/e2e/lib/pfclient.sh (the SENDING MTA, in
# the client namespace) and bench/postfix.sh (the RECEIVING MTA, in the
# gateway namespace).  Each instance lives under WORLD_DIR, so world_down
# removes it; the system's /etc/postfix is only read for dynamicmaps.cf
# (meta_directory) and never written.  No syslog exists in the world: an
# instance logs to DIR/maillog through postlogd.
#
#   pfi_tree DIR            make DIR/etc, spool, data with the modes Postfix
#                           wants (set-permissions does the rest)
#   pfi_main_cf DIR HOST    print the main.cf lines every instance has
#                           (paths, myhostname HOST, no local delivery, no
#                           aliases, mail_owner); the caller appends its own
#   pfi_master_cf           print master.cf's service lines every instance
#                           has (everything but the smtpd listener and the
#                           delivery transports the caller adds)
#   pfi_cmd RUN DIR VERB    `postfix -c DIR/etc VERB` through RUN (world_cl
#                           or world_gw), output to DIR/setup.log; on
#                           failure the command runs again under script(1)
#                           to show why (postfix reports a fatal error only
#                           to syslog or a terminal), the reason goes to
#                           stderr with the prefix PFI_TAG, and 1 returns
#   pfi_pids NS             PIDs of Postfix processes in namespace NS
#   pfi_stop RUN NS DIR     `postfix stop`, then TERM and KILL 2 s apart to
#                           whatever of the instance is left in NS; 0 when
#                           nothing is left
#   pfi_listening RUN ADDR:PORT...
#                           0 once something listens on each ADDR:PORT as
#                           ss prints it (5 s at most)

PFI_TAG=${PFI_TAG:-postfix}

pfi_log() { printf '%s: %s\n' "$PFI_TAG" "$*" >&2; }

pfi_tree() {
	mkdir -p "$1/etc" "$1/spool" "$1/data" || return 1
	chmod 755 "$1" "$1/etc" "$1/spool"
	chown postfix "$1/data"
}

pfi_main_cf() {
	cat <<-EOF
	compatibility_level = 3.6
	config_directory = $1/etc
	queue_directory = $1/spool
	data_directory = $1/data
	meta_directory = /etc/postfix
	maillog_file = $1/maillog
	maillog_file_prefixes = $1
	myhostname = $2
	mydomain = example.test
	myorigin = \$myhostname
	mydestination =
	local_recipient_maps =
	alias_maps =
	alias_database =
	relay_domains =
	biff = no
	append_dot_mydomain = no
	smtputf8_enable = no
	mail_owner = postfix
	setgid_group = postdrop
	EOF
}

pfi_master_cf() {
	cat <<-'EOF'
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

pfi_cmd() {
	local run=$1 etc=$2/etc
	"$run" postfix -c "$etc" "$3" >>"$2/setup.log" 2>&1 && return 0
	pfi_log "postfix -c $etc $3 failed: $("$run" script -qec "postfix -c '$etc' '$3'" /dev/null 2>&1 | tr -d '\r' | tail -3 | tr '\n' ' ')"
	return 1
}

pfi_pids() {
	local pid exe
	for pid in $(ip netns pids "$1" 2>/dev/null); do
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
		case $exe in /usr/lib/postfix/*) printf '%s ' "$pid" ;; esac
	done
}

pfi_stop() {
	local run=$1 ns=$2 d=$3 i pids sig
	"$run" postfix -c "$d/etc" stop >>"$d/setup.log" 2>&1 ||
		pfi_log "postfix -c $d/etc stop failed"
	# `postfix stop` signals master, which ends its children; give them
	# 2 s, then end by PID whatever of this instance is left.
	for i in $(seq 60); do
		pids=$(pfi_pids "$ns")
		[ -z "$pids" ] && return 0
		if [ "$i" = 20 ] || [ "$i" = 40 ]; then
			sig=$([ "$i" = 20 ] && echo TERM || echo KILL)
			pfi_log "still running after postfix stop, sending $sig: $pids"
			# shellcheck disable=SC2086
			kill -s "$sig" $pids 2>/dev/null
		fi
		sleep 0.1
	done
	[ -z "$(pfi_pids "$ns")" ]
}

pfi_listening() {
	local run=$1 i a ok
	shift
	for i in $(seq 100); do
		ok=1
		for a in "$@"; do
			"$run" ss -Hltn | grep -qF " $a " || { ok=; break; }
		done
		[ -n "$ok" ] && return 0
		sleep 0.05
	done
	return 1
}
