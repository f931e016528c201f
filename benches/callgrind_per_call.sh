#!/usr/bin/env bash
# User-space instructions per complete prepaid call in `strowger serve`, counted by callgrind:
# a measure that does not drift with the machine the way CPU time does, for comparing builds.
#
#   benches/callgrind_per_call.sh                  # builds the release binary
#   BIN=/tmp/strowger-a benches/callgrind_per_call.sh
#
# The SCP runs under valgrind (every thread, all of its user-space code; the kernel's work and
# the vDSO's clock reads are not counted), one arbiter, the durable ledger on a temporary
# directory. `strowger callgen` (not under valgrind) warms it up for 3 s, the counters are
# zeroed, then it sends RATE complete prepaid calls a second for SECS seconds (the calls of
# benches/perf_record.sh: InitialDP -> TC-CONTINUE, oAnswer + ApplyChargingReport + oDisconnect
# -> TC-END), and the counters are dumped. Prints the instructions per call and the TOP
# functions by their own instructions per call. A low rate (callgrind runs the SCP some fifty
# times slower) means little batching, so the figure is higher than at full load; compare
# builds at the same RATE.
#
# Knobs: RATE (150), SECS (10), TOP (25), KEEP (a path to keep the callgrind dump at).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RATE=${RATE:-150}
SECS=${SECS:-10}
TOP=${TOP:-25}
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then
    cargo build --release --bin strowger >&2
    BIN=${CARGO_TARGET_DIR:-target}/release/strowger
fi
W=$(mktemp -d)
SCP=
cleanup() {
    [ -n "$SCP" ] && kill "$SCP" 2>/dev/null && wait "$SCP" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
# shellcheck source=benches/prepaid_scenario.sh
. "$ROOT/benches/prepaid_scenario.sh"
scenario "$W/prepaid.toml" 0
cat >"$W/scp.toml" <<EOF
[node]
data_dir = "$W/data"
[m3ua]
listen = ["127.0.0.1:0"]
[admin]
listen = "127.0.0.1:0"
[engine]
arbiters = 1
[log]
format = "json"
level = "info"
[services]
provisioning = "$ROOT/examples/provisioning.toml"
EOF
valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" --compress-strings=no \
    --compress-pos=no "$BIN" serve --config "$W/scp.toml" 2>"$W/log" &
SCP=$!
for _ in $(seq 1 1200); do grep -q 'strowger SCP running' "$W/log" 2>/dev/null && break; sleep 0.1; done
line=$(grep 'strowger SCP running' "$W/log" | head -1)
M3UA=$(python3 -c "import json,sys; f=json.loads(sys.argv[1])['fields']; print(f['m3ua'].strip('[]').split(',')[0])" "$line")
gen() { # $1 = seconds, $2 = report
    "$BIN" callgen --scp "$M3UA" --scenarios "$W/prepaid.toml" --links 2 --concurrency 100 \
        --progress lines --rate "$RATE" --duration "$1" --report "$2" >/dev/null 2>&1
}
gen 3 "$W/warm.json"
callgrind_control -z "$SCP" >/dev/null 2>&1
gen "$SECS" "$W/run.json"
callgrind_control -d "$SCP" >/dev/null 2>&1
sleep 1
[ -n "${KEEP:-}" ] && cp "$W/cg.out.1" "$KEEP"
python3 - "$W/cg.out.1" "$W/run.json" "$TOP" <<'EOF'
import collections, json, sys
calls = json.load(open(sys.argv[2]))["ok"]
own = collections.Counter()
fn, after_calls = None, False
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("fn="):
        fn = line[3:].strip()
    elif line.startswith("calls="):
        after_calls = True          # the next cost line is the call's inclusive cost
    elif line[:1].isdigit() or line[:1] in "+-*":
        if after_calls:
            after_calls = False
        elif fn:
            parts = line.split()
            if len(parts) > 1:
                own[fn] += int(parts[1])
total = sum(own.values())
print("calls %d, instructions %d, per call %d" % (calls, total, total // max(calls, 1)))
for f, c in own.most_common(int(sys.argv[3])):
    print("%6.2f%% %8d per call  %s" % (100 * c / total, c // max(calls, 1), f[:140]))
EOF
