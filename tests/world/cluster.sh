#!/bin/bash
# cluster.sh - three gateways that share one Redis: a test world of worlds.
#
# Each gateway (node a, b, c) is a world of its own (world.sh with
# WORLD_PREFIX=$CWORLD_PREFIX$NODE): its gateway namespace with unbound,
# rbldnsd and smtp-sink, its client namespace holding the same client
# ranges, so one client address can connect to every gateway.  A fourth
# namespace, $CWORLD_PREFIX-redis, is the Redis host: a bridge (rbr0,
# 2001:db8:e0::100/64) with one veth per gateway (rd0 in the gateway,
# 2001:db8:e0::1, ::2, ::3 for a, b, c), and a real redis-server bound to
# [2001:db8:e0::100]:6379 (no persistence, never the system's), started by
# cworld_up.  2001:db8:e0::/64 is a documentation range none of world.sh's
# ranges (2001:db8:ffff::/64, 2001:db8:c::/64, 2001:db8:b::/64,
# 2001:db8:1::/48) overlaps.
#
# Each gateway's daemons run in its namespace with a configuration of
# their own (cworld_conf): [cluster] redis = [2001:db8:e0::100]:6379 and
# node = a/b/c; control sockets, the sniffer's state and the journal in
# that gateway's WORLD_DIR; the nft table is the namespace's own.
#
# Use as a library (source it after setting CWORLD_BUILD; names start with
# cworld_/CWORLD_) or as
#   cluster.sh up|down|status [BUILD_DIR]
# State of the Redis host lives in CWORLD_DIR
# (/tmp/smtpgate-cworld.$CWORLD_PREFIX.XXXXXX: redis.log, pids, owner);
# each gateway's in its world's WORLD_DIR.  cworld_down tears all four
# namespaces down (world_down for each gateway), and is safe to run twice
# or after a crash; cworld_up runs it first, and reaps cluster worlds whose
# CWORLD_OWNER (a PID) died (cworld_reap), as world.sh does for its own.
#
#   cworld_check               prerequisites: world_check's, redis-server
#                              and redis-cli; one line naming what is
#                              missing
#   cworld_up / cworld_down / cworld_status
#   cworld_use NODE            make world.sh's helpers (world_gw, world_cl,
#                              world_smtp, world_set_has, world_conf, ...)
#                              act on gateway NODE: sets WORLD_PREFIX,
#                              WORLD_GW_NS, WORLD_CL_NS, WORLD_DIR
#   cworld_gw NODE CMD...      run in gateway NODE's namespace
#   cworld_cl NODE CMD...      run in gateway NODE's client namespace
#   cworld_conf NODE NAME [sec.key=val...]  write NODE's WORLD_DIR/NAME.conf
#                              (world_conf, the per-node paths, [cluster]
#                              unless CWORLD_SHARE=no); prints the path
#   cworld_start NODE CONF [gate] [sniffer]   install CONF's ruleset in
#                              NODE and start the daemons named (both by
#                              default) with -f, waiting for "started";
#                              PIDs in CWORLD_GATE_PID[NODE],
#                              CWORLD_SNIFF_PID[NODE]; logs in NODE's
#                              WORLD_DIR: smtpgated.log, sniffd.log
#   cworld_stop NODE [gate|sniffer|both] [SIG]
#   cworld_log NODE gate|sniffer   the path of that daemon's log
#   cworld_ctl NODE gate|sniffer REQUEST  one control request; the answer
#   cworld_redis_start / cworld_redis_stop [SIG]   the Redis server
#   cworld_redis_cli ARGS...   redis-cli against it (from its namespace)
#   cworld_wait_redis TIMEOUT_S  every gateway reaches Redis (PING)
#   cworld_set_has NODE SET ADDR  is ADDR in SET of NODE's table
#   cworld_propagation FROM TO_NODES BASE N RATE TIMEOUT_S  send one SYN
#                              from each of N new addresses (198.18.0.0/15,
#                              from index BASE, no PTR) to FROM at RATE/s
#                              with bench_syn, wait until every one is
#                              applied on each TO node, and print per TO
#                              node and overall "propagation to=X n=N
#                              decided=N applied=N p50_ms= p90_ms= p99_ms=
#                              max_ms= in_set=N set_p50_ms= ... set_max_ms="
#                              p*_ms: FROM's verdict line to the sibling's
#                              "cluster ... action=applied" line (the
#                              logs' ms time stamps); set_*: the address
#                              added to FROM's deny set to its add to the
#                              sibling's (nft monitor on each, stamped
#                              with the same wall clock).  FROM's gate
#                              must refuse no-PTR clients (no_ptr =
#                              reject).
#   cworld_monitor NODE FILE / cworld_monitor_stop PID   nft monitor of
#                              the elements added to NODE's sets, each
#                              line stamped with the wall clock (ms, to
#                              the microsecond);
#                              its PID in CWORLD_MON_PID
# Variables: CWORLD_PREFIX (default sgc; at most 10 characters),
# CWORLD_NODES ("a b c"), CWORLD_REDIS ("[2001:db8:e0::100]:6379"),
# CWORLD_REDIS6, CWORLD_NS (the Redis host), CWORLD_BUILD (the programs),
# CWORLD_OWNER, CWORLD_UP_MS (how long cworld_up took).

CWORLD_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=world.sh
. "$CWORLD_HOME/world.sh"

CWORLD_PREFIX=${CWORLD_PREFIX:-sgc}
CWORLD_NODES=${CWORLD_NODES:-"a b c"}
CWORLD_NET6=2001:db8:e0::
CWORLD_REDIS6=2001:db8:e0::100
CWORLD_REDIS_PORT=6379
CWORLD_REDIS="[$CWORLD_REDIS6]:$CWORLD_REDIS_PORT"
CWORLD_NS=$CWORLD_PREFIX-redis
CWORLD_DIR=${CWORLD_DIR:-}
CWORLD_BUILD=${CWORLD_BUILD:-}
CWORLD_SHARE=${CWORLD_SHARE:-yes}
CWORLD_REDIS_PID=
CWORLD_UP_MS=
declare -gA CWORLD_WDIR=() CWORLD_GATE_PID=() CWORLD_SNIFF_PID=()

cworld_log() { printf 'cworld: %s\n' "$*" >&2; }

# The node's number on the Redis link: a 1, b 2, c 3, ...
cworld_index() {
	local n i=1
	for n in $CWORLD_NODES; do
		[ "$n" = "$1" ] && { echo "$i"; return 0; }
		i=$((i + 1))
	done
	return 1
}

cworld_use() {
	CWORLD_NODE=$1
	WORLD_PREFIX=$CWORLD_PREFIX$1
	WORLD_GW_NS=$WORLD_PREFIX-gw
	WORLD_CL_NS=$WORLD_PREFIX-cl
	WORLD_OWNER=${CWORLD_OWNER:-}
	if [ -z "${CWORLD_WDIR[$1]:-}" ] || [ ! -d "${CWORLD_WDIR[$1]}" ]; then
		CWORLD_WDIR[$1]=$(world_find_dir) || CWORLD_WDIR[$1]=
	fi
	WORLD_DIR=${CWORLD_WDIR[$1]}
}

cworld_gw() { local n=$1; shift; ip netns exec "$CWORLD_PREFIX$n-gw" "$@"; }
cworld_cl() { local n=$1; shift; ip netns exec "$CWORLD_PREFIX$n-cl" "$@"; }

cworld_find_dir() {
	local d
	for d in /tmp/smtpgate-cworld."$CWORLD_PREFIX".*; do
		[ -d "$d" ] && { printf '%s\n' "$d"; return 0; }
	done
	return 1
}

cworld_check() {
	local missing="" p
	for p in redis-server redis-cli; do
		command -v "$p" >/dev/null 2>&1 || missing+=" $p"
	done
	[ ${#CWORLD_PREFIX} -le 10 ] || { cworld_log "CWORLD_PREFIX '$CWORLD_PREFIX' is longer than 10 characters"; return 1; }
	if [ -n "$missing" ]; then
		cworld_log "missing:$missing (run tools/install-deps.sh: redis-server, redis-tools)"
		return 1
	fi
	world_check
}

cworld_down() {
	local d pid n i
	for n in $CWORLD_NODES; do
		( cworld_use "$n"; world_down )
		CWORLD_WDIR[$n]=
	done
	for d in /tmp/smtpgate-cworld."$CWORLD_PREFIX".*; do
		[ -f "$d/pids" ] || continue
		while read -r pid; do kill "$pid" 2>/dev/null; done <"$d/pids"
	done
	if ip netns list 2>/dev/null | grep -qw "^$CWORLD_NS"; then
		for pid in $(ip netns pids "$CWORLD_NS" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
		for i in $(seq 20); do
			[ -z "$(ip netns pids "$CWORLD_NS" 2>/dev/null)" ] && break
			sleep 0.1
		done
		for pid in $(ip netns pids "$CWORLD_NS" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$CWORLD_NS" 2>/dev/null
	fi
	for d in /tmp/smtpgate-cworld."$CWORLD_PREFIX".*; do
		[ -d "$d" ] && rm -rf "$d"
	done
	CWORLD_DIR='' CWORLD_REDIS_PID=''
	return 0
}

# Cluster worlds whose owner died (world_reap does the same for worlds).
cworld_reap() {
	local d owner prefix
	for d in /tmp/smtpgate-cworld.*.*; do
		[ -f "$d/owner" ] && [ -f "$d/prefix" ] || continue
		owner=$(cat "$d/owner"); prefix=$(cat "$d/prefix")
		case $owner in ''|*[!0-9]*) continue ;; esac
		kill -0 "$owner" 2>/dev/null && continue
		[ "$prefix" = "$CWORLD_PREFIX" ] && continue
		cworld_log "reaping cluster world $prefix left by dead process $owner"
		( CWORLD_PREFIX=$prefix; CWORLD_NS=$prefix-redis; cworld_down )
	done
}

cworld_bg() {	# cworld_bg NAME CMD...: in the Redis host, PID in WORLD_BG_PID
	local name=$1; shift
	ip netns exec "$CWORLD_NS" "$@" >>"$CWORLD_DIR/$name.log" 2>&1 &
	WORLD_BG_PID=$!
	echo "$WORLD_BG_PID" >>"$CWORLD_DIR/pids"
}

cworld_redis_cli() {
	ip netns exec "$CWORLD_NS" redis-cli -h "$CWORLD_REDIS6" -p "$CWORLD_REDIS_PORT" "$@"
}

cworld_redis_start() {
	local i
	cworld_bg redis redis-server --bind "$CWORLD_REDIS6" --port "$CWORLD_REDIS_PORT" \
		--save '' --appendonly no --protected-mode no --daemonize no \
		--dir "$CWORLD_DIR" --logfile '' --databases 1 \
		--io-threads 1 --hz 10
	CWORLD_REDIS_PID=$WORLD_BG_PID
	for i in $(seq 100); do
		[ "$(cworld_redis_cli ping 2>/dev/null)" = PONG ] && return 0
		kill -0 "$CWORLD_REDIS_PID" 2>/dev/null || break
		sleep 0.05
	done
	cworld_log "redis-server did not come up: $(tail -3 "$CWORLD_DIR/redis.log" | tr '\n' ' ')"
	return 1
}

# cworld_redis_stop [SIG]: KILL for a crash, TERM for a stop.
cworld_redis_stop() {
	[ -n "$CWORLD_REDIS_PID" ] || return 0
	world_stop "$CWORLD_REDIS_PID" "${1:-TERM}"
	CWORLD_REDIS_PID=
}

# cworld_wait_redis TIMEOUT_S: every gateway namespace reaches Redis.
cworld_wait_redis() {
	local n end=$(( $(world_now_ms) + $1 * 1000 ))
	for n in $CWORLD_NODES; do
		until [ "$(cworld_gw "$n" redis-cli -h "$CWORLD_REDIS6" -p "$CWORLD_REDIS_PORT" ping 2>/dev/null)" = PONG ]; do
			[ "$(world_now_ms)" -ge "$end" ] && { cworld_log "gateway $n cannot reach Redis at $CWORLD_REDIS"; return 1; }
			sleep 0.1
		done
	done
}

cworld_up() {
	local t0 n i pids=() rc=0 ns
	t0=$(world_now_ms)
	cworld_check || return 1
	world_user || return 1
	cworld_down
	cworld_reap
	CWORLD_DIR=$(mktemp -d "/tmp/smtpgate-cworld.$CWORLD_PREFIX.XXXXXX") || return 1
	chmod 755 "$CWORLD_DIR"
	: >"$CWORLD_DIR/pids"
	printf '%s\n' "$CWORLD_PREFIX" >"$CWORLD_DIR/prefix"
	printf '%s\n' "${CWORLD_OWNER:-}" >"$CWORLD_DIR/owner"
	# The gateways' worlds at once: most of world_up is waiting for its
	# unbound and smtp-sink to answer.
	for n in $CWORLD_NODES; do
		( cworld_use "$n"; world_up ) 2>>"$CWORLD_DIR/up.log" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || rc=1; done
	[ "$rc" = 0 ] || { cworld_log "a gateway's world did not come up: $(tr '\n' ' ' <"$CWORLD_DIR/up.log")"; return 1; }
	# The Redis host and its links.
	ip netns add "$CWORLD_NS" || return 1
	ip netns exec "$CWORLD_NS" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 >/dev/null
	ip -n "$CWORLD_NS" link set lo up
	ip -n "$CWORLD_NS" link add rbr0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0 || return 1
	ip -n "$CWORLD_NS" addr add "$CWORLD_REDIS6/64" dev rbr0 nodad
	ip -n "$CWORLD_NS" link set rbr0 up
	for n in $CWORLD_NODES; do
		i=$(cworld_index "$n")
		ns=$CWORLD_PREFIX$n-gw
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 >/dev/null
		ip link add rd0 netns "$ns" type veth peer name "gw$n" netns "$CWORLD_NS" || return 1
		ip -n "$ns" addr add "$CWORLD_NET6$i/64" dev rd0 nodad
		ip -n "$ns" link set rd0 up
		ip -n "$CWORLD_NS" link set "gw$n" master rbr0 up
	done
	cworld_redis_start || return 1
	cworld_wait_redis 10 || return 1
	for n in $CWORLD_NODES; do cworld_use "$n"; done
	CWORLD_UP_MS=$(( $(world_now_ms) - t0 ))
	cworld_log "up in $CWORLD_UP_MS ms: gateways $(for n in $CWORLD_NODES; do printf '%s ' "$CWORLD_PREFIX$n-gw"; done)and Redis at $CWORLD_REDIS in $CWORLD_NS; state in $CWORLD_DIR"
}

cworld_status() {
	local n
	CWORLD_DIR=$(cworld_find_dir) || { echo "cluster world $CWORLD_PREFIX: down"; return 1; }
	echo "cluster world $CWORLD_PREFIX: up, Redis host $CWORLD_NS, state in $CWORLD_DIR"
	echo "redis: $(cworld_redis_cli ping 2>&1)"
	for n in $CWORLD_NODES; do ( cworld_use "$n"; world_status ); done
}

# cworld_conf NODE NAME [section.key=value ...]
cworld_conf() {
	local n=$1 name=$2 share=(); shift 2
	cworld_use "$n"
	[ "$CWORLD_SHARE" = yes ] && share=("cluster.redis=$CWORLD_REDIS" "cluster.node=$n")
	world_conf "$WORLD_DIR/$name.conf" \
		"gate.control_socket=$WORLD_DIR/gate.sock" \
		"journal.file=$WORLD_DIR/journal/journal.db" \
		"sniffer.state_file=$WORLD_DIR/state/sniffer.state" \
		"sniffer.control_socket=$WORLD_DIR/sniffd.sock" \
		"sniffer.my_hostnames=gw.example.test" \
		"sniffer.my_addresses=$WORLD_GW4 $WORLD_GW6" \
		"${share[@]}" "$@"
}

cworld_log_path() {	# cworld_log_path NODE gate|sniffer
	cworld_use "$1"
	case $2 in
	gate) printf '%s\n' "$WORLD_DIR/smtpgated.log" ;;
	*) printf '%s\n' "$WORLD_DIR/sniffd.log" ;;
	esac
}

# cworld_launch NODE NAME PROGRAM CONF: start it, wait for its new
# "started" line; PID in WORLD_BG_PID.
cworld_launch() {
	local n=$1 name=$2 prog=$3 conf=$4 log before i
	cworld_use "$n"
	log=$WORLD_DIR/$name.log
	touch "$log"
	before=$(grep -c ': started' "$log")
	world_bg "$name" "$CWORLD_BUILD/$prog" -c "$conf" -f
	for i in $(seq 150); do
		[ "$(grep -c ': started' "$log")" -gt "$before" ] && return 0
		kill -0 "$WORLD_BG_PID" 2>/dev/null || break
		sleep 0.1
	done
	cworld_log "$n: $prog did not start (log: $(tail -3 "$log" | tr '\n' ' '))"
	return 1
}

# cworld_start NODE CONF [gate] [sniffer]
cworld_start() {
	local n=$1 conf=$2 what out; shift 2
	what=${*:-gate sniffer}
	cworld_use "$n"
	world_gw "$CWORLD_BUILD/smtpgate-nft" -c "$conf" remove >/dev/null 2>&1
	out=$(world_gw "$CWORLD_BUILD/smtpgate-nft" -c "$conf" install 2>&1) ||
		{ cworld_log "$n: smtpgate-nft install: $out"; return 1; }
	case " $what " in *" gate "*)
		cworld_launch "$n" smtpgated smtpgated "$conf" || return 1
		CWORLD_GATE_PID[$n]=$WORLD_BG_PID ;;
	esac
	case " $what " in *" sniffer "*)
		cworld_launch "$n" sniffd smtpgate-sniffd "$conf" || return 1
		CWORLD_SNIFF_PID[$n]=$WORLD_BG_PID ;;
	esac
	return 0
}

# cworld_run NODE CONF gate|sniffer: start one daemon, ruleset untouched.
cworld_run() {
	case $3 in
	gate) cworld_launch "$1" smtpgated smtpgated "$2" || return 1
		CWORLD_GATE_PID[$1]=$WORLD_BG_PID ;;
	*) cworld_launch "$1" sniffd smtpgate-sniffd "$2" || return 1
		CWORLD_SNIFF_PID[$1]=$WORLD_BG_PID ;;
	esac
}

# cworld_stop NODE [gate|sniffer|both] [SIG]
cworld_stop() {
	local n=$1 what=${2:-both} sig=${3:-TERM}
	if [ "$what" != sniffer ] && [ -n "${CWORLD_GATE_PID[$n]:-}" ]; then
		world_stop "${CWORLD_GATE_PID[$n]}" "$sig"; CWORLD_GATE_PID[$n]=
	fi
	if [ "$what" != gate ] && [ -n "${CWORLD_SNIFF_PID[$n]:-}" ]; then
		world_stop "${CWORLD_SNIFF_PID[$n]}" "$sig"; CWORLD_SNIFF_PID[$n]=
	fi
	return 0
}

cworld_ctl() {	# cworld_ctl NODE gate|sniffer REQUEST
	local sock
	cworld_use "$1"
	sock=$WORLD_DIR/gate.sock; [ "$2" = gate ] || sock=$WORLD_DIR/sniffd.sock
	world_ctl "$sock" "$3"
}

cworld_set_has() { ( cworld_use "$1"; world_set_has "$2" "$3" ); }

# cworld_addr N: 198.18.0.0 + N.
cworld_addr() {
	local v=$(( (198 << 24) + (18 << 16) + $1 ))
	printf '%d.%d.%d.%d\n' $((v >> 24 & 255)) $((v >> 16 & 255)) $((v >> 8 & 255)) $((v & 255))
}

# cworld_applied_count NODE FROM_NODE: sibling FROM's verdicts NODE applied.
cworld_applied_count() {
	grep -E "cluster ip=[^ ]+ kind=(deny|drop) node=$2 .*action=applied" \
		"$(cworld_log_path "$1" gate)" 2>/dev/null | wc -l
}

# cworld_monitor NODE FILE: time-stamp the elements added to NODE's sets
# (nft monitor, one "MS add element ..." line each, wall clock ms) into
# FILE until cworld_monitor_stop; its PID in CWORLD_MON_PID.
cworld_monitor() {
	local n=$1 f=$2 i
	: >"$f"
	ip netns exec "$CWORLD_PREFIX$n-gw" python3 -c '
import signal, subprocess, sys, time
p = subprocess.Popen(["stdbuf", "-oL", "nft", "monitor", "new", "elements"],
                     stdout=subprocess.PIPE, bufsize=0)
def stop(*_):
    p.terminate()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
out = open(sys.argv[1], "a")
out.write("%d monitor ready\n" % (time.time() * 1000))
out.flush()
for line in iter(p.stdout.readline, b""):
    out.write("%.3f %s" % (time.time() * 1000, line.decode(errors="replace")))
    out.flush()
' "$f" 2>>"$CWORLD_DIR/monitor.log" &
	CWORLD_MON_PID=$!
	echo "$CWORLD_MON_PID" >>"$CWORLD_DIR/pids"
	for i in $(seq 50); do
		grep -q 'monitor ready' "$f" 2>/dev/null && { sleep 0.1; return 0; }
		sleep 0.05
	done
	cworld_log "nft monitor on $n did not start"
	return 1
}
cworld_monitor_stop() { world_stop "$1" TERM; }

# cworld_propagation FROM "TO..." BASE_INDEX N RATE TIMEOUT_S
cworld_propagation() {
	local from=$1 to=$2 base=$3 n=$4 rate=$5 t=$6 x end flog fmark out
	local -A before=()
	local specs=() mons=()
	flog=$(cworld_log_path "$from" gate)
	fmark=$(wc -l <"$flog")
	cworld_monitor "$from" "$CWORLD_DIR/mon.$from" || return 1
	mons+=("$CWORLD_MON_PID")
	for x in $to; do
		before[$x]=$(cworld_applied_count "$x" "$from")
		cworld_monitor "$x" "$CWORLD_DIR/mon.$x" || return 1
		mons+=("$CWORLD_MON_PID")
		specs+=("$x=$(cworld_log_path "$x" gate)@$(wc -l <"$(cworld_log_path "$x" gate)")@$CWORLD_DIR/mon.$x")
	done
	out=$(cworld_cl "$from" "$CWORLD_BUILD/bench/bench_syn" -d "$WORLD_GW4" \
		-b "$(cworld_addr "$base")" -n "$n" -r "$rate" -w 3000 2>&1 | grep '^bench_syn:')
	printf 'sent to %s: %s\n' "$from" "$out"
	end=$(( $(world_now_ms) + t * 1000 ))
	for x in $to; do
		while [ $(( $(cworld_applied_count "$x" "$from") - ${before[$x]} )) -lt "$n" ]; do
			[ "$(world_now_ms)" -ge "$end" ] && break
			sleep 0.2
		done
	done
	sleep 0.3	# the last elements' monitor lines
	for x in "${mons[@]}"; do cworld_monitor_stop "$x"; done
	python3 - "$flog" "$fmark" "$CWORLD_DIR/mon.$from" "$from" "$(cworld_addr "$base")" "$n" "${specs[@]}" <<'PY'
import ipaddress, math, re, sys
from datetime import datetime

def ts(line):
    # "2026-12-02T06:55:01.123 smtpgated[1]: ..." (local time, ms)
    return datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f").timestamp() * 1000

def lines(path, mark):
    with open(path, errors="replace") as f:
        for i, line in enumerate(f):
            if i >= mark:
                yield line

def kernel(path, want):
    # "MS add element inet smtpgate deny4 { 198.18.0.5 timeout 15m ... }"
    got = {}
    for line in lines(path, 0):
        m = re.match(r"([\d.]+) add element inet \S+ deny[46] \{ (.*) \}", line)
        if not m:
            continue
        for e in m.group(2).split(","):
            ip = e.split()[0] if e.split() else ""
            if ip in want and ip not in got:
                got[ip] = float(m.group(1))
    return got

flog, fmark, fmon, src, base, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
first = ipaddress.ip_address(base)
want = {str(first + i) for i in range(n)}
decided = {}
for line in lines(flog, fmark):
    if " verdict=" not in line:
        continue
    m = re.search(r" ip=(\S+) ", line)
    if m and m.group(1) in want and m.group(1) not in decided:
        decided[m.group(1)] = ts(line)
kfrom = kernel(fmon, want)

def pct(v, p):
    return v[max(0, math.ceil(p / 100.0 * len(v)) - 1)] if v else -1

def show(name, v, k):
    v.sort(); k.sort()
    print("propagation to=%s n=%d decided=%d applied=%d p50_ms=%d p90_ms=%d p99_ms=%d max_ms=%d"
          " in_set=%d set_p50_ms=%.1f set_p90_ms=%.1f set_p99_ms=%.1f set_max_ms=%.1f"
          % (name, n, len(decided), len(v), pct(v, 50), pct(v, 90), pct(v, 99),
             v[-1] if v else -1, len(k), pct(k, 50), pct(k, 90), pct(k, 99),
             k[-1] if k else -1))

allv, allk = [], []
for spec in sys.argv[7:]:
    node, rest = spec.split("=", 1)
    path, mark, mon = rest.split("@", 2)
    d, seen = [], set()
    for line in lines(path, int(mark)):
        if "cluster ip=" not in line or "action=applied" not in line:
            continue
        m = re.search(r"cluster ip=(\S+) kind=\S+ node=(\S+) ", line)
        if not m or m.group(2) != src or m.group(1) not in decided or m.group(1) in seen:
            continue
        seen.add(m.group(1))
        d.append(ts(line) - decided[m.group(1)])
    kto = kernel(mon, want)
    k = [kto[ip] - kfrom[ip] for ip in kto if ip in kfrom]
    allv += d
    allk += k
    show(node, d, k)
show("all", allv, allk)
PY
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	CWORLD_BUILD=${2:-${CWORLD_BUILD:-}}
	case ${1:-} in
	up)	cworld_up ;;
	down)	cworld_down; echo "cluster world $CWORLD_PREFIX: down" ;;
	status)	cworld_status ;;
	*)	echo "usage: $0 up|down|status  (CWORLD_PREFIX=$CWORLD_PREFIX)" >&2; exit 2 ;;
	esac
fi
