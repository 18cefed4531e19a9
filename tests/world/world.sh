#!/bin/bash
# world.sh - a throwaway mail-gateway test world built from real parts.
#
# Two network namespaces joined by a veth pair, IPv4 and IPv6:
#   $WORLD_PREFIX-gw  the gateway: 192.0.2.1/24, 2001:db8:ffff::1/64; runs
#                     unbound (127.0.0.1:53, ::1:53, its resolv.conf),
#                     rbldnsd (127.0.0.2:53: bl.test, wl.test, broken.test)
#                     and Postfix's smtp-sink on port 25 (v4 and v6).
#   $WORLD_PREFIX-cl  the clients: 192.0.2.2 (in the trusted /28) and every
#                     address of 198.51.100.0/24, 203.0.113.0/24,
#                     198.18.0.0/15, 2001:db8:c::/64, 2001:db8:b::/64 and
#                     2001:db8:1::/64 (local routes on lo, so any of them
#                     can be bound without adding it).
# Only documentation/benchmark ranges are used; unbound refuses everything
# that is not one of its local zones, so nothing is ever asked outside.
# PTR/A/AAAA data and DNSBL listings come from hosts.tsv, other records
# (SPF TXT, MX, A of domains) from records.tsv (see their headers).
# silent.test is delegated to 127.0.0.9:53, where a test can start a
# resolver that never answers (world_dns_proxy NAME 127.0.0.9:53
# --blackhole).
#
# Use as a library (source it; every name starts with world_/WORLD_) or as
#   world.sh up|down|status
# State lives in WORLD_DIR (/tmp/smtpgate-world.$WORLD_PREFIX.XXXXXX) and
# in /etc/netns/$WORLD_PREFIX-gw; world_down removes both, kills every
# process it started and every process left in the namespaces, and is safe
# to run twice or after a crash; world_up runs it first.
#
# Parallel worlds need distinct prefixes (namespaces, state directories);
# a test run can use WORLD_PREFIX=sgt$$ and WORLD_OWNER=$$ so that a later
# world_up reaps its world if the run dies without tearing it down.
#
# Helpers for tests and benchmarks:
#   world_up / world_down / world_status
#   world_check                the prerequisites (programs, swaks' IPv6,
#                              kernel features): one line naming what is
#                              missing; world_up runs it first
#   world_user                 the user smtpgate the daemons switch to when
#                              started as root: created when missing (and
#                              logged); world_up runs it
#   world_reap                 tear down worlds whose WORLD_OWNER died
#   world_gw CMD...            run in the gateway namespace
#   world_cl CMD...            run in the client namespace
#   world_bg NAME CMD...       start CMD in the gateway ns in the background,
#                              stdout+stderr to $WORLD_DIR/NAME.log; its PID
#                              in WORLD_BG_PID (recorded for world_down)
#   world_bg_cl NAME CMD...    the same in the client namespace
#   world_stop PID [SIGNAL]    signal a process and wait for it (5 s)
#   world_smtp ADDR [SWAKS_OPTS...]  one SMTP transaction from client
#                              address ADDR to the gateway; returns swaks'
#                              status; transcript appended to WORLD_SMTP_LOG
#   world_wait_log FILE ERE TIMEOUT_S   wait until a line matches
#   world_set_has SET ADDR     is ADDR in set SET of table inet $WORLD_TABLE
#   world_set_list SET         the elements of a set, one per line
#   world_flush_sets           empty the pass/deny/drop sets (and the /64 ones)
#   world_dns_proxy NAME LISTEN [dnsproxy.py options]  slow/mute resolver
#                              in the gateway ns forwarding to unbound
#   world_conf FILE [sec.key=val...]  the world's smtpgate config
#   world_now_ms               milliseconds since the epoch
#   world_is_v6 ADDR           does ADDR look like an IPv6 address
#   world_ctl SOCKET REQUEST   one request to a control socket; the answer
# Variables: WORLD_DIR, WORLD_GW_NS, WORLD_CL_NS, WORLD_GW4/6, WORLD_CL4/6,
# WORLD_TABLE (nft table name, default smtpgate), WORLD_TOOLS (tests/tools).

WORLD_PREFIX=${WORLD_PREFIX:-sgw}
WORLD_GW_NS=$WORLD_PREFIX-gw
WORLD_CL_NS=$WORLD_PREFIX-cl
WORLD_GW4=192.0.2.1
WORLD_CL4=192.0.2.2
WORLD_GW6=2001:db8:ffff::1
WORLD_CL6=2001:db8:ffff::2
WORLD_ELSEWHERE4=192.0.2.250
WORLD_ELSEWHERE6=2001:db8:ffff::250
WORLD_TABLE=${WORLD_TABLE:-smtpgate}
WORLD_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORLD_TOOLS=$(cd "$WORLD_HOME/../tools" && pwd)
WORLD_HOSTS=${WORLD_HOSTS:-$WORLD_HOME/hosts.tsv}
# Extra records (TXT for SPF, MX, A of domains): see its header.
WORLD_RECORDS=${WORLD_RECORDS:-$WORLD_HOME/records.tsv}
# Client ranges (routed gateway -> client, bindable on the client's lo).
WORLD_CL_NETS4="198.51.100.0/24 203.0.113.0/24 198.18.0.0/15"
WORLD_CL_NETS6="2001:db8:c::/64 2001:db8:b::/64 2001:db8:1::/64"
WORLD_DIR=${WORLD_DIR:-}

world_log() { printf 'world: %s\n' "$*" >&2; }

world_gw() { ip netns exec "$WORLD_GW_NS" "$@"; }
world_cl() { ip netns exec "$WORLD_CL_NS" "$@"; }
world_now_ms() { date +%s%3N; }

# Find the state directory of a running world with this prefix.
world_find_dir() {
	local d
	for d in /tmp/smtpgate-world."$WORLD_PREFIX".*; do
		[ -d "$d" ] && { printf '%s\n' "$d"; return 0; }
	done
	return 1
}

world_down() {
	local d pid ns
	for d in /tmp/smtpgate-world."$WORLD_PREFIX".*; do
		[ -d "$d" ] || continue
		if [ -f "$d/pids" ]; then
			while read -r pid; do
				kill "$pid" 2>/dev/null
			done <"$d/pids"
		fi
	done
	# Anything else still living in our namespaces was started there by
	# us or by a test (a daemon, a proxy, a client): end it by its PID.
	for ns in "$WORLD_GW_NS" "$WORLD_CL_NS"; do
		ip netns list 2>/dev/null | grep -qw "^$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
	done
	sleep 0.2
	for ns in "$WORLD_GW_NS" "$WORLD_CL_NS"; do
		ip netns list 2>/dev/null | grep -qw "^$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	for d in /tmp/smtpgate-world."$WORLD_PREFIX".*; do
		[ -d "$d" ] && rm -rf "$d"
	done
	rm -rf "/etc/netns/$WORLD_GW_NS" "/etc/netns/$WORLD_CL_NS"
	WORLD_DIR=
	return 0
}

# TEXT as unbound's TXT strings: ' "..." "..."', 255 bytes each.
world_txt_strings() {
	printf '%s' "$1" | fold -b -w 255 | sed 's/.*/ "&"/' | tr -d '\n'
}

# Generate unbound.conf and the rbldnsd data files from the host table.
world_gen_dns() {
	local dir=$1 ip ptr fwd dnsbl note tld z ans ent v6
	local zones="" data=""
	: >"$dir/bl4"; : >"$dir/bl6"; : >"$dir/wl4"; : >"$dir/wl6"
	: >"$dir/broken4"; : >"$dir/broken6"
	# Health-probe entries (RFC 5782): 127.0.0.2 listed, 127.0.0.1 not,
	# except on broken.test, which lists both and so fails the probe.
	echo "127.0.0.2 :127.0.0.2:probe" >>"$dir/bl4"
	echo "127.0.0.2 :127.0.10.2:probe" >>"$dir/wl4"
	printf '%s\n' "127.0.0.1 :127.0.0.2:broken" "127.0.0.2 :127.0.0.2:probe" >>"$dir/broken4"
	while IFS=$'\t' read -r ip ptr fwd dnsbl note; do
		case $ip in ''|'#'*) continue ;; esac
		v6=no; case $ip in *:*) v6=yes ;; esac
		if [ "$ptr" != "-" ]; then
			data+="local-data-ptr: \"$ip $ptr.\""$'\n'
			tld=${ptr##*.}
			case " $zones " in *" $tld "*) ;; *) zones+=" $tld" ;; esac
			case $fwd in
			yes)	[ $v6 = yes ] && data+="local-data: \"$ptr. AAAA $ip\""$'\n' ||
					data+="local-data: \"$ptr. A $ip\""$'\n' ;;
			no)	[ $v6 = yes ] && data+="local-data: \"$ptr. AAAA $WORLD_ELSEWHERE6\""$'\n' ||
					data+="local-data: \"$ptr. A $WORLD_ELSEWHERE4\""$'\n' ;;
			nx)	;;
			*)	world_log "hosts: $ip: forward must be yes|no|nx, got '$fwd'"; return 1 ;;
			esac
		fi
		[ "$dnsbl" = "-" ] && continue
		for ent in ${dnsbl//,/ }; do
			z=bl.test; ans=$ent
			case $ent in *:*) z=${ent%%:*}; ans=${ent#*:} ;; esac
			case $z in
			bl.test) z=bl ;; wl.test) z=wl ;; broken.test) z=broken ;;
			*) world_log "hosts: $ip: unknown DNSBL zone '$z'"; return 1 ;;
			esac
			if [ $v6 = yes ]; then
				echo "$ip/128 :$ans:$note" >>"$dir/${z}6"
			else
				echo "$ip :$ans:$note" >>"$dir/${z}4"
			fi
		done
	done <"$WORLD_HOSTS"
	local name type rdata strs
	if [ -f "$WORLD_RECORDS" ]; then
		while IFS=$'\t' read -r name type rdata; do
			case $name in ''|'#'*) continue ;; esac
			case $type in
			TXT)	# Strings of at most 255 bytes (RFC 1035), as many
				# as the text needs.
				strs=$(world_txt_strings "$rdata")
				data+="local-data: '$name. TXT$strs'"$'\n' ;;
			TXTRAW)	# The strings as written ("v=spf1" "a"): a
				# record split where the test wants it.
				data+="local-data: '$name. TXT $rdata'"$'\n' ;;
			ZONE)	# A local zone of its own, e.g. redirect: every
				# name under it answers with its apex's data.
				data+="local-zone: \"$name.\" $rdata"$'\n' ;;
			*)	data+="local-data: \"$name. $type $rdata\""$'\n' ;;
			esac
		done <"$WORLD_RECORDS"
	fi
	{
		cat <<-EOF
		server:
		  interface: 127.0.0.1
		  interface: ::1
		  port: 53
		  do-daemonize: no
		  username: ""
		  chroot: ""
		  directory: "$dir"
		  pidfile: ""
		  use-syslog: no
		  logfile: ""
		  verbosity: 1
		  num-threads: 1
		  module-config: "iterator"
		  do-not-query-localhost: no
		  qname-minimisation: no
		  cache-max-ttl: 0
		  cache-max-negative-ttl: 0
		  infra-host-ttl: 1
		  access-control: 127.0.0.0/8 allow
		  access-control: ::1 allow
		  local-zone: "." refuse
		  local-zone: "in-addr.arpa." static
		  local-zone: "ip6.arpa." static
		  local-zone: "test." static
		  local-zone: "bl.test." transparent
		  local-zone: "wl.test." transparent
		  local-zone: "broken.test." transparent
		  local-zone: "silent.test." transparent
		EOF
		for tld in $zones; do
			[ "$tld" = test ] || echo "  local-zone: \"$tld.\" static"
		done
		printf '%s' "$data" | sed 's/^/  /'
		for z in bl.test wl.test broken.test; do
			printf 'stub-zone:\n  name: "%s."\n  stub-addr: 127.0.0.2@53\n' "$z"
		done
		# A zone whose nameserver never answers when a test starts
		# world_dns_proxy ... 127.0.0.9:53 --blackhole (nothing there
		# otherwise: unbound then answers SERVFAIL at once).
		printf 'stub-zone:\n  name: "silent.test."\n  stub-addr: 127.0.0.9@53\n'
		printf 'remote-control:\n  control-enable: no\n'
	} >"$dir/unbound.conf"
}

# Start CMD in namespace NS in the background; PID in WORLD_BG_PID.
world_bg_ns() {
	local ns=$1 name=$2; shift 2
	ip netns exec "$ns" "$@" >>"$WORLD_DIR/$name.log" 2>&1 &
	WORLD_BG_PID=$!
	echo "$WORLD_BG_PID" >>"$WORLD_DIR/pids"
}
world_bg() { world_bg_ns "$WORLD_GW_NS" "$@"; }
world_bg_cl() { world_bg_ns "$WORLD_CL_NS" "$@"; }

world_stop() {
	local pid=$1 sig=${2:-TERM} i
	kill -"$sig" "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$pid" 2>/dev/null
}

# Tear down worlds left by runs that died: a world whose owner file names
# a process that no longer exists.  Worlds without an owner (brought up by
# hand with `world.sh up`) are left alone.
world_reap() {
	local d owner prefix
	for d in /tmp/smtpgate-world.*.*; do
		[ -f "$d/owner" ] && [ -f "$d/prefix" ] || continue
		owner=$(cat "$d/owner"); prefix=$(cat "$d/prefix")
		case $owner in ''|*[!0-9]*) continue ;; esac
		kill -0 "$owner" 2>/dev/null && continue
		[ "$prefix" = "$WORLD_PREFIX" ] && continue
		world_log "reaping world $prefix left by dead process $owner"
		( WORLD_PREFIX=$prefix; WORLD_GW_NS=$prefix-gw; WORLD_CL_NS=$prefix-cl; world_down )
	done
}

# world_check: are the programs, the Perl modules and the kernel features
# the world uses all here?  Prints one line naming everything missing and
# returns 1, or returns 0 silently.  The kernel features are tried in a
# scratch namespace: network namespaces, veth, nf_tables with timeout sets,
# connection tracking and NFQUEUE.
world_check() {
	local missing="" p ns=${WORLD_PREFIX:0:11}-chk
	[ "$(id -u)" = 0 ] || { world_log "needs root"; return 1; }
	for p in ip nft unbound rbldnsd smtp-sink smtp-source swaks kdig python3 ss timeout awk; do
		command -v "$p" >/dev/null 2>&1 || missing+=" $p"
	done
	# swaks only recommends the module it needs for IPv6.
	if command -v swaks >/dev/null 2>&1 &&
	    swaks --support 2>&1 | grep -q "IPv6 not available"; then
		missing+=" swaks-IPv6(libio-socket-inet6-perl)"
	fi
	if ip netns add "$ns" 2>/dev/null; then
		# Interface names are per namespace: short fixed ones fit IFNAMSIZ.
		ip -n "$ns" link add chk0 type veth peer name chk1 2>/dev/null ||
			missing+=" kernel:veth"
		printf '%s\n' 'table inet smtpgate_check {' \
			'  set s { type ipv4_addr; flags timeout; }' \
			'  chain c { type filter hook input priority 0; ct state new counter; }' \
			'}' | ip netns exec "$ns" nft -f - 2>/dev/null ||
			missing+=" kernel:nf_tables(timeout-sets,conntrack)"
		[ -e /proc/net/netfilter/nfnetlink_queue ] ||
			ip netns exec "$ns" test -e /proc/net/netfilter/nfnetlink_queue ||
			missing+=" kernel:nfnetlink_queue"
		ip netns del "$ns" 2>/dev/null
	else
		missing+=" kernel:network-namespaces"
	fi
	[ -z "$missing" ] && return 0
	world_log "missing:$missing (run tools/install-deps.sh)"
	return 1
}

# world_user: started as root, the daemons run as user smtpgate
# (src/lib/privdrop.c) and refuse to start without it.  Create it when
# missing, as make install or a package would, and say so.
world_user() {
	getent passwd smtpgate >/dev/null 2>&1 && return 0
	command -v useradd >/dev/null 2>&1 ||
		{ world_log "user smtpgate is missing and there is no useradd"; return 1; }
	useradd --system --user-group --home-dir /var/lib/smtpgate --no-create-home \
		--shell /usr/sbin/nologin smtpgate || return 1
	world_log "created system user smtpgate (useradd --system): the daemons, started as root, run as it"
}

world_up() {
	local gv cv net i
	world_check || return 1
	world_user || return 1
	world_down
	world_reap
	WORLD_DIR=$(mktemp -d "/tmp/smtpgate-world.$WORLD_PREFIX.XXXXXX") || return 1
	chmod 755 "$WORLD_DIR"	# rbldnsd reads its files as nobody
	: >"$WORLD_DIR/pids"
	printf '%s\n' "$WORLD_PREFIX" >"$WORLD_DIR/prefix"
	# WORLD_OWNER: PID whose death makes this world garbage (for world_reap).
	printf '%s\n' "${WORLD_OWNER:-}" >"$WORLD_DIR/owner"
	gv=${WORLD_PREFIX:0:11}-g; cv=${WORLD_PREFIX:0:11}-c
	ip netns add "$WORLD_GW_NS" && ip netns add "$WORLD_CL_NS" || return 1
	for i in "$WORLD_GW_NS" "$WORLD_CL_NS"; do
		ip netns exec "$i" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 >/dev/null
		ip -n "$i" link set lo up
	done
	ip link add "$gv" netns "$WORLD_GW_NS" type veth peer name "$cv" netns "$WORLD_CL_NS" || return 1
	ip -n "$WORLD_GW_NS" addr add "$WORLD_GW4/24" dev "$gv"
	ip -n "$WORLD_GW_NS" addr add "$WORLD_GW6/64" dev "$gv" nodad
	ip -n "$WORLD_CL_NS" addr add "$WORLD_CL4/24" dev "$cv"
	ip -n "$WORLD_CL_NS" addr add "$WORLD_CL6/64" dev "$cv" nodad
	ip -n "$WORLD_GW_NS" link set "$gv" up
	ip -n "$WORLD_CL_NS" link set "$cv" up
	ip netns exec "$WORLD_CL_NS" sysctl -qw net.ipv6.ip_nonlocal_bind=1 >/dev/null
	for net in $WORLD_CL_NETS4; do
		ip -n "$WORLD_CL_NS" route add local "$net" dev lo || return 1
		ip -n "$WORLD_GW_NS" route add "$net" via "$WORLD_CL4" || return 1
	done
	for net in $WORLD_CL_NETS6; do
		ip -n "$WORLD_CL_NS" -6 route add local "$net" dev lo || return 1
		ip -n "$WORLD_GW_NS" -6 route add "$net" via "$WORLD_CL6" || return 1
	done
	mkdir -p "/etc/netns/$WORLD_GW_NS"
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$WORLD_GW_NS/resolv.conf"

	world_gen_dns "$WORLD_DIR" || return 1
	chmod 644 "$WORLD_DIR"/bl? "$WORLD_DIR"/wl? "$WORLD_DIR"/broken?
	world_bg rbldnsd rbldnsd -n -b 127.0.0.2/53 -u nobody -w "$WORLD_DIR" \
		bl.test:ip4set:bl4 bl.test:ip6trie:bl6 \
		wl.test:ip4set:wl4 wl.test:ip6trie:wl6 \
		broken.test:ip4set:broken4 broken.test:ip6trie:broken6
	world_bg unbound unbound -d -c "$WORLD_DIR/unbound.conf"
	world_bg smtp-sink4 smtp-sink -u nobody -4 0.0.0.0:25 256
	world_bg smtp-sink6 smtp-sink -u nobody -6 '[::]:25' 256
	# veth carrier comes up asynchronously; a SYN sent before is lost and
	# costs the client a 1 s retransmit.
	for i in $(seq 50); do
		ip -n "$WORLD_GW_NS" link show dev "$gv" | grep -q 'state UP' &&
			ip -n "$WORLD_CL_NS" link show dev "$cv" | grep -q 'state UP' && break
		sleep 0.1
	done
	for i in $(seq 50); do
		world_gw kdig +timeout=1 +retry=0 +short @127.0.0.1 mail.clean.test A 2>/dev/null |
			grep -q 198.51.100.10 &&
		world_gw kdig +timeout=1 +retry=0 +short @127.0.0.1 2.0.0.127.bl.test A 2>/dev/null |
			grep -q 127.0.0.2 &&
		world_gw ss -Hltn 'sport = :25' | grep -q '\[::\]:25' &&
		world_gw ss -Hltn 'sport = :25' | grep -q '0.0.0.0:25' && break
		sleep 0.1
	done
	[ "$i" -lt 50 ] || { world_log "DNS or smtp-sink did not come up; logs in $WORLD_DIR"; return 1; }
	world_log "up: $WORLD_GW_NS/$WORLD_CL_NS, state in $WORLD_DIR"
}

world_status() {
	local d
	d=$(world_find_dir) || { echo "world $WORLD_PREFIX: down"; return 1; }
	echo "world $WORLD_PREFIX: up, state in $d"
	ip netns list | grep -E "^($WORLD_GW_NS|$WORLD_CL_NS)\b"
	echo "processes in $WORLD_GW_NS:"
	for pid in $(ip netns pids "$WORLD_GW_NS" 2>/dev/null); do
		printf '  %s %s\n' "$pid" "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
	done
	world_gw nft list tables 2>/dev/null | sed 's/^/  nft: /'
}

# world_conf FILE [section.key=value ...]: write the world's base
# configuration for smtpgate (its resolver, its DNSBL zones, the trusted
# link; the provider table is the programs' built-in one) with the given
# keys replaced or added;
# prints FILE.  An empty value ("gate.dnsbl_sites=") empties the key.
world_conf() {
	local f=$1 kv sec key val; shift
	cat >"$f" <<-EOF
	[dns]
	resolvers = 127.0.0.1:53
	timeout_ms = 1000
	tries = 2

	[gate]
	queue = 0
	ports = 25
	no_ptr = reject
	generic_ptr = reject
	fcrdns = log
	dnsbl = reject
	dns_error = accept
	dnsbl_sites = bl.test=127.0.0.[2..11]*3 wl.test=127.0.[0..255].[1..3]*-2
	dnsbl_threshold = 3
	dnsbl_allow_threshold = -1
	deadline_ms = 2500
	pass_ttl = 3600
	deny_ttl = 900
	trusted_networks = 192.0.2.0/28 2001:db8:1::/48
	; The IPv6 hosts of hosts.tsv share 2001:db8:c::/64, each with a
	; verdict of its own: no /64 caching here (t_limits turns it on).
	cache_v6_network = no

	[nft]
	table = $WORLD_TABLE

	; The verdict journal in the world's directory (the daemons create
	; it for their user), never the host's /var/lib/smtpgate.
	[journal]
	file = $WORLD_DIR/journal/journal.db
	EOF
	for kv in "$@"; do
		sec=${kv%%.*}; kv=${kv#*.}; key=${kv%%=*}; val=${kv#*=}
		awk -v sec="[$sec]" -v key="$key" -v val="$val" '
			/^\[/ { if (insec && !done) { print key " = " val; done = 1 }
				insec = ($0 == sec) }
			insec && $1 == key { if (!done) print key " = " val; done = 1; next }
			{ print }
			END { if (!done) { if (!insec) print sec; print key " = " val } }
		' "$f" >"$f.new" && mv "$f.new" "$f"
	done
	# Read again on reloads by the daemon's user (smtpgate).
	chmod 644 "$f"
	printf '%s\n' "$f"
}

world_is_v6() { case $1 in *:*) return 0 ;; esac; return 1; }

# world_ctl SOCKET REQUEST: one request to a daemon's control socket in the
# gateway namespace; prints the answer.
world_ctl() {
	world_gw python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode(errors="replace"))
PY
}

# world_smtp ADDR [swaks options]: one mail from client address ADDR.
world_smtp() {
	local addr=$1 server=$WORLD_GW4 rc; shift
	world_is_v6 "$addr" && server=$WORLD_GW6
	{
		echo "=== $(date +%T.%3N) swaks from $addr"
		world_cl swaks --server "$server" --port 25 --local-interface "$addr" \
			--timeout 5 --to postmaster@example.test --from sender@example.test \
			--helo client.example.test "$@" 2>&1
		rc=$?
		echo "=== swaks from $addr: status $rc"
		return $rc
	} >>"${WORLD_SMTP_LOG:-${WORLD_DIR:-/tmp}/swaks.log}"
}

# world_wait_log FILE ERE TIMEOUT_S: 0 once a line of FILE matches ERE.
world_wait_log() {
	local file=$1 re=$2 t=$3 end
	end=$(( $(world_now_ms) + t * 1000 ))
	while :; do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		[ "$(world_now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

world_set_list() {
	world_gw nft -j list set inet "$WORLD_TABLE" "$1" 2>/dev/null |
		python3 -c '
import json, sys
try:
    doc = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
for o in doc.get("nftables", []):
    for e in o.get("set", {}).get("elem", []) or []:
        if isinstance(e, dict) and "elem" in e:
            e = e["elem"]["val"]
        if isinstance(e, dict) and "prefix" in e:
            e = "%s/%s" % (e["prefix"]["addr"], e["prefix"]["len"])
        elif isinstance(e, dict) and "range" in e:
            e = "%s-%s" % tuple(e["range"])
        print(e)'
}

world_set_has() {
	world_set_list "$1" | grep -xF -- "$2" >/dev/null
}

world_flush_sets() {
	local s
	for s in pass4 pass6 deny4 deny6 denynet6 drop4 drop6 dropnet6; do
		world_gw nft flush set inet "$WORLD_TABLE" "$s" 2>/dev/null
	done
	return 0
}

world_dns_proxy() {
	local name=$1 listen=$2; shift 2
	world_bg "$name" /usr/bin/python3 "$WORLD_TOOLS/dnsproxy.py" --listen "$listen" "$@"
	local i
	for i in $(seq 50); do
		grep -q listening "$WORLD_DIR/$name.log" 2>/dev/null && return 0
		sleep 0.1
	done
	world_log "dns proxy $name did not start"; return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-} in
	up)	world_up ;;
	down)	world_down; echo "world $WORLD_PREFIX: down" ;;
	status)	world_status ;;
	*)	echo "usage: $0 up|down|status  (WORLD_PREFIX=$WORLD_PREFIX)" >&2; exit 2 ;;
	esac
fi
