#!/usr/bin/env bash
# A local Tributary cluster as separate processes on loopback: 3 meta nodes, 3 journal nodes and
# 2 stateless brokers (docs/cluster.md).
#
#   scripts/cluster.sh start            start everything, wait until each process is ready
#   scripts/cluster.sh stop             SIGTERM every process (brokers first), wait for them
#   scripts/cluster.sh status           which processes run
#   scripts/cluster.sh add-broker ID    start one more broker (ID 3, 4, …) into the running cluster
#
# Environment:
#   CLUSTER_DIR        data, pid and log files (default ./cluster-data)
#   CLUSTER_BASE_PORT  broker N's MQTT port is BASE+N-1 (default 1883: 1883, 1884, …); the other
#                      ports derive from it (see docs/cluster.md)
#   TRIBUTARY          the tributary executable (default .build/debug/tributary)
set -euo pipefail

DIR=${CLUSTER_DIR:-./cluster-data}
BASE=${CLUSTER_BASE_PORT:-1883}
BIN=${TRIBUTARY:-.build/debug/tributary}
HOST=127.0.0.1

meta_rpc() { echo $((BASE + 100 + $1 - 1)); }
meta_admin() { echo $((BASE + 110 + $1 - 1)); }
journal_rpc() { echo $((BASE + 200 + $1 - 1)); }
journal_admin() { echo $((BASE + 210 + $1 - 1)); }
broker_mqtt() { echo $((BASE + $1 - 1)); }
broker_ws() { echo $((BASE + 10 + $1 - 1)); }
broker_admin() { echo $((BASE + 20 + $1 - 1)); }
broker_rpc() { echo $((BASE + 30 + $1 - 1)); }

meta_list() { echo "$HOST:$(meta_rpc 1),$HOST:$(meta_rpc 2),$HOST:$(meta_rpc 3)"; }
peers() { echo "1=$HOST:$(meta_rpc 1),2=$HOST:$(meta_rpc 2),3=$HOST:$(meta_rpc 3)"; }

die() { echo "cluster.sh: $*" >&2; exit 1; }

# launch NAME ARGS…: starts the process in the background, records its pid, logs to NAME.log.
launch() {
  local name=$1; shift
  if [[ -f "$DIR/$name.pid" ]] && kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null; then
    die "$name already runs (pid $(cat "$DIR/$name.pid")); run 'scripts/cluster.sh stop' first"
  fi
  "$BIN" "$@" >"$DIR/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

# ready NAME: waits (60 s) for NAME's ready line; fails with the end of its log otherwise.
ready() {
  local name=$1
  for _ in $(seq 1 600); do
    if grep -q " ready " "$DIR/$name.log" 2>/dev/null; then
      echo "  $(grep -m1 " ready " "$DIR/$name.log")"
      return 0
    fi
    if ! kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null; then
      tail -20 "$DIR/$name.log" >&2
      die "$name exited before it was ready (log: $DIR/$name.log)"
    fi
    sleep 0.1
  done
  tail -20 "$DIR/$name.log" >&2
  die "$name not ready after 60 s (log: $DIR/$name.log)"
}

start_broker() {
  local id=$1
  TRIBUTARY_MQTT_SHARD_REPLICAS=${TRIBUTARY_MQTT_SHARD_REPLICAS:-3} \
    TRIBUTARY_MQTT_ALLOW_ANONYMOUS=${TRIBUTARY_MQTT_ALLOW_ANONYMOUS:-true} \
    TRIBUTARY_AUTH_ACL_NO_MATCH=${TRIBUTARY_AUTH_ACL_NO_MATCH:-allow} \
    launch "broker-$id" broker --id "$id" --meta "$(meta_list)" --data-dir "$DIR/broker-$id" \
    --mqtt-port "$(broker_mqtt "$id")" --ws-port "$(broker_ws "$id")" --admin-port "$(broker_admin "$id")" \
    --rpc-port "$(broker_rpc "$id")"
}

start() {
  [[ -x "$BIN" ]] || die "no executable at $BIN (run 'swift build' or set TRIBUTARY)"
  mkdir -p "$DIR"
  echo "starting meta nodes"
  for id in 1 2 3; do
    launch "meta-$id" meta --id "$id" --data-dir "$DIR/meta-$id" --listen "$HOST:$(meta_rpc "$id")" \
      --peers "$(peers)" --admin-port "$(meta_admin "$id")"
  done
  for id in 1 2 3; do ready "meta-$id"; done
  echo "starting journal nodes"
  for id in 1 2 3; do
    launch "journal-$id" journal --id "$id" --data-dir "$DIR/journal-$id" --listen "$HOST:$(journal_rpc "$id")" \
      --meta "$(meta_list)" --admin-port "$(journal_admin "$id")"
  done
  for id in 1 2 3; do ready "journal-$id"; done
  echo "starting brokers"
  for id in 1 2; do start_broker "$id"; done
  for id in 1 2; do ready "broker-$id"; done
  echo "cluster up: MQTT on $HOST:$(broker_mqtt 1) and $HOST:$(broker_mqtt 2); files in $DIR"
}

stop_one() {
  local name=$1 pid
  [[ -f "$DIR/$name.pid" ]] || return 0
  pid=$(cat "$DIR/$name.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "  $name (pid $pid) did not stop in 30 s; killing it" >&2
      kill -KILL "$pid"
    fi
  fi
  rm -f "$DIR/$name.pid"
  echo "  stopped $name"
}

stop() {
  [[ -d "$DIR" ]] || { echo "nothing to stop in $DIR"; return 0; }
  local name
  for pidfile in "$DIR"/broker-*.pid; do [[ -e "$pidfile" ]] && stop_one "$(basename "$pidfile" .pid)"; done
  for name in journal-1 journal-2 journal-3 meta-1 meta-2 meta-3; do stop_one "$name"; done
}

status() {
  local pidfile name
  for pidfile in "$DIR"/*.pid; do
    [[ -e "$pidfile" ]] || { echo "no processes recorded in $DIR"; return 0; }
    name=$(basename "$pidfile" .pid)
    if kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "$name running (pid $(cat "$pidfile"))"; else echo "$name not running"; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  add-broker)
    [[ "${2:-}" =~ ^[0-9]+$ ]] || die "add-broker needs a numeric broker id"
    mkdir -p "$DIR"; start_broker "$2"; ready "broker-$2" ;;
  *) die "usage: scripts/cluster.sh start|stop|status|add-broker ID" ;;
esac
