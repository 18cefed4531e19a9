#!/bin/bash
# t_sniff_state.sh BUILD_DIR - the files of issue 8, through the daemons
# (run as user smtpgate, as root starts them):
#   - the sniffer's state file with 200,000 records: loaded, saved from a
#     snapshot by a child when bans change (forget), the loop's worst
#     stall (loop_stall_max_us) small beside a synchronous save of the
#     same table measured in the same run (bench_state), and every
#     record still there after the saves;
#   - what the daemon's user could plant in the state directory: a
#     symlink at the old fixed PATH.tmp (never written through), a stale
#     temporary file (removed at start), a symlink at PATH (not followed:
#     the sniffer refuses to start);
#   - a FIFO at the allow file: smtpgated starts and answers at once
#     (open(2) used to block its loop), and says what is wrong.
WORLD_PREFIX=${WORLD_PREFIX:-sgst$$}
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"
[ -x "$E2E_BUILD/smtpgate-sniffd" ] || e2e_skip "$E2E_BUILD/smtpgate-sniffd not built"
[ -x "$E2E_BUILD/bench/bench_state" ] || e2e_skip "$E2E_BUILD/bench/bench_state not built"

N=200000
STATE=$E2E_STATE/sniffer.state
conf=$(e2e_sniff_conf state "gate.control_socket=$WORLD_DIR/gate.sock" \
	"nft.allow_file=$WORLD_DIR/allow.fifo")

# A state directory as the daemon's user has it, with N records, bans of
# the first 1000 running; and what that user could have planted in it.
mkdir -p "$E2E_STATE"
python3 - "$STATE" "$N" <<'PY'
import sys, time
path, n = sys.argv[1], int(sys.argv[2])
now = int(time.time())
with open(path, "w") as f:
    f.write("# smtpgate-sniffd state v1\n")
    for i in range(n):
        ip = "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255) if i % 2 == 0 else \
            "2001:db8:%x::%x" % (i >> 16, i & 0xffff)
        until = now + 3000 if i < 1000 else 0
        f.write("ip=%s strikes=1 first=%d last=%d rule=unqualified bans=%d banned_until=%d\n"
                % (ip, now - 10, now - 10, 1 if until else 0, until))
PY
chown smtpgate:smtpgate "$E2E_STATE" "$STATE"
chmod 750 "$E2E_STATE"
echo precious >"$WORLD_DIR/victim"
ln -s "$WORLD_DIR/victim" "$STATE.tmp"
: >"$STATE.tmp.Zq81xY"

# The synchronous save of such a table, in this run (the old way: on the
# loop, every second while anything changed).
bench=$(cd "$WORLD_DIR" && "$E2E_BUILD/bench/bench_state" "$N" "$WORLD_DIR" 2>&1)
e2e_note "bench_state ($E2E_BUILD): $(tr '\n' ';' <<<"$bench")"
sync_ms=$(sed -n 's/^synchronous save .*worst \([0-9.]*\) ms.*/\1/p' <<<"$bench")

mkfifo "$WORLD_DIR/allow.fifo"
e2e_start "$conf" || e2e_finish
GATE_PID=$E2E_PID GATE_LOG=$E2E_LOG
e2e_ok "smtpgated started with a FIFO at its allow file"
e2e_check "smtpgated says the allow file is not a regular file" \
	grep -q "allow.fifo: not a regular file" "$GATE_LOG"
out=$(timeout 5 ip netns exec "$WORLD_GW_NS" "$E2E_BUILD/smtpgatectl" -c "$conf" reload gate 2>&1)
e2e_check "reload with the FIFO answers at once, refused ($out)" grep -q "not a regular file\|allow list" <<<"$out"
world_stop "$GATE_PID" TERM

e2e_sniff_run "$conf" || e2e_finish
e2e_check "the sniffer loaded $N records" grep -q "state: $N records from $STATE" "$E2E_LOG"
e2e_check "the stale temporary file was removed" bash -c "[ ! -e '$STATE.tmp.Zq81xY' ] && grep -q 'removed 1 unfinished temporary file' '$E2E_LOG'"
in_set_soon() { local i; for i in $(seq 50); do world_set_has "$@" && return 0; sleep 0.1; done; return 1; }
e2e_check "running bans are back in the sets" in_set_soon offend4 10.0.0.0
s0=$(e2e_field "$(e2e_ctl stats | tail -1)" state_saves)
for i in 2 4 6; do
	e2e_ctl "forget 10.0.0.$i" >/dev/null
	sleep 1.5
done
# Wait for the saves and for the file to show all three forgets: under
# load a child's save can still be writing when the count of saves says
# enough.  The file is renamed into place whole, so a count is exact.
end=$(( $(world_now_ms) + 30000 ))
while :; do
	stats=$(e2e_ctl stats | tail -1)
	[ "$(e2e_field "$stats" state_saves)" -ge $((s0 + 2)) ] &&
		[ "$(grep -c '^ip=' "$STATE")" = $((N - 3)) ] && break
	[ "$(world_now_ms)" -ge "$end" ] && break
	sleep 0.5
done
e2e_note "$stats"
saves=$(( $(e2e_field "$stats" state_saves) - s0 ))
stall_us=$(e2e_field "$stats" loop_stall_max_us)
e2e_check "forget saved the state from snapshots ($saves saves, each $(e2e_field "$stats" state_save_ms) ms in the child)" [ "$saves" -ge 2 ]
e2e_check "no failed save" [ "$(e2e_field "$stats" state_errors)" = 0 ]
e2e_note "worst loop stall with $N records: $stall_us us; a synchronous save of them: $sync_ms ms (same run, same build)"
e2e_check "the loop's worst stall is under a third of a synchronous save ($stall_us us < $sync_ms ms / 3)" \
	awk -v s="$stall_us" -v y="$sync_ms" 'BEGIN { exit !(s / 1000 < y / 3) }'
e2e_check "the planted symlink at PATH.tmp was never written through" [ "$(cat "$WORLD_DIR/victim")" = precious ]
e2e_check "the planted symlink is still a symlink" [ -L "$STATE.tmp" ]
e2e_check "the state file holds $((N - 3)) records" [ "$(grep -c '^ip=' "$STATE")" = $((N - 3)) ]
e2e_check "the state file belongs to smtpgate" [ "$(stat -c %U "$STATE")" = smtpgate ]
e2e_check "the forgotten ones are gone from it" bash -c "! grep -qE '^ip=10\.0\.0\.(2|4|6) ' '$STATE'"
e2e_stop TERM
e2e_check "sniffer stopped cleanly" [ "$E2E_RC" = 0 ]

# A symlink at PATH itself: not followed, the sniffer refuses to start.
mv "$STATE" "$WORLD_DIR/real.state"
ln -s "$WORLD_DIR/real.state" "$STATE"
out=$(world_gw "$E2E_BUILD/smtpgate-sniffd" -c "$conf" 2>&1)
rc=$?
e2e_check "a symlink at the state file stops the start ($out)" \
	bash -c "[ $rc = 1 ] && grep -q 'a symbolic link (not followed)' <<<\"\$1\"" _ "$out"
e2e_finish
