# pfclient.sh - a full Postfix instance as the SENDING MTA, in the test
# world's client namespace, for tests that need a real retrying sender.
# Source it after e2e.sh (world.sh) and e2e_init.
#
#   pfc_start ADDR [PARAM=VALUE ...]
#                    build the instance's tree under $WORLD_DIR/pfclient
#                    (pfclient-ADDR when PFC_NAMED is set) and start it: it
#                    takes mail on 127.0.0.1:2525 (in the client namespace)
#                    and relays everything to the gateway ([$WORLD_GW4]:25),
#                    binding its connections to ADDR; retries come fast
#                    (minimal_backoff_time 2s, maximal_backoff_time 4s,
#                    queue_run_delay 2s).  PARAM=VALUE lines are appended to
#                    main.cf (e.g. maximal_queue_lifetime=0: one attempt,
#                    then a bounce).  0 once it listens.
#   pfc_send SUBJECT hand one message to it over SMTP (swaks; the instance
#                    queues it and delivers it itself)
#   pfc_stop         `postfix stop`, then end what is left of the
#                    instance by PID; safe to call twice
#   PFC_DIR          its tree: etc/ (main.cf, master.cf), spool/, data/,
#                    maillog (every status= line of the deliveries)
#   PFC_BOUNCES      the sender's mailbox (mbox): the instance delivers
#                    mail for client.example.test itself (virtual(8)), so
#                    the bounces it sends to sender@client.example.test
#                    land here, to be read by the test
#
# Separate from bench/postfix.sh (the receiving MTA in the gateway's
# namespace) and sharing nothing with it: its own config directory, queue,
# log, and processes found by namespace.  The system's /etc/postfix is only
# read (meta_directory), never written.  No DNS: the relay host is an
# address in brackets and DNS lookups are off.

PFC_DIR=
PFC_BOUNCES=
PFC_UP=

pfc_log() { printf 'pfclient: %s\n' "$*" >&2; }

pfc_cmd() {
	world_cl postfix -c "$PFC_DIR/etc" "$1" >>"$PFC_DIR/setup.log" 2>&1 && return 0
	pfc_log "postfix -c $PFC_DIR/etc $1 failed: $(world_cl script -qec "postfix -c '$PFC_DIR/etc' '$1'" /dev/null 2>&1 | tr -d '\r' | tail -3 | tr '\n' ' ')"
	return 1
}

pfc_start() {
	local addr=$1 d i kv
	shift
	command -v postfix >/dev/null || { pfc_log "postfix missing"; return 1; }
	d=$WORLD_DIR/pfclient${PFC_NAMED:+-$addr}
	PFC_DIR=$d
	PFC_BOUNCES=$d/mail/sender
	mkdir -p "$d/etc" "$d/spool" "$d/data" "$d/mail" || return 1
	chmod 755 "$d" "$d/etc" "$d/spool"
	chown postfix "$d/data" "$d/mail"
	cat >"$d/etc/main.cf" <<-EOF
	compatibility_level = 3.6
	config_directory = $d/etc
	queue_directory = $d/spool
	data_directory = $d/data
	meta_directory = /etc/postfix
	maillog_file = $d/maillog
	maillog_file_prefixes = $d
	myhostname = client.example.test
	mydomain = example.test
	myorigin = \$myhostname
	mydestination =
	local_recipient_maps =
	alias_maps =
	alias_database =
	relay_domains =
	relayhost = [$WORLD_GW4]:25
	smtp_bind_address = $addr
	smtp_dns_support_level = disabled
	smtp_host_lookup = native
	inet_interfaces = loopback-only
	inet_protocols = ipv4
	mynetworks = 127.0.0.0/8
	smtpd_relay_restrictions = permit_mynetworks reject
	minimal_backoff_time = 2s
	maximal_backoff_time = 4s
	queue_run_delay = 2s
	smtp_connect_timeout = 5s
	biff = no
	append_dot_mydomain = no
	smtputf8_enable = no
	mail_owner = postfix
	setgid_group = postdrop
	virtual_mailbox_domains = client.example.test
	virtual_mailbox_base = $d/mail
	virtual_mailbox_maps = inline:{ sender@client.example.test=sender }
	virtual_uid_maps = static:$(id -u postfix)
	virtual_gid_maps = static:$(id -g postfix)
	virtual_minimum_uid = 1
	EOF
	for kv in "$@"; do
		printf '%s = %s\n' "${kv%%=*}" "${kv#*=}" >>"$d/etc/main.cf"
	done
	cat >"$d/etc/master.cf" <<-'EOF'
	127.0.0.1:2525 inet n   -       n       -       -       smtpd
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
	smtp      unix  -       -       n       -       -       smtp
	relay     unix  -       -       n       -       -       smtp
	virtual   unix  -       n       n       -       -       virtual
	anvil     unix  -       -       n       -       1       anvil
	scache    unix  -       -       n       -       1       scache
	postlog   unix-dgram n  -       n       -       1       postlogd
	EOF
	pfc_cmd set-permissions || return 1
	pfc_cmd check || return 1
	PFC_UP=1
	pfc_cmd start || return 1
	for i in $(seq 100); do
		world_cl ss -Hltn 'sport = :2525' | grep -q '127.0.0.1:2525' && return 0
		sleep 0.05
	done
	pfc_log "the client Postfix does not listen on 127.0.0.1:2525; see $d/maillog"
	return 1
}

pfc_send() {
	world_cl swaks --server 127.0.0.1 --port 2525 --timeout 10 \
		--to postmaster@example.test --from sender@client.example.test \
		--helo client.example.test --header "Subject: $1" \
		>>"$PFC_DIR/swaks.log" 2>&1
}

# PIDs of Postfix processes in the client namespace.
pfc_pids() {
	local pid exe
	for pid in $(ip netns pids "$WORLD_CL_NS" 2>/dev/null); do
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
		case $exe in /usr/lib/postfix/*) printf '%s ' "$pid" ;; esac
	done
}

pfc_stop() {
	local i pids
	[ -n "$PFC_UP" ] || return 0
	world_cl postfix -c "$PFC_DIR/etc" stop >>"$PFC_DIR/setup.log" 2>&1 ||
		pfc_log "postfix -c $PFC_DIR/etc stop failed"
	for i in $(seq 60); do
		pids=$(pfc_pids)
		[ -z "$pids" ] && break
		if [ "$i" = 20 ] || [ "$i" = 40 ]; then
			# shellcheck disable=SC2086
			kill -s "$([ "$i" = 20 ] && echo TERM || echo KILL)" $pids 2>/dev/null
		fi
		sleep 0.1
	done
	PFC_UP=
}
