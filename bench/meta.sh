#!/usr/bin/env bash
# bench meta: linearizable small KV writes (puts of random keys) against a three-voter
# Tributary meta cluster, then against a three-member etcd cluster, back to back on this machine
# with the same load generator (`tributary bench meta`; `--etcd` drives etcd's v3 HTTP/JSON
# gateway). Both run on loopback with data in temporary directories and fsync on (the defaults).
# Prints a Markdown table for BENCHMARKS.md.
# Usage: bash bench/meta.sh [seconds] [concurrency…]   (defaults: 10 s; 256 and 1024 in flight)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shift || true
concurrencies=("${@:-256 1024}")
read -r -a concurrencies <<<"${concurrencies[*]}"
value_size=64
keys=10000
bin=.build-release/release/tributary
if ! build_log=$(swift build -c release --product tributary --scratch-path .build-release 2>&1); then
    echo "$build_log" >&2; exit 1
fi

if ! command -v etcd >/dev/null; then
    if [ "$(id -u)" = 0 ]; then apt-get install -y etcd-server etcd-client >/dev/null
    else sudo apt-get install -y etcd-server etcd-client >/dev/null; fi
fi

# Children get no TRIBUTARY_* configuration from this shell (unknown ones are refused).
for name in $(env | grep -o '^TRIBUTARY_[A-Za-z0-9_]*' || true); do unset "$name"; done

work=$(mktemp -d /tmp/tributary-bench-meta.XXXXXX)
pids=()
stop_all() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
}
cleanup() { stop_all; rm -rf "$work"; }
trap cleanup EXIT

# Free loopback ports below the ephemeral range (fixed addresses are needed before start).
free_ports() {
    python3 - "$1" <<'PY'
import random, socket, sys
ports = []
while len(ports) < int(sys.argv[1]):
    port = random.randint(20000, 32000)
    if port in ports: continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port)); ports.append(port)
    except OSError:
        pass
    finally:
        s.close()
print(" ".join(map(str, ports)))
PY
}

wait_for() {  # wait_for SECONDS COMMAND…
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then echo "timed out waiting for: $*" >&2; return 1; fi
        sleep 0.2
    done
}

start_meta() {
    read -r -a ports <<<"$(free_ports 3)"
    meta_peers="1=127.0.0.1:${ports[0]},2=127.0.0.1:${ports[1]},3=127.0.0.1:${ports[2]}"
    meta_addresses="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
    for id in 1 2 3; do
        "$bin" meta --id "$id" --data-dir "$work/meta$id" --listen "127.0.0.1:${ports[$((id - 1))]}" \
            --peers "$meta_peers" --admin-port 0 --log-level warning >"$work/meta$id.out" 2>"$work/meta$id.err" &
        pids+=($!)
    done
    for id in 1 2 3; do wait_for 30 grep -q "tributary meta ready" "$work/meta$id.out"; done
}

start_etcd() {
    read -r -a ports <<<"$(free_ports 6)"
    local cluster="e1=http://127.0.0.1:${ports[3]},e2=http://127.0.0.1:${ports[4]},e3=http://127.0.0.1:${ports[5]}"
    etcd_urls="http://127.0.0.1:${ports[0]},http://127.0.0.1:${ports[1]},http://127.0.0.1:${ports[2]}"
    for i in 0 1 2; do
        etcd --name "e$((i + 1))" --data-dir "$work/etcd$i" \
            --listen-client-urls "http://127.0.0.1:${ports[$i]}" --advertise-client-urls "http://127.0.0.1:${ports[$i]}" \
            --listen-peer-urls "http://127.0.0.1:${ports[$((i + 3))]}" --initial-advertise-peer-urls "http://127.0.0.1:${ports[$((i + 3))]}" \
            --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token bench-meta \
            --logger zap --log-level error >"$work/etcd$i.log" 2>&1 &
        pids+=($!)
    done
    wait_for 30 etcdctl --endpoints "$etcd_urls" endpoint health
}

row() {  # row JSON LABEL COMMAND
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
ms = lambda us: f"{us / 1000:.1f}"
print(f"| {sys.argv[2]} | {r['concurrency']} | {r['writesPerSecond']:,.0f} | {ms(r['p50Micros'])} | {ms(r['p90Micros'])} | "
      f"{ms(r['p99Micros'])} | {ms(r['p999Micros'])} | {ms(r['maxMicros'])} | {r['errors']} | `{sys.argv[3]}` |")
PY
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(swift --version 2>&1 | head -1), etcd $(etcd --version | awk '/etcd Version/ {print $3}')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); three servers and the load generator share the machine; fsync on; ${value_size} B values, ${keys} keys"
echo
echo "| system | in flight | writes/s | p50 ms | p90 ms | p99 ms | p999 ms | max ms | errors | command |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for concurrency in "${concurrencies[@]}"; do
    start_meta
    json=$("$bin" bench meta --meta "$meta_addresses" --concurrency "$concurrency" --duration "$seconds" \
        --value-size "$value_size" --keys "$keys" --json | tail -1)
    row "$json" "Tributary meta (3 voters)" "tributary bench meta --meta A,B,C --concurrency $concurrency --duration $seconds --value-size $value_size --keys $keys"
    stop_all; rm -rf "$work"/meta*

    start_etcd
    json=$("$bin" bench meta --etcd "$etcd_urls" --concurrency "$concurrency" --duration "$seconds" \
        --value-size "$value_size" --keys "$keys" --json | tail -1)
    row "$json" "etcd $(etcd --version | awk '/etcd Version/ {print $3}') (3 members)" "tributary bench meta --etcd URL,URL,URL --concurrency $concurrency --duration $seconds --value-size $value_size --keys $keys"
    stop_all; rm -rf "$work"/etcd*
done
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
