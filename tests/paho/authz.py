#!/usr/bin/env python3
"""Authorization, ban and limit checks against a running Tributary node, with paho-mqtt 2.1.

    python3 tests/paho/authz.py --host H --port P PHASE

PHASE is one of:
  acl        the rules and users (alice, bob, watcher; super user root; password `secret`) of
             ACLProcessTests are installed (no-match deny): every allow and deny path — publish,
             subscribe, retain, QoS conditions, %u/%c, CIDR, super user — for 3.1.1 and 5.0
  v3ignore   auth.acl.v3-publish-denied ignore: a denied 3.1.1 publish is acknowledged, dropped
  live       a connected client is denied; the driver adds a rule (line on stdin), the same
             connection is then allowed; the driver deletes it, the connection is denied again
  banned     the driver banned client id `banned-client`, user `banned-user` and no network:
             CONNECT is refused (5.0: 0x8A, 3.1.1: return code 5); then a connected client is
             banned by the driver and disconnected (DISCONNECT 0x98, reconnect 0x8A)
  flapping   mqtt.flapping.max-connects 3: the fourth connect within the window is refused 0x8A
  audit      anonymous CONNECT with a password refused (0x87), banned client id refused (0x8A)
  limits     mqtt.limits.*: message rate (0x96), max subscriptions (0x97 / 0x80), bandwidth
             (throttled, not dropped), connection rate (0x9F) — in that order
Every wait has a deadline; prints `PASS <check>` lines and `all ok`, exits 1 on the first failure.
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import paho.mqtt.client as mqtt  # noqa: E402
from support import (  # noqa: E402
    TIMEOUT, V5, V311, CaseFailure, Context, Peer, RawConnection, check, encode_remaining_length,
)

NOT_AUTHORIZED = 0x87
BANNED = 0x8A
ADMINISTRATIVE_ACTION = 0x98


def log(text: str) -> None:
    print(text, flush=True)


def wait_for_driver(name: str) -> None:
    """Tells the driver we are at `name` and waits for its go-ahead line."""
    log(f"WAITING {name}")
    line = sys.stdin.readline()
    check(line.strip() == "go", f"driver said {line!r} at {name}")


def peer(ctx: Context, client_id: str, user: str | None = None, expect_success: bool = True) -> Peer:
    p = Peer(ctx, client_id, expect_success=expect_success)
    if user is not None:
        p.client.username_pw_set(user, "secret")
    ctx.peers.append(p)
    return p.open()


def publish_code(p: Peer, topic: str, qos: int, retain: bool = False):
    """The reason code of a QoS 1 publish (PUBACK); 5.0 only."""
    info = p.client.publish(topic, b"x", qos=qos, retain=retain)
    check(info.rc == mqtt.MQTT_ERR_SUCCESS, f"publish to {topic} failed locally: {info.rc}")
    return p.wait_ack(info.mid, f"PUBACK for {topic}").value


def subscribe_codes(p: Peer, topic: str, qos: int) -> list[int]:
    result, mid = p.client.subscribe(topic, qos)
    check(result == mqtt.MQTT_ERR_SUCCESS, f"subscribe to {topic} failed locally")
    codes = p.wait_ack(mid, f"SUBACK for {topic}")
    return [code.value if hasattr(code, "value") else int(code) for code in codes]


def granted(code: int) -> bool:
    return code < 0x80


def raw_connect(
    ctx: Context, client_id: str, version: int, user: str | None = None, password: str | None = None
) -> tuple[RawConnection, int]:
    """A hand-made CONNECT (optionally with a user name and password); returns the connection and
    the CONNACK reason / return code."""
    conn = RawConnection(ctx)
    flags = 0x02 | (0x80 if user is not None else 0) | (0x40 if password is not None else 0)
    variable = struct.pack("!H", 4) + b"MQTT" + bytes([version, flags]) + struct.pack("!H", 60)
    if version == V5:
        variable += b"\x00"
    payload = struct.pack("!H", len(client_id)) + client_id.encode()
    if user is not None:
        payload += struct.pack("!H", len(user)) + user.encode()
    if password is not None:
        payload += struct.pack("!H", len(password)) + password.encode()
    body = variable + payload
    conn.send(b"\x10" + encode_remaining_length(len(body)) + body)
    first, body = conn.read_packet()
    check(first == 0x20, f"expected CONNACK, got {first:#x}")
    return conn, body[1]


def phase_acl(ctx: Context) -> None:
    run = ctx.run
    # v5, user alice, client id acl-c1 (rules: users/%u/#, clients/%c/#, sensors/# publish QoS<=1
    # not retained, sensors/secret denied first, telemetry/# subscribe QoS 0 only, lan/# from
    # 127.0.0.0/8, wan/# from 10.0.0.0/8; no-match deny).
    ctx.version = V5
    alice = peer(ctx, "acl-c1", user="alice")
    codes = subscribe_codes(alice, "users/alice/#", 1)
    check(granted(codes[0]), f"users/alice/# refused: {codes}")
    check(publish_code(alice, "users/alice/inbox", 1) == 0, "publish to own %u topic refused")
    message = alice.expect_message("own %u message")
    check(message.topic == "users/alice/inbox", f"unexpected {message.topic}")
    log("PASS %u allows own topic (publish, subscribe) [v5]")
    check(publish_code(alice, "users/bob/inbox", 1) == NOT_AUTHORIZED, "publish to another user's topic not refused")
    check(subscribe_codes(alice, "users/bob/#", 1) == [NOT_AUTHORIZED], "subscribe to another user's topic not refused")
    check(subscribe_codes(alice, "users/+/inbox", 0) == [NOT_AUTHORIZED], "wildcard across users not refused")
    log("PASS %u denies other users (publish 0x87, subscribe 0x87) [v5]")
    check(publish_code(alice, "clients/acl-c1/state", 1) == 0, "publish to own %c topic refused")
    check(publish_code(alice, "clients/acl-c2/state", 1) == NOT_AUTHORIZED, "publish to another client's topic not refused")
    log("PASS %c allows own client id only [v5]")
    watcher = peer(ctx, "acl-watch", user="watcher")
    check(subscribe_codes(watcher, "sensors/#", 1) == [1], "sensors/# subscription refused")
    check(publish_code(alice, "sensors/temp", 1) == 0, "QoS 1 publish to sensors refused")
    check(publish_code(alice, "sensors/temp", 1, retain=True) == NOT_AUTHORIZED, "retained publish not refused")
    check(publish_code(alice, "sensors/secret", 1) == NOT_AUTHORIZED, "explicit deny rule not applied")
    alice.client.publish("sensors/secret", b"dropped-qos0", qos=0)
    alice.client.publish("sensors/temp", b"marker", qos=0)
    got = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        m = watcher.expect_message("sensor messages")
        got.append((m.topic, m.payload))
        if m.payload == b"marker":
            break
    check([t for t, _ in got] == ["sensors/temp", "sensors/temp"], f"denied messages were delivered: {got}")
    log("PASS retain condition and deny rule refuse; denied messages are not delivered [v5]")
    # QoS condition on publish: QoS 2 is outside the rule -> PUBREC 0x87 (raw: paho hides it).
    raw, code = raw_connect(ctx, "acl-raw", V5)
    check(code == 0, f"raw CONNECT refused: {code:#x}")
    topic = b"sensors/temp"
    body = struct.pack("!H", len(topic)) + topic + struct.pack("!H", 7) + b"\x00" + b"q2"
    raw.send(b"\x34" + encode_remaining_length(len(body)) + body)
    first, reply = raw.read_packet()
    check(first == 0x50 and reply[:2] == b"\x00\x07" and reply[2] == NOT_AUTHORIZED, f"QoS 2 publish: {first:#x} {reply!r}")
    raw.sock.close()
    # QoS condition on subscribe: telemetry/# is allowed at QoS 0 only.
    check(subscribe_codes(alice, "telemetry/#", 0) == [0], "telemetry/# at QoS 0 refused")
    check(subscribe_codes(alice, "telemetry/x", 1) == [NOT_AUTHORIZED], "telemetry at QoS 1 not refused")
    log("PASS QoS conditions (PUBREC 0x87 for QoS 2, SUBACK 0x87 above QoS 0) [v5]")
    check(publish_code(alice, "lan/printer", 1) == 0, "lan/# from 127.0.0.1 refused")
    check(publish_code(alice, "wan/printer", 1) == NOT_AUTHORIZED, "wan/# from 127.0.0.1 not refused")
    log("PASS CIDR source condition [v5]")
    check(publish_code(alice, "unmatched/topic", 1) == NOT_AUTHORIZED, "no-match deny not applied")
    log("PASS no matching rule denies (auth.acl.no-match deny) [v5]")
    root = peer(ctx, "acl-root", user="root")
    check(subscribe_codes(root, "#", 1) == [1], "super user subscription to # refused")
    check(publish_code(root, "unmatched/topic", 1) == 0, "super user publish refused")
    check(publish_code(root, "sensors/secret", 1, retain=False) == 0, "super user stopped by a deny rule")
    log("PASS a super user bypasses every rule [v5]")
    # v3.1.1: a denied filter gets 0x80; a denied publish disconnects.
    ctx.version = V311
    bob = peer(ctx, "acl-v3", user="bob")
    check(subscribe_codes(bob, "users/bob/#", 1) == [1], "v3 own topic refused")
    check(subscribe_codes(bob, "users/alice/#", 1) == [0x80], "v3 denied filter did not get 0x80")
    info = bob.client.publish("users/bob/x", b"ok", qos=1)
    bob.wait_ack(info.mid, "v3 PUBACK")
    bob.expect_message("v3 own message")
    log("PASS 3.1.1 subscribe refusal 0x80, allowed publish [v3.1.1]")
    bob.client.publish("users/alice/x", b"no", qos=1)
    bob.expect_disconnect("v3 disconnect after a denied publish")
    log("PASS 3.1.1 denied publish disconnects [v3.1.1]")
    del run


def phase_v3ignore(ctx: Context) -> None:
    # auth.acl.v3-publish-denied ignore, no-match deny, rules: allow subscribe '#', allow publish
    # 'open/#'. A denied 3.1.1 publish is acknowledged and dropped; the client stays connected.
    ctx.version = V311
    watcher = peer(ctx, "v3-watch")
    check(subscribe_codes(watcher, "#", 1) == [1], "watcher refused")
    sender = peer(ctx, "v3-send")
    for topic in ("closed/x", "open/x"):
        info = sender.client.publish(topic, topic.encode(), qos=1)
        sender.wait_ack(info.mid, f"PUBACK for {topic}")
    message = watcher.expect_message("the allowed message")
    check(message.topic == "open/x", f"denied message delivered: {message.topic}")
    check(sender.disconnects.empty(), "the 3.1.1 client was disconnected")
    log("PASS 3.1.1 denied publish acknowledged and dropped with v3-publish-denied ignore")


def phase_live(ctx: Context) -> None:
    ctx.version = V5
    p = peer(ctx, "live-1", user="carol")
    check(publish_code(p, "live/x", 1) == NOT_AUTHORIZED, "live/x allowed before the rule exists")
    wait_for_driver("add")
    deadline = time.monotonic() + TIMEOUT
    while publish_code(p, "live/x", 1) != 0:
        check(time.monotonic() < deadline, "the new rule did not take effect on the connected client")
        time.sleep(0.05)
    log("PASS a rule added while connected applies without reconnect")
    wait_for_driver("delete")
    deadline = time.monotonic() + TIMEOUT
    while publish_code(p, "live/x", 1) != NOT_AUTHORIZED:
        check(time.monotonic() < deadline, "the deleted rule still applies")
        time.sleep(0.05)
    log("PASS a deleted rule stops applying without reconnect")


def phase_banned(ctx: Context) -> None:
    ctx.version = V5
    for version, expected in ((V5, BANNED), (V311, 5)):
        conn, code = raw_connect(ctx, "banned-client", version)
        check(code == expected, f"banned client id: CONNACK {code:#x}, expected {expected:#x}")
        conn.sock.close()
        conn, code = raw_connect(ctx, "someone", version, user="banned-user")
        check(code == expected, f"banned user: CONNACK {code:#x}, expected {expected:#x}")
        conn.sock.close()
    log("PASS banned client id and user refused (0x8A / return code 5)")
    conn, code = raw_connect(ctx, "fine-client", V5)
    check(code == 0, f"unbanned client refused: {code:#x}")
    conn.sock.close()
    log("PASS others still connect")
    victim = peer(ctx, "victim")
    wait_for_driver("ban-victim")
    reason = victim.expect_disconnect("DISCONNECT after the ban")
    # 0x8A is CONNACK-only (MQTT 5.0 §3.14.2.1): the DISCONNECT says 0x98 Administrative action.
    check(reason.value == ADMINISTRATIVE_ACTION, f"victim disconnected with {reason}")
    conn, code = raw_connect(ctx, "victim", V5)
    check(code == BANNED, f"victim reconnect: {code:#x}")
    conn.sock.close()
    log("PASS a connected client that becomes banned is disconnected (0x98), its reconnect refused 0x8A")
    wait_for_driver("ban-network")
    conn, code = raw_connect(ctx, "from-loopback", V5)
    check(code == BANNED, f"banned network: {code:#x}")
    conn.sock.close()
    log("PASS a banned network is refused")


def phase_flapping(ctx: Context) -> None:
    for attempt in range(3):
        conn, code = raw_connect(ctx, "flapper", V5)
        check(code == 0, f"connect {attempt + 1} refused: {code:#x}")
        conn.sock.close()
    conn, code = raw_connect(ctx, "flapper", V5)
    check(code == BANNED, f"fourth connect within the window: {code:#x}")
    conn.sock.close()
    conn, code = raw_connect(ctx, "steady", V5)
    check(code == 0, f"another client refused: {code:#x}")
    conn.sock.close()
    log("PASS flapping client banned after 3 connects; others unaffected")


def phase_limits(ctx: Context) -> None:
    # mqtt.limits.message-rate 20 (burst 20): 200 QoS 0 publishes at once -> 0x96.
    ctx.version = V5
    fast = peer(ctx, "fast")
    for index in range(200):
        if fast.client.publish("rate/x", b"m", qos=0).rc != mqtt.MQTT_ERR_SUCCESS:
            break
    reason = fast.expect_disconnect("a disconnect for the message rate")
    check(reason.value == 0x96, f"message rate: disconnected with {reason}")
    slow = peer(ctx, "slow")
    for index in range(5):
        check(publish_code(slow, "rate/y", 1) == 0, "a client under the rate was refused")
    log("PASS message rate: over 20/s disconnected with 0x96; under it accepted")
    # mqtt.limits.max-subscriptions 3.
    many = peer(ctx, "many")
    result, mid = many.client.subscribe([("q/1", 0), ("q/2", 0), ("q/3", 0), ("q/4", 0)])
    codes = [c.value for c in many.wait_ack(mid, "SUBACK")]
    check(codes == [0, 0, 0, 0x97], f"max subscriptions: {codes}")
    check(subscribe_codes(many, "q/1", 1) == [1], "re-subscribing a held filter refused")
    check(subscribe_codes(many, "q/5", 0) == [0x97], "fifth filter not refused")
    ctx.version = V311
    many3 = peer(ctx, "many3")
    result, mid = many3.client.subscribe([("r/1", 0), ("r/2", 0), ("r/3", 0), ("r/4", 0)])
    codes = [c.value if hasattr(c, "value") else int(c) for c in many3.wait_ack(mid, "SUBACK")]
    check(codes[:3] == [0, 0, 0] and codes[3] == 0x80, f"v3 max subscriptions: {codes}")
    log("PASS max subscriptions: 0x97 (5.0) / 0x80 (3.1.1) beyond 3 filters")
    # mqtt.limits.bandwidth 20000 B/s: 100 kB takes about 4 s; nothing is lost.
    ctx.version = V5
    sink = peer(ctx, "sink")
    check(subscribe_codes(sink, "bw/#", 1) == [1], "bw/# refused")
    heavy = peer(ctx, "heavy")
    started = time.monotonic()
    infos = [heavy.client.publish("bw/x", bytes(10_000), qos=1) for _ in range(10)]
    for info in infos:
        heavy.wait_ack(info.mid, "PUBACK of a throttled publish", timeout=30)
    elapsed = time.monotonic() - started
    received = sink.expect_messages(10, "throttled messages", timeout=30)
    check(len(received) == 10, "throttled messages lost")
    check(elapsed >= 3.0, f"100 kB at 20000 B/s took only {elapsed:.2f}s")
    log(f"PASS bandwidth throttled ({elapsed:.1f}s for 100 kB at 20 kB/s), nothing dropped")
    # mqtt.limits.connect-rate 10 (burst 10): 30 connects at once -> some 0x9F.
    time.sleep(1.5)
    refused = accepted = 0
    conns = []
    for index in range(30):
        conn, code = raw_connect(ctx, f"burst-{index}", V5)
        conns.append(conn)
        if code == 0x9F:
            refused += 1
        elif code == 0:
            accepted += 1
    for conn in conns:
        conn.sock.close()
    check(refused >= 10 and accepted >= 10, f"connect rate: {accepted} accepted, {refused} refused")
    log(f"PASS connection rate: {accepted} accepted, {refused} refused with 0x9F")
    # 3.1.1 cannot say 0x9F: it gets return code 3 (server unavailable). Connect until one is
    # refused (the bucket refills at 10/s, so a few may pass).
    for attempt in range(40):
        conn, code = raw_connect(ctx, f"burst-v3-{attempt}", V311)
        conn.sock.close()
        check(code in (0, 3), f"v3 over the connect rate: return code {code}")
        if code == 3:
            break
    check(code == 3, "no 3.1.1 connect was refused over the rate")
    log("PASS connection rate for 3.1.1: return code 3")
    deadline = time.monotonic() + TIMEOUT
    while True:
        conn, code = raw_connect(ctx, "after-burst", V5)
        conn.sock.close()
        if code == 0:
            break
        check(time.monotonic() < deadline, "connections stay refused after the burst")
        time.sleep(0.1)
    log("PASS connections accepted again once the bucket refills")


def phase_audit(ctx: Context) -> None:
    # mqtt.allow-anonymous false: no user name is refused 0x87 (the password must not be logged);
    # the driver banned `audit-banned`.
    conn, code = raw_connect(ctx, "audit-anon", V5, password="hunter2-not-logged")
    check(code == NOT_AUTHORIZED, f"anonymous CONNECT: {code:#x}")
    conn.sock.close()
    conn, code = raw_connect(ctx, "audit-banned", V5, user="mallory")
    check(code == BANNED, f"banned CONNECT: {code:#x}")
    conn.sock.close()
    log("PASS refused connects (0x87 anonymous, 0x8A banned)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("phase", choices=["acl", "live", "banned", "flapping", "limits", "audit", "v3ignore"])
    arguments = parser.parse_args()
    ctx = Context(host=arguments.host, port=arguments.port, version=V5, tributary=True)
    phases = {"acl": phase_acl, "live": phase_live, "banned": phase_banned, "flapping": phase_flapping, "limits": phase_limits, "audit": phase_audit, "v3ignore": phase_v3ignore}
    try:
        phases[arguments.phase](ctx)
    except CaseFailure as failure:
        log(f"FAIL {arguments.phase}: {failure}")
        return 1
    finally:
        ctx.close_all()
    log("all ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
