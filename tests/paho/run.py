#!/usr/bin/env python3
"""paho-mqtt conformance runner.

    python3 tests/paho/run.py --host H --port P [--ws-port W] [--ws-path /mqtt]
                              [--only NAME[,NAME…]] [--skip NAME[,NAME…]] [--protocol 311|5]
                              [--tributary] [--list]

Runs every named case for MQTT 3.1.1 and 5.0 (or the one --protocol selects), printing one
line per case and protocol — `PASS name[v5]` or `FAIL name[v5]: reason` — and exits 0 only if
all selected cases pass. --skip leaves out cases (e.g. a reference broker's known deviations);
each prints `SKIP name[v5]`. Cases needing a WebSocket listener run only with --ws-port; cases for
Tributary-only features ($delayed, $SYS) only with --tributary. Requires paho-mqtt 2.1
(scripts/install-test-deps.sh installs it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases_core  # noqa: E402,F401 — registers cases
import cases_tributary  # noqa: E402,F401
import cases_v5  # noqa: E402,F401
from registry import CASES  # noqa: E402
from support import V5, V311, CaseFailure, Context  # noqa: E402

LABELS = {V311: "v3.1.1", V5: "v5"}


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="paho-mqtt conformance cases against an MQTT broker")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--ws-port", type=int, default=None, help="WebSocket listener port (enables the websocket case)")
    parser.add_argument("--ws-path", default="/mqtt")
    parser.add_argument("--only", default=None, help="comma-separated case names (with or without [v5]/[v3.1.1])")
    parser.add_argument("--skip", default=None, help="comma-separated case names not to run (known deviations of the broker under test)")
    parser.add_argument("--protocol", choices=["311", "5"], default=None, help="run only this protocol version")
    parser.add_argument("--tributary", action="store_true", help="also run cases for Tributary-specific features")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    return parser.parse_args(argv)


def selected(arguments):
    versions = {"311": [V311], "5": [V5], None: [V311, V5]}[arguments.protocol]
    wanted = None if arguments.only is None else {name.strip() for name in arguments.only.split(",") if name.strip()}
    known = {c.name for c in CASES} | {f"{c.name}[{LABELS[v]}]" for c in CASES for v in c.versions}
    skipped = set() if arguments.skip is None else {name.strip() for name in arguments.skip.split(",") if name.strip()}
    for names in (wanted or set(), skipped):
        if not names <= known:
            raise SystemExit(f"unknown case(s): {', '.join(sorted(names - known))}")
    plan = []
    for entry in CASES:
        for version in versions:
            label = f"{entry.name}[{LABELS[version]}]"
            if version not in entry.versions:
                continue
            if wanted is not None and entry.name not in wanted and label not in wanted:
                continue
            if entry.name in skipped or label in skipped:
                print(f"SKIP {label}", flush=True)
                continue
            if entry.tributary and not arguments.tributary:
                continue
            if entry.needs_ws and arguments.ws_port is None:
                continue
            plan.append((entry, version, label))
    return plan


def main(argv) -> int:
    arguments = parse_arguments(argv)
    if arguments.list:
        for entry in CASES:
            versions = ",".join(LABELS[v] for v in entry.versions)
            flags = (" (needs --ws-port)" if entry.needs_ws else "") + (" (needs --tributary)" if entry.tributary else "")
            print(f"{entry.name} [{versions}]{flags}: {entry.doc}")
        return 0
    plan = selected(arguments)
    if not plan:
        print("no case selected", file=sys.stderr)
        return 2
    failures = 0
    started = time.monotonic()
    for entry, version, label in plan:
        ctx = Context(
            host=arguments.host,
            port=arguments.port,
            version=version,
            ws_port=arguments.ws_port,
            ws_path=arguments.ws_path,
            tributary=arguments.tributary,
        )
        case_started = time.monotonic()
        try:
            entry.run(ctx)
        except CaseFailure as failure:
            failures += 1
            print(f"FAIL {label}: {failure}", flush=True)
        except Exception as error:  # a bug in the case or an unexpected client error
            failures += 1
            detail = traceback.format_exception_only(type(error), error)[-1].strip()
            print(f"FAIL {label}: unexpected {detail}", flush=True)
        else:
            print(f"PASS {label} ({time.monotonic() - case_started:.1f}s)", flush=True)
        finally:
            ctx.close_all()
    print(f"{len(plan) - failures} passed, {failures} failed, {len(plan)} cases in {time.monotonic() - started:.1f}s", flush=True)
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
