#!/usr/bin/env bash
# bench rpc: Tributary's binary RPC (pipelined node.ping calls over loopback) beside a raw NIO
# echo of the same frame size and pipelining depth, same machine, same run. Prints a Markdown
# table for BENCHMARKS.md.
#
# Usage: bash bench/rpc.sh [seconds]   calls/s and latency (release build)
#        bash bench/rpc.sh cpu         CPU microseconds per call, RPC and baseline (3 runs each)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TRIBUTARY_BIN:-.build-release/release/tributary}
if [ ! -x "$bin" ]; then
    swift build -c release --product tributary --scratch-path .build-release >/dev/null
fi

if [ "${1:-}" = cpu ]; then
    # CPU time (user + system) of the whole process per call, 64 B payload, three runs each;
    # steadier than calls/s on a shared machine. (Hardware instruction counters are not
    # available in this VM, and valgrind cannot run the binary.)
    calls=${CALLS:-200000}
    echo "| transport | CPU µs/call (3 runs) | command |"
    echo "|---|---|---|"
    for mode in rpc baseline; do
        flag=""
        [ "$mode" = baseline ] && flag="--baseline"
        runs=""
        for _ in 1 2 3; do
            t=$( { /usr/bin/time -f "%U %S" "$bin" bench rpc --payload 64 --concurrency 64 --calls "$calls" --json $flag >/dev/null; } 2>&1 | tail -1)
            runs="$runs $(echo "$t" | awk -v n="$calls" '{printf "%.2f", ($1 + $2) / n * 1e6}')"
        done
        label="Tributary RPC (node.ping)"
        [ "$mode" = baseline ] && label="raw NIO echo (baseline)"
        echo "| $label |$runs | \`/usr/bin/time -f \"%U %S\" tributary bench rpc --calls $calls --json $flag\` |"
    done
    exit 0
fi

seconds=${1:-10}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(swift --version 2>&1 | head -1)"
echo "load generator and server share the machine (same process, separate event loops)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| payload | concurrency | transport | calls/s | p50 µs | p99 µs | p999 µs | command |"
echo "|---|---|---|---|---|---|---|---|"
for payload in 64 1024; do
    for mode in rpc baseline; do
        flag=""
        [ "$mode" = baseline ] && flag="--baseline"
        cmd="tributary bench rpc --payload $payload --concurrency 64 --duration $seconds --json $flag"
        json=$($bin bench rpc --payload "$payload" --concurrency 64 --duration "$seconds" --json $flag | tail -1)
        python3 - "$json" "$payload" "$mode" "$cmd" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
label = "Tributary RPC (node.ping)" if sys.argv[3] == "rpc" else "raw NIO echo (baseline)"
print(f"| {sys.argv[2]} B | 64 | {label} | {r['callsPerSecond']:,.0f} | {r['p50Micros']} | {r['p99Micros']} | {r['p999Micros']} | `{sys.argv[4]}` |")
PY
    done
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
