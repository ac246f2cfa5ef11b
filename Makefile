# Tributary — developer and operator entry points.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
SWIFT ?= swift
CONFIG ?= debug
BIN := .build/$(CONFIG)/tributary

.PHONY: build release run test test-deps check-warnings bench bench-rpc bench-mqtt bench-meta bench-journal sim clean cluster cluster-stop

## build: compile everything (debug), tests included
build:
	$(SWIFT) build --build-tests

## release: optimised build of the tributary command
release:
	$(SWIFT) build -c release --product tributary

## run: standalone Tributary on embedded defaults, data in ./data
run:
	$(SWIFT) build --product tributary
	.build/debug/tributary standalone --data-dir ./data

## cluster: 3 meta, 3 journal and 2 broker processes on loopback (MQTT on 1883 and 1884 unless
## CLUSTER_BASE_PORT says otherwise; files in CLUSTER_DIR, default ./cluster-data), see docs/cluster.md
cluster:
	$(SWIFT) build --product tributary
	TRIBUTARY=.build/debug/tributary bash scripts/cluster.sh start

## cluster-stop: stop the processes `make cluster` started
cluster-stop:
	bash scripts/cluster.sh stop

## test: build with a warning check on our own code, then run every test
test: test-deps
	@mkdir -p .build
	$(SWIFT) build --build-tests 2>&1 | tee .build/build.log
	@$(MAKE) --no-print-directory check-warnings
	$(SWIFT) test --skip-build

## test-deps: what the integration tests need (real third-party clients), see scripts/
test-deps:
	bash scripts/install-test-deps.sh

## check-warnings: fail if the last build log shows a warning in Sources/ or Tests/
check-warnings:
	@if grep -E '^/[^ ]*/(Sources|Tests)/[^ ]*: warning:' .build/build.log | grep -v '/.build/'; then \
		echo "error: compiler warnings in our code (see above)"; exit 1; fi

## bench: every benchmark; results are written into BENCHMARKS.md by hand from the output
bench: bench-rpc bench-mqtt bench-meta bench-journal

## bench-rpc: binary RPC calls/s and latency vs a raw NIO echo baseline (release build)
bench-rpc:
	bash bench/rpc.sh

## sim: the Raft deterministic simulation over many seeds (SEEDS=5000 by default; one: SEED=n)
SEEDS ?= 5000
sim:
	$(SWIFT) build --build-tests
	TRIBUTARY_RAFT_SEEDS=$(SEEDS) $(if $(SEED),TRIBUTARY_RAFT_SEED=$(SEED)) $(SWIFT) test --skip-build --filter RaftSimulationTests

## bench-mqtt: MQTT scenarios with `tributary bench mqtt`: tributary standalone vs mosquitto (release build)
bench-mqtt:
	bash bench/mqtt.sh

## bench-meta: linearizable KV writes/s and latency, three Tributary meta voters vs three etcd
## members on loopback, fsync on (release build; installs Debian's etcd-server when missing)
bench-meta:
	bash bench/meta.sh

## bench-journal: durable appends/s, MB/s and latency (tributary bench journal, group commit) vs
## the raw disk (fio: sequential writes with fdatasync per write) on the same machine (release build)
bench-journal:
	bash bench/journal.sh

clean:
	rm -rf .build
