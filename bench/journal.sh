#!/usr/bin/env bash
# bench journal: `tributary bench journal` (durable appends, group commit) against a fresh
# `tributary standalone` node started here, and the raw disk baseline on the same file system
# measured with fio (installed with apt-get if missing): sequential writes with an fdatasync
# after every write at the record sizes, plus one large-block row. Prints Markdown tables for
# BENCHMARKS.md.
# Usage: bash bench/journal.sh [seconds]
# BENCH_TRIBUTARY_BIN=path/to/tributary uses that binary instead of building a release one.
# BENCH_JOURNAL=HOST:PORT benchmarks a running journal node instead (the baseline then measures
# this machine's file system under $TMPDIR).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
bin=${BENCH_TRIBUTARY_BIN:-.build-release/release/tributary}
if [ ! -x "$bin" ]; then
    swift build -c release --product tributary --scratch-path .build-release >/dev/null
fi
if ! command -v fio >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y fio >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y fio >/dev/null; }
    else
        sudo apt-get install -y fio >/dev/null
    fi
fi
dir=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && { kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; }; rm -rf "$dir"' EXIT

journal=${BENCH_JOURNAL:-}
if [ -z "$journal" ]; then
    env -u TRIBUTARY_MQTT_PORT "$bin" standalone --data-dir "$dir/tributary" --mqtt-port 0 --ws-port 0 --admin-port 0 --rpc-port 0 \
        --log-level warning >"$dir/tributary.out" 2>"$dir/tributary.err" &
    pid=$!
    for _ in $(seq 600); do
        grep -q ' ready ' "$dir/tributary.out" 2>/dev/null && break
        sleep 0.1
    done
    journal=$(grep -o ' rpc=[^ ]*' "$dir/tributary.out" | head -1 | sed 's/ rpc=//')
    if [ -z "$journal" ]; then
        echo "tributary standalone did not start:" >&2
        cat "$dir/tributary.err" >&2
        exit 1
    fi
fi

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(swift --version 2>&1 | head -1)"
echo "file system: $(df -T "$dir" | awk 'NR == 2 {print $2 " on " $1}'); load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $seconds s per row"
echo
echo "| target | record B | batch | concurrency | appends/s | records/s | MB/s | p50 µs | p99 µs | p999 µs | max µs | errors | command |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
scenarios=(
    "--record-size 100 --concurrency 1"
    "--record-size 100 --concurrency 64"
    "--record-size 1024 --concurrency 1"
    "--record-size 1024 --concurrency 64"
    "--record-size 1024 --concurrency 256 --shards 4"
)
for scenario in "${scenarios[@]}"; do
    cmd="tributary bench journal --journal HOST:PORT $scenario --duration $seconds --json"
    # shellcheck disable=SC2086
    json=$($bin bench journal --journal "$journal" $scenario --duration "$seconds" --json 2>/dev/null | tail -1) || true
    python3 - "$json" "$cmd" <<'PY'
import json, sys
try:
    r = json.loads(sys.argv[1])
except ValueError:
    print(f"| tributary | | | | failed | | | | | | | | `{sys.argv[2]}` |")
    sys.exit(0)
print(f"| tributary journal ({r['durability']}, {r['shards']} shard{'s' if r['shards'] > 1 else ''}) | {r['recordBytes']} | {r['batch']} | {r['concurrency']} | "
      f"{r['appendsPerSecond']:,.0f} | {r['recordsPerSecond']:,.0f} | {r['MBPerSecond']:.2f} | {r['p50Micros']} | {r['p99Micros']} | "
      f"{r['p999Micros']} | {r['maxMicros']} | {r['errors']} | `{sys.argv[2]}` |")
PY
done

# The raw disk: one file, sequential writes, fdatasync after each (what an un-batched durable
# append costs), at the record sizes and with 1 MiB blocks (the fsynced sequential bandwidth).
# Its latency columns are fio's fdatasync latencies.
mkdir -p "$dir/fio"
for bs in 100 1k 1m; do
    cmd="fio --name=seq --rw=write --bs=$bs --size=256m --fdatasync=1 --ioengine=sync --runtime=$seconds --time_based"
    # shellcheck disable=SC2086
    json=$(fio --name=seq --directory="$dir/fio" --rw=write --bs=$bs --size=256m --fdatasync=1 --ioengine=sync \
        --runtime="$seconds" --time_based --output-format=json 2>/dev/null) || true
    rm -f "$dir"/fio/*
    python3 - "$json" "$cmd" "$bs" <<'PY'
import json, sys
try:
    job = json.loads(sys.argv[1])["jobs"][0]
except (ValueError, KeyError, IndexError):
    print(f"| disk (fio) | {sys.argv[3]} | | 1 | failed | | | | | | | | `{sys.argv[2]}` |")
    sys.exit(0)
w = job["write"]
lat = job.get("sync", {}).get("lat_ns", {})
pct = lat.get("percentile", {})
us = lambda v: int(v / 1000) if v is not None else ""
size = {"100": "100", "1k": "1024", "1m": "1048576"}[sys.argv[3]]
print(f"| disk: write + fdatasync (fio) | {size} | 1 | 1 | {w['iops']:,.0f} | | {w['bw_bytes'] / 1e6:.2f} | {us(pct.get('50.000000'))} | "
      f"{us(pct.get('99.000000'))} | {us(pct.get('99.900000'))} | {us(lat.get('max'))} | {job.get('error', 0)} | `{sys.argv[2]}` |")
PY
done
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
