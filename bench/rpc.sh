#!/usr/bin/env bash
# bench rpc: Tributary's binary RPC (pipelined node.ping calls over loopback) beside a raw NIO
# echo of the same frame size and pipelining depth, same machine, same run. Prints a Markdown
# table for BENCHMARKS.md. Usage: bash bench/rpc.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
bin=.build-release/release/tributary
if [ ! -x "$bin" ]; then
    swift build -c release --product tributary --scratch-path .build-release >/dev/null
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(swift --version 2>&1 | head -1)"
echo "load generator and server share the machine (same process, separate event loops)"
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
