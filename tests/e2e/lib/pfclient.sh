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
# namespace) and sharing nothing with it at run time: its own config
# directory, queue, log, and processes found by namespace; what the two
# write alike comes from pfinstance.sh.  No DNS: the relay host is an
# address in brackets and DNS lookups are off.

. "$(dirname "${BASH_SOURCE[0]}")/pfinstance.sh"

PFC_DIR=
PFC_BOUNCES=
PFC_UP=

pfc_start() {
	local addr=$1 d kv
	shift
	PFI_TAG=pfclient
	command -v postfix >/dev/null || { pfi_log "postfix missing"; return 1; }
	d=$WORLD_DIR/pfclient${PFC_NAMED:+-$addr}
	PFC_DIR=$d
	PFC_BOUNCES=$d/mail/sender
	pfi_tree "$d" || return 1
	mkdir -p "$d/mail" && chown postfix "$d/mail" || return 1
	{
		pfi_main_cf "$d" client.example.test
		cat <<-EOF
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
		virtual_mailbox_domains = client.example.test
		virtual_mailbox_base = $d/mail
		virtual_mailbox_maps = inline:{ sender@client.example.test=sender }
		virtual_uid_maps = static:$(id -u postfix)
		virtual_gid_maps = static:$(id -g postfix)
		virtual_minimum_uid = 1
		EOF
		for kv in "$@"; do
			printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
		done
	} >"$d/etc/main.cf"
	{
		echo '127.0.0.1:2525 inet n   -       n       -       -       smtpd'
		pfi_master_cf
		cat <<-'EOF'
		smtp      unix  -       -       n       -       -       smtp
		relay     unix  -       -       n       -       -       smtp
		virtual   unix  -       n       n       -       -       virtual
		EOF
	} >"$d/etc/master.cf"
	pfi_cmd world_cl "$d" set-permissions || return 1
	pfi_cmd world_cl "$d" check || return 1
	PFC_UP=1
	pfi_cmd world_cl "$d" start || return 1
	pfi_listening world_cl 127.0.0.1:2525 && return 0
	pfi_log "the client Postfix does not listen on 127.0.0.1:2525; see $d/maillog"
	return 1
}

pfc_send() {
	world_cl swaks --server 127.0.0.1 --port 2525 --timeout 10 \
		--to postmaster@example.test --from sender@client.example.test \
		--helo client.example.test --header "Subject: $1" \
		>>"$PFC_DIR/swaks.log" 2>&1
}

pfc_stop() {
	[ -n "$PFC_UP" ] || return 0
	pfi_stop world_cl "$WORLD_CL_NS" "$PFC_DIR"
	PFC_UP=
}
