#!/usr/bin/env bash
# bench mqtt: `tributary bench mqtt` scenarios against mosquitto and against `tributary standalone`
# (both started here on free local ports; Tributary with a fresh data directory, fsync on), or
# against a running Tributary broker with BENCH_TRIBUTARY_MQTT=HOST:PORT. Prints a Markdown table
# for BENCHMARKS.md.
# Usage: bash bench/mqtt.sh [seconds]
# BENCH_TRIBUTARY_BIN=path/to/tributary uses that binary instead of building a release one.
# BENCH_MQTT_ONLY=REGEX runs only the scenarios matching REGEX (grep -E).
# BENCH_MQTT_CONNECTIONS=N sets the held-connections row (default 50000, capped by the open-files
# limit this shell may raise to: one descriptor per connection in the broker and in the client).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
# Raise the open-files limit (inherited by both brokers and the load generator) as far as allowed.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
many=${BENCH_MQTT_CONNECTIONS:-50000}
if [ "$(ulimit -n)" != unlimited ] && [ "$many" -gt $(($(ulimit -n) - 1000)) ]; then
    echo "note: open-files limit $(ulimit -n): the held-connections row uses $(($(ulimit -n) - 1000)) instead of $many" >&2
    many=$(($(ulimit -n) - 1000))
fi
bin=${BENCH_TRIBUTARY_BIN:-.build-release/release/tributary}
if [ ! -x "$bin" ]; then
    swift build -c release --product tributary --scratch-path .build-release >/dev/null
fi
mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
if [ ! -x "$mosquitto" ]; then
    echo "mosquitto not found; run scripts/install-test-deps.sh" >&2
    exit 1
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nset_tcp_nodelay true\n' "$port" >"$dir/mosquitto.conf"
"$mosquitto" -c "$dir/mosquitto.conf" >"$dir/mosquitto.log" 2>&1 &
mosquitto_pid=$!
trap 'kill $mosquitto_pid 2>/dev/null || true; wait $mosquitto_pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
    sleep 0.1
done

tributary_pid=""
if [ -z "${BENCH_TRIBUTARY_MQTT:-}" ]; then
    env -u TRIBUTARY_MQTT_PORT "$bin" standalone --data-dir "$dir/tributary" --mqtt-port 0 --ws-port 0 --admin-port 0 --rpc-port 0 \
        --log-level warning >"$dir/tributary.out" 2>"$dir/tributary.err" &
    tributary_pid=$!
    trap 'kill $mosquitto_pid $tributary_pid 2>/dev/null || true; wait $mosquitto_pid $tributary_pid 2>/dev/null || true; rm -rf "$dir"' EXIT
    for _ in $(seq 600); do
        grep -q ' ready ' "$dir/tributary.out" 2>/dev/null && break
        sleep 0.1
    done
    tport=$(grep -o ' mqtt=[^ ]*' "$dir/tributary.out" | head -1 | sed 's/.*://')
    if [ -z "$tport" ]; then
        echo "tributary standalone did not start:" >&2
        cat "$dir/tributary.err" >&2
        exit 1
    fi
    BENCH_TRIBUTARY_MQTT=127.0.0.1:$tport
fi

version=$({ "$mosquitto" -h 2>/dev/null || true; } | awk 'NR == 1 {print $3}')
brokers=("mosquitto $version=127.0.0.1:$port=$mosquitto_pid")
brokers+=("Tributary $("$bin" --version 2>/dev/null || echo standalone)=$BENCH_TRIBUTARY_MQTT=$tributary_pid")

scenarios=(
    "e2e --shape p2p --clients 4 --qos 0"
    "e2e --shape p2p --clients 4 --qos 1"
    "e2e --shape p2p --clients 4 --qos 2"
    "e2e --shape fan-in --clients 16 --qos 0"
    "e2e --shape fan-out --clients 16 --qos 0"
    "e2e --shape p2p --clients 4 --qos 1 --mqtt-version 5"
    "e2e --shape p2p --clients 4 --qos 1 --rate 1000"
    "conn --clients 1000"
    "conn --clients $many --source-addresses 127.0.0.2-127.0.0.9"
)

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(swift --version 2>&1 | head -1)"
echo "load generator and broker share the machine; payload 64 B; $seconds s per row; mosquitto with max_queued_messages 0, set_tcp_nodelay true"
echo "open-files limit $(ulimit -n); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rows without --rate publish as fast as the in-flight window (QoS 1/2) or the socket (QoS 0) allows: their latency includes broker queueing"
echo
echo "| broker | scenario | pub msgs/s | sub msgs/s | sub MB/s | p50 µs | p99 µs | p999 µs | max µs | errors | command |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for broker in "${brokers[@]}"; do
    IFS='=' read -r name endpoint bpid <<<"$broker"
    host=${endpoint%:*}
    bport=${endpoint##*:}
    for scenario in "${scenarios[@]}"; do
        if [ -n "${BENCH_MQTT_ONLY:-}" ] && ! grep -Eq -- "$BENCH_MQTT_ONLY" <<<"$scenario"; then continue; fi
        cmd="tributary bench mqtt $scenario --duration $seconds --json"
        extra=()
        if [[ $scenario == conn* ]] && [ -n "$bpid" ]; then
            extra=(--broker-pid "$bpid")
            cmd="tributary bench mqtt $scenario --broker-pid PID --duration $seconds --json"
        fi
        # shellcheck disable=SC2086
        json=$($bin bench mqtt $scenario "${extra[@]}" --host "$host" --port "$bport" --duration "$seconds" --json 2>/dev/null | tail -1) || true
        python3 - "$json" "$name" "$scenario" "$cmd" <<'PY'
import json, sys
try:
    r = json.loads(sys.argv[1])
except ValueError:
    print(f"| {sys.argv[2]} | {sys.argv[3]} | failed | | | | | | | | `{sys.argv[4]}` |")
    sys.exit(0)
if r["scenario"] == "conn":
    rate = f"{r['connectsPerSecond']:,.0f} connects/s, {r['held']} held"
    if "brokerRssHeldKiB" in r:
        rate += f"; RSS {r['brokerRssBeforeKiB'] // 1024} → {r['brokerRssHeldKiB'] // 1024} MiB, {r.get('brokerBytesPerConnection', 0):,} B/conn"
    print(f"| {sys.argv[2]} | {sys.argv[3]} | {rate} | | | {r['p50Micros']} | {r['p99Micros']} | {r['p999Micros']} | {r['maxMicros']} | {r['errors']} | `{sys.argv[4]}` |")
else:
    print(f"| {sys.argv[2]} | {sys.argv[3]} | {r['pubMsgsPerSecond']:,.0f} | {r['subMsgsPerSecond']:,.0f} | {r['subMBPerSecond']:.1f} | {r['p50Micros']} | {r['p99Micros']} | {r['p999Micros']} | {r['maxMicros']} | {r['errors']} | `{sys.argv[4]}` |")
PY
    done
done
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
