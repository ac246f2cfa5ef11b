#!/usr/bin/env bash
# bench rpc: Tributary's binary RPC (pipelined node.ping calls over loopback) beside a raw NIO
# echo of the same frame size and pipelining depth, same machine, same run. Prints a Markdown
# table for BENCHMARKS.md.
#
# Usage: bash bench/rpc.sh [seconds]        calls/s and latency (release build)
#        bash bench/rpc.sh instructions     user-space instructions per call, RPC and baseline,
#                                           counted by valgrind (callgrind) over two run lengths
#                                           so start-up cost cancels out; independent of load
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TRIBUTARY_BIN:-.build-release/release/tributary}
if [ ! -x "$bin" ]; then
    swift build -c release --product tributary --scratch-path .build-release >/dev/null
fi

if [ "${1:-}" = instructions ]; then
    short=${SHORT_CALLS:-10000}
    long=${LONG_CALLS:-30000}
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    echo "| payload | transport | instructions/call | command |"
    echo "|---|---|---|---|"
    for payload in 64 1024; do
        for mode in rpc baseline; do
            flag=""
            [ "$mode" = baseline ] && flag="--baseline"
            total() {
                valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1" \
                    "$bin" bench rpc --payload "$payload" --concurrency 64 --calls "$1" --json $flag \
                    >/dev/null 2>"$out/log.$1"
                awk '/^(summary|totals):/ {print $2; exit}' "$out/cg.$1"
            }
            a=$(total "$short")
            b=$(total "$long")
            label="Tributary RPC (node.ping)"
            [ "$mode" = baseline ] && label="raw NIO echo (baseline)"
            per=$(( (b - a) / (long - short) ))
            echo "| $payload B | $label | $per | \`valgrind --tool=callgrind tributary bench rpc --payload $payload --calls $short/$long $flag\` |"
        done
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
