"""Conformance cases that apply to MQTT 3.1.1 and 5.0 alike."""

from __future__ import annotations

import time

from paho.mqtt.packettypes import PacketTypes

from registry import case
from support import (
    TIMEOUT,
    V5,
    CaseFailure,
    Context,
    RawConnection,
    check,
    drain_until,
    props,
    raw_connect_packet,
)


def persistent_options(ctx: Context, expiry: int = 300) -> dict:
    """Connect options for a session that outlives the connection."""
    if ctx.version == V5:
        return {"clean": False, "connect_properties": props(PacketTypes.CONNECT, SessionExpiryInterval=expiry)}
    return {"clean": False}


@case("connect-clean-session")
def connect_clean_session(ctx: Context):
    """CONNACK success; a clean connection never has a session present; a persistent session is
    present on reconnect and discarded by a clean one."""
    client_id = ctx.client_id("clean")
    first = ctx.connect(client_id=client_id)
    check(not first.session_present, "clean connect reported a session present")
    first.disconnect()
    persistent = ctx.connect(client_id=client_id, **persistent_options(ctx))
    check(not persistent.session_present, "first persistent connect reported a session present")
    persistent.subscribe(ctx.topic("clean"), 1)
    persistent.disconnect()
    again = ctx.connect(client_id=client_id, **persistent_options(ctx))
    check(again.session_present, "reconnect with clean session false did not find the session")
    again.disconnect()
    clean = ctx.connect(client_id=client_id)
    check(not clean.session_present, "clean reconnect reported the old session present")
    clean.disconnect()


def round_trip(ctx: Context, qos: int):
    topic = ctx.topic(f"qos{qos}")
    subscriber = ctx.connect("sub")
    granted = subscriber.subscribe(topic, qos)
    check(int(granted[0].value) == qos, f"SUBACK granted {granted[0]} for QoS {qos}")
    publisher = ctx.connect("pub")
    payload = f"qos {qos} payload".encode()
    publisher.publish(topic, payload, qos=qos)
    message = subscriber.expect_message(f"the QoS {qos} message")
    check(message.topic == topic, f"topic {message.topic!r}, expected {topic!r}")
    check(message.payload == payload, f"payload {message.payload!r}, expected {payload!r}")
    check(message.qos == qos, f"delivered with QoS {message.qos}, expected {qos}")
    check(not message.retain, "a live message arrived with the retain flag")
    # The subscription's QoS caps delivery.
    low = ctx.topic(f"qos{qos}-capped")
    subscriber.subscribe(low, 0)
    publisher.publish(low, b"capped", qos=qos)
    capped = subscriber.expect_message("the capped message")
    check(capped.qos == 0, f"QoS 0 subscription delivered with QoS {capped.qos}")
    subscriber.expect_no_message("duplicate delivery")


@case("qos0-round-trip")
def qos0(ctx: Context):
    """QoS 0 publish → subscribe round trip: topic, payload and QoS kept; a QoS 0 subscription
    caps the delivery QoS; no duplicate."""
    round_trip(ctx, 0)


@case("qos1-round-trip")
def qos1(ctx: Context):
    """QoS 1 publish → subscribe round trip: topic, payload and QoS kept; a QoS 0 subscription
    caps the delivery QoS; no duplicate."""
    round_trip(ctx, 1)


@case("qos2-round-trip")
def qos2(ctx: Context):
    """QoS 2 publish → subscribe round trip: topic, payload and QoS kept; a QoS 0 subscription
    caps the delivery QoS; no duplicate."""
    round_trip(ctx, 2)


@case("wildcards")
def wildcards(ctx: Context):
    """`+` matches one level (also an empty one), `#` matches the parent and every level below;
    filters starting with a wildcard do not match topics starting with `$`."""
    base = ctx.topic("wild")
    plus = ctx.connect("plus")
    plus.subscribe(base + "/+/temp", 1)
    hash_ = ctx.connect("hash")
    hash_.subscribe(base + "/#", 1)
    publisher = ctx.connect("pub")
    for topic in [base + "/kitchen/temp", base + "//temp", base + "/a/b/temp", base]:
        publisher.publish(topic, topic.encode(), qos=1)
    publisher.publish(base + "/end", b"end", qos=1)
    got_plus = sorted(m.topic for m in plus.expect_messages(2, "matches of +"))
    check(got_plus == sorted([base + "/kitchen/temp", base + "//temp"]), f"+ matched {got_plus}")
    got_hash = sorted(m.topic for m in hash_.expect_messages(5, "matches of #"))
    expected_hash = sorted([base + "/kitchen/temp", base + "//temp", base + "/a/b/temp", base, base + "/end"])
    check(got_hash == expected_hash, f"# matched {got_hash}")
    plus.expect_no_message("a topic with more levels on +")

    # The $ rule: `+/…` and `#` do not match `$…` topics, an explicit `$…` filter does.
    dollar = "$" + ctx.run + "/status"
    plain = ctx.run + "/status"
    wildcard = ctx.connect("dollar-wild")
    wildcard.subscribe("+/status", 1)
    everything = ctx.connect("dollar-hash")
    everything.subscribe("#", 1)
    explicit = ctx.connect("dollar-explicit")
    explicit.subscribe(dollar, 1)
    publisher.publish(dollar, b"dollar", qos=1)
    publisher.publish(plain, b"plain", qos=1)
    message = explicit.expect_message("the $ topic on its explicit filter")
    check(message.topic == dollar, f"explicit $ filter got {message.topic}")
    mine = lambda m: ctx.run in m.topic  # noqa: E731 — other traffic (e.g. retained) is ignored
    before = [m for m in drain_until(wildcard, lambda m: m.topic == plain, "the plain topic on +/status") if mine(m)]
    check(not before, f"+/status matched {[m.topic for m in before]}")
    before = [m for m in drain_until(everything, lambda m: m.topic == plain, "the plain topic on #") if mine(m)]
    check(not before, f"# matched {[m.topic for m in before]}")
    for peer in (wildcard, everything):
        while not peer.messages.empty():
            late = peer.messages.get_nowait()
            check(late.topic != dollar, "a wildcard filter received the $ topic")


@case("retained")
def retained(ctx: Context):
    """A retained message is stored, delivered with the retain flag to new subscribers, replaced
    by a newer one and cleared by an empty retained payload."""
    topic = ctx.topic("retained")
    publisher = ctx.connect("pub")
    publisher.publish(topic, b"first", qos=1, retain=True)
    publisher.publish(topic, b"second", qos=1, retain=True)
    subscriber = ctx.connect("sub")
    subscriber.subscribe(topic, 1)
    message = subscriber.expect_message("the retained message")
    check(message.payload == b"second", f"retained payload {message.payload!r}, expected the latest")
    check(message.retain, "the retained message arrived without the retain flag")
    publisher.publish(topic, b"live", qos=1, retain=False)
    live = subscriber.expect_message("the live message")
    check(live.payload == b"live" and not live.retain, f"live message {live.payload!r} retain={live.retain}")

    publisher.publish(topic, b"", qos=1, retain=True)
    cleared_delivery = subscriber.expect_message("the clearing message to the existing subscriber")
    check(cleared_delivery.payload == b"", "the clearing message changed payload")
    late = ctx.connect("late")
    late.subscribe(topic, 1)
    publisher.publish(topic, b"marker", qos=1)
    before = drain_until(late, lambda m: m.payload == b"marker", "the marker after a cleared retained message")
    check(not before, f"a cleared retained message was delivered: {[m.payload for m in before]}")


@case("persistent-session")
def persistent_session(ctx: Context):
    """Subscribe QoS 1, disconnect, 10 messages published meanwhile, reconnect without clean
    start: all 10 arrive, in order."""
    topic = ctx.topic("offline")
    client_id = ctx.client_id("persistent")
    first = ctx.connect(client_id=client_id, **persistent_options(ctx))
    first.subscribe(topic, 1)
    first.disconnect()
    publisher = ctx.connect("pub")
    for index in range(10):
        publisher.publish(topic, f"{index}".encode(), qos=1)
    again = ctx.connect(client_id=client_id, **persistent_options(ctx))
    check(again.session_present, "the session was not present on reconnect")
    messages = again.expect_messages(10, "queued messages")
    payloads = [int(m.payload) for m in messages]
    check(payloads == list(range(10)), f"queued messages arrived as {payloads}")
    check(all(m.qos == 1 for m in messages), "queued messages lost their QoS")
    again.expect_no_message("an eleventh message")


@case("session-takeover")
def session_takeover(ctx: Context):
    """A second connection with the same client id disconnects the first (v5: reason 0x8E)."""
    client_id = ctx.client_id("takeover")
    first = ctx.connect(client_id=client_id)
    second = ctx.connect(client_id=client_id)
    reason = first.expect_disconnect("the broker to disconnect the first connection")
    if ctx.version == V5:
        check(reason.value == 0x8E, f"first connection disconnected with {reason} ({reason.value:#x}), expected 0x8E")
    topic = ctx.topic("takeover")
    second.subscribe(topic, 1)
    second.publish(topic, b"still here", qos=1)
    check(second.expect_message("a message on the new connection").payload == b"still here", "wrong payload")


@case("will-abnormal")
def will_abnormal(ctx: Context):
    """The will is published when the connection drops without DISCONNECT, and not after a
    normal DISCONNECT."""
    topic = ctx.topic("will")
    watcher = ctx.connect("watcher")
    watcher.subscribe(topic, 1)
    dropped = ctx.connect("dropped", will=(topic, b"gone", 1, False))
    dropped.drop()
    message = watcher.expect_message("the will")
    check(message.payload == b"gone", f"will payload {message.payload!r}")
    polite = ctx.connect("polite", will=(topic, b"should not fire", 1, False))
    polite.disconnect()
    marker = ctx.connect("marker")
    marker.publish(topic, b"marker", qos=1)
    before = drain_until(watcher, lambda m: m.payload == b"marker", "the marker")
    check(not before, f"a will fired after a normal DISCONNECT: {[m.payload for m in before]}")
    watcher.expect_no_message("a late will")


@case("shared-subscription")
def shared_subscription(ctx: Context):
    """`$share/g/t` with two members: the messages are split between them, each delivered once."""
    topic = ctx.topic("shared")
    group = f"$share/g{ctx.run}/{topic}"
    members = [ctx.connect("member-a"), ctx.connect("member-b")]
    for member in members:
        member.subscribe(group, 1)
    publisher = ctx.connect("pub")
    total = 40
    for index in range(total):
        publisher.publish(topic, f"{index}".encode(), qos=1)
    deadline = time.monotonic() + TIMEOUT
    received = [[], []]
    while sum(len(r) for r in received) < total and time.monotonic() < deadline:
        for index, member in enumerate(members):
            while not member.messages.empty():
                received[index].append(int(member.messages.get_nowait().payload))
        time.sleep(0.01)
    everything = sorted(received[0] + received[1])
    check(everything == list(range(total)), f"group received {len(everything)} of {total} (duplicates or losses)")
    check(received[0] and received[1], f"messages not split: {len(received[0])} / {len(received[1])}")
    for member in members:
        member.expect_no_message("a second delivery")


@case("keep-alive")
def keep_alive(ctx: Context):
    """A client silent for 1.5 × its keep-alive is disconnected by the broker (not before the
    keep-alive itself)."""
    keepalive = 2
    raw = RawConnection(ctx)
    try:
        raw.send(raw_connect_packet(ctx.client_id("silent"), ctx.version, keepalive))
        first, body = raw.read_packet()
        check(first == 0x20 and body[1] == 0, f"CONNACK expected, got {first:#x} {body!r}")
        # 1.5 × keep-alive, plus 2 s for timer granularity and a loaded machine.
        elapsed = raw.wait_closed(timeout=keepalive * 1.5 + 2)
        check(elapsed >= keepalive * 1.0 - 0.2, f"closed after {elapsed:.2f}s, before the keep-alive of {keepalive}s")
    finally:
        raw.close()


@case("malformed-packet")
def malformed_packet(ctx: Context):
    """A malformed packet closes the connection: a reserved packet type after CONNECT, a
    SUBSCRIBE with wrong fixed-header flags, and a CONNECT with an unknown protocol name."""
    samples = {
        "reserved packet type 0": b"\x00\x00",
        "SUBSCRIBE with flags 0": b"\x80\x06\x00\x01\x00\x01a\x00" if ctx.version != V5 else b"\x80\x07\x00\x01\x00\x00\x01a\x00",
        "remaining length over 4 bytes": b"\x30\xff\xff\xff\xff\x7f",
    }
    for name, data in samples.items():
        raw = RawConnection(ctx)
        try:
            raw.send(raw_connect_packet(ctx.client_id("malformed"), ctx.version, 60))
            first, _ = raw.read_packet()
            check(first == 0x20, f"CONNACK expected before sending {name}")
            raw.send(data)
            raw.wait_closed(timeout=TIMEOUT)
        except CaseFailure as failure:
            raise CaseFailure(f"{name}: {failure}")
        finally:
            raw.close()
    raw = RawConnection(ctx)
    try:
        bad = bytearray(raw_connect_packet(ctx.client_id("badname"), ctx.version, 60))
        bad[4:8] = b"MQTX"
        raw.send(bytes(bad))
        raw.wait_closed(timeout=TIMEOUT)
    except CaseFailure as failure:
        raise CaseFailure(f"CONNECT with protocol name MQTX: {failure}")
    finally:
        raw.close()


@case("unsubscribe")
def unsubscribe(ctx: Context):
    """After UNSUBACK nothing more is delivered for the filter; other subscriptions continue."""
    topic = ctx.topic("unsub")
    other = ctx.topic("unsub-other")
    subscriber = ctx.connect("sub")
    subscriber.subscribe(topic, 1)
    subscriber.subscribe(other, 1)
    publisher = ctx.connect("pub")
    publisher.publish(topic, b"before", qos=1)
    check(subscriber.expect_message("the message before unsubscribing").payload == b"before", "wrong payload")
    subscriber.unsubscribe(topic)
    publisher.publish(topic, b"after", qos=1)
    publisher.publish(other, b"marker", qos=1)
    before = drain_until(subscriber, lambda m: m.topic == other, "the marker on the other subscription")
    check(not before, f"delivered after unsubscribe: {[m.payload for m in before]}")
    subscriber.expect_no_message("a late delivery after unsubscribe")


@case("ordered-delivery")
def ordered_delivery(ctx: Context):
    """1,000 QoS 1 messages from one publisher on one topic arrive in order."""
    topic = ctx.topic("ordered")
    total = 1000
    subscriber = ctx.connect("sub")
    subscriber.subscribe(topic, 1)
    publisher = ctx.connect("pub")
    infos = [publisher.publish(topic, f"{index}".encode(), qos=1, wait=False) for index in range(total)]
    deadline = time.monotonic() + 60
    for info in infos:
        publisher.wait_ack(info.mid, "PUBACK", timeout=max(0.1, deadline - time.monotonic()))
    messages = subscriber.expect_messages(total, "ordered messages", timeout=max(0.1, deadline - time.monotonic()))
    payloads = [int(m.payload) for m in messages]
    if payloads != list(range(total)):
        first = next((i for i, p in enumerate(payloads) if p != i), len(payloads))
        raise CaseFailure(f"out of order from index {first}: {payloads[first:first + 5]}")


@case("websocket", needs_ws=True)
def websocket(ctx: Context):
    """MQTT over WebSocket (path /mqtt): round trip, and messages cross between transports."""
    topic = ctx.topic("ws")
    ws = ctx.connect("ws", transport="websockets", port=ctx.ws_port)
    ws.subscribe(topic, 1)
    ws.publish(topic, b"ws to ws", qos=1)
    check(ws.expect_message("the WebSocket round trip").payload == b"ws to ws", "wrong payload")
    tcp = ctx.connect("tcp")
    tcp.subscribe(topic, 2)
    tcp.publish(topic, b"tcp to both", qos=2)
    check(ws.expect_message("the TCP publish over WebSocket").payload == b"tcp to both", "wrong payload on WebSocket")
    check(tcp.expect_message("the TCP publish over TCP").payload == b"tcp to both", "wrong payload on TCP")
    big = bytes(range(256)) * 400  # ~100 KiB: spans several WebSocket frames / TCP segments
    ws.publish(topic, big, qos=1)
    check(tcp.expect_message("the large WebSocket publish").payload == big, "large payload corrupted")
    check(ws.expect_message("the large publish echoed").payload == big, "large payload corrupted on WebSocket")
