"""Conformance cases for MQTT 5.0 features."""

from __future__ import annotations

import time

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.subscribeoptions import SubscribeOptions

from registry import case
from support import V5, Context, check, drain_until, props

ONLY_V5 = (V5,)


def publish_props(**values):
    return props(PacketTypes.PUBLISH, **values)


@case("retain-handling", versions=ONLY_V5)
def retain_handling(ctx: Context):
    """Retain handling 0 sends retained messages on every subscribe, 1 only on a new
    subscription, 2 never."""
    topic = ctx.topic("rh")
    publisher = ctx.connect("pub")
    publisher.publish(topic, b"retained", qos=1, retain=True)

    def retained_seen(peer, handling):
        peer.subscribe(topic, options=SubscribeOptions(qos=1, retainHandling=handling))
        publisher.publish(topic, b"marker", qos=1)
        before = drain_until(peer, lambda m: m.payload == b"marker", f"the marker (retain handling {handling})")
        return [m.payload for m in before]

    always = ctx.connect("rh0")
    check(retained_seen(always, 0) == [b"retained"], "retain handling 0: no retained message on the first subscribe")
    check(retained_seen(always, 0) == [b"retained"], "retain handling 0: no retained message on the repeated subscribe")
    new_only = ctx.connect("rh1")
    check(retained_seen(new_only, 1) == [b"retained"], "retain handling 1: no retained message on a new subscription")
    check(retained_seen(new_only, 1) == [], "retain handling 1: retained message sent for an existing subscription")
    never = ctx.connect("rh2")
    check(retained_seen(never, 2) == [], "retain handling 2: retained message sent")
    publisher.publish(topic, b"", qos=1, retain=True)


@case("will-delay", versions=ONLY_V5)
def will_delay(ctx: Context):
    """The will waits for its delay interval after an abnormal disconnect; reconnecting within
    the delay cancels it."""
    topic = ctx.topic("will-delay")
    watcher = ctx.connect("watcher")
    watcher.subscribe(topic, 1)
    delay = 2
    will = (topic, b"delayed will", 1, False, props(PacketTypes.WILLMESSAGE, WillDelayInterval=delay))
    session = props(PacketTypes.CONNECT, SessionExpiryInterval=30)
    dropped = ctx.connect("dropped", will=will, connect_properties=session, clean=True)
    dropped_at = time.monotonic()
    dropped.drop()
    message = watcher.expect_message("the delayed will", timeout=delay + 10)
    elapsed = time.monotonic() - dropped_at
    check(message.payload == b"delayed will", f"will payload {message.payload!r}")
    check(elapsed >= delay - 0.3, f"the will arrived after {elapsed:.2f}s, before its {delay}s delay")

    client_id = ctx.client_id("returning")
    returning = ctx.connect(client_id=client_id, will=(topic, b"cancelled will", 1, False,
                                                       props(PacketTypes.WILLMESSAGE, WillDelayInterval=delay)),
                            connect_properties=props(PacketTypes.CONNECT, SessionExpiryInterval=30), clean=True)
    returning.drop()
    back = ctx.connect(client_id=client_id, clean=False, connect_properties=props(PacketTypes.CONNECT, SessionExpiryInterval=30))
    # Let the delay pass, then a marker proves the will never fired.
    watcher.expect_no_message("a will cancelled by the reconnect", timeout=delay + 1)
    back.publish(topic, b"marker", qos=1)
    before = drain_until(watcher, lambda m: m.payload == b"marker", "the marker")
    check(not before, f"a cancelled will fired: {[m.payload for m in before]}")
    back.disconnect(props(PacketTypes.DISCONNECT, SessionExpiryInterval=0))


@case("no-local", versions=ONLY_V5)
def no_local(ctx: Context):
    """With No Local, a client does not receive its own publications, but does receive others'."""
    topic = ctx.topic("no-local")
    client = ctx.connect("self")
    client.subscribe(topic, options=SubscribeOptions(qos=1, noLocal=True))
    client.publish(topic, b"own", qos=1)
    other = ctx.connect("other")
    other.publish(topic, b"other", qos=1)
    before = drain_until(client, lambda m: m.payload == b"other", "the other client's message")
    check(not before, f"received its own message with No Local: {[m.payload for m in before]}")
    client.expect_no_message("its own message, late")


@case("retain-as-published", versions=ONLY_V5)
def retain_as_published(ctx: Context):
    """With Retain As Published the retain flag of a live message is kept; without it, cleared."""
    topic = ctx.topic("rap")
    keep = ctx.connect("keep")
    keep.subscribe(topic, options=SubscribeOptions(qos=1, retainAsPublished=True))
    clear = ctx.connect("clear")
    clear.subscribe(topic, options=SubscribeOptions(qos=1, retainAsPublished=False))
    publisher = ctx.connect("pub")
    publisher.publish(topic, b"flagged", qos=1, retain=True)
    check(keep.expect_message("the live retained message").retain, "Retain As Published cleared the retain flag")
    check(not clear.expect_message("the live retained message").retain, "retain flag kept without Retain As Published")
    publisher.publish(topic, b"", qos=1, retain=True)


@case("subscription-identifiers", versions=ONLY_V5)
def subscription_identifiers(ctx: Context):
    """A delivery carries the identifiers of the matching subscriptions (one copy with all of
    them, or one copy per subscription); a subscription without one adds none."""
    base = ctx.topic("subid")
    client = ctx.connect("sub")
    client.subscribe(base + "/+", options=SubscribeOptions(qos=1), properties=props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=7))
    client.subscribe(base + "/#", options=SubscribeOptions(qos=1), properties=props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=300))
    plain = ctx.topic("subid-none")
    client.subscribe(plain, 1)
    publisher = ctx.connect("pub")
    publisher.publish(base + "/a", b"both", qos=1)
    first = client.expect_message("the message matching both subscriptions")
    identifiers = list(getattr(first.properties, "SubscriptionIdentifier", []))
    if sorted(identifiers) != [7, 300]:
        second = client.expect_message("a second copy for the other subscription")
        identifiers += list(getattr(second.properties, "SubscriptionIdentifier", []))
    check(sorted(identifiers) == [7, 300], f"subscription identifiers {identifiers}, expected 7 and 300")
    publisher.publish(base + "/a/b", b"deep", qos=1)
    deep = client.expect_message("the message matching only #")
    check(list(getattr(deep.properties, "SubscriptionIdentifier", [])) == [300],
          f"identifiers {getattr(deep.properties, 'SubscriptionIdentifier', None)} for the # match, expected [300]")
    publisher.publish(plain, b"none", qos=1)
    none = client.expect_message("the message on the subscription without identifier")
    check(not hasattr(none.properties, "SubscriptionIdentifier"), "a subscription without identifier got one")


@case("message-properties", versions=ONLY_V5)
def message_properties(ctx: Context):
    """User properties (order kept), content type, payload format indicator, response topic and
    correlation data reach the subscriber unchanged."""
    topic = ctx.topic("props")
    subscriber = ctx.connect("sub")
    subscriber.subscribe(topic, 1)
    publisher = ctx.connect("pub")
    sent = publish_props(
        UserProperty=[("a", "1"), ("b", "2"), ("a", "3")],
        ContentType="application/json",
        PayloadFormatIndicator=1,
        ResponseTopic=ctx.topic("reply"),
        CorrelationData=b"\x00\x01corr",
    )
    publisher.publish(topic, b'{"x":1}', qos=1, properties=sent)
    received = subscriber.expect_message("the message with properties").properties
    check(getattr(received, "UserProperty", None) == [("a", "1"), ("b", "2"), ("a", "3")],
          f"user properties {getattr(received, 'UserProperty', None)}")
    check(getattr(received, "ContentType", None) == "application/json", f"content type {getattr(received, 'ContentType', None)}")
    check(getattr(received, "PayloadFormatIndicator", None) == 1, "payload format indicator lost")
    check(getattr(received, "ResponseTopic", None) == ctx.topic("reply"), f"response topic {getattr(received, 'ResponseTopic', None)}")
    check(getattr(received, "CorrelationData", None) == b"\x00\x01corr", f"correlation data {getattr(received, 'CorrelationData', None)}")
    publisher.publish(topic, b"bare", qos=1)
    bare = subscriber.expect_message("the message without properties").properties
    check(not hasattr(bare, "UserProperty") and not hasattr(bare, "ContentType"), "properties leaked into the next message")


@case("message-expiry", versions=ONLY_V5)
def message_expiry(ctx: Context):
    """A queued message whose expiry passes is not delivered; one still alive is delivered with
    the remaining lifetime (never more than it was published with)."""
    topic = ctx.topic("expiry")
    client_id = ctx.client_id("offline")
    session = props(PacketTypes.CONNECT, SessionExpiryInterval=120)
    offline = ctx.connect(client_id=client_id, clean=True, connect_properties=session)
    offline.subscribe(topic, 1)
    offline.disconnect()
    publisher = ctx.connect("pub")
    publisher.publish(topic, b"short", qos=1, properties=publish_props(MessageExpiryInterval=1))
    publisher.publish(topic, b"long", qos=1, properties=publish_props(MessageExpiryInterval=60))
    published_at = time.monotonic()
    # The feature under test is time passing: wait until the short message's lifetime is over.
    time.sleep(max(0.0, 2.2 - (time.monotonic() - published_at)))
    back = ctx.connect(client_id=client_id, clean=False, connect_properties=session)
    message = back.expect_message("the unexpired message")
    check(message.payload == b"long", f"expected only the unexpired message first, got {message.payload!r}")
    remaining = getattr(message.properties, "MessageExpiryInterval", None)
    check(remaining is not None and 0 < remaining <= 60, f"remaining expiry {remaining}, expected 1…60")
    back.expect_no_message("the expired message")
    back.disconnect(props(PacketTypes.DISCONNECT, SessionExpiryInterval=0))


@case("topic-alias", versions=ONLY_V5)
def topic_alias(ctx: Context):
    """Client→server topic aliases: set with the first PUBLISH, then used with an empty topic."""
    topic = ctx.topic("alias")
    subscriber = ctx.connect("sub")
    subscriber.subscribe(topic, 1)
    publisher = ctx.connect("pub")
    maximum = getattr(publisher.connack_properties, "TopicAliasMaximum", 0)
    check(maximum >= 1, f"the broker allows {maximum} topic aliases; the case needs at least 1")
    publisher.publish(topic, b"sets alias", qos=1, properties=publish_props(TopicAlias=1))
    publisher.publish("", b"uses alias", qos=1, properties=publish_props(TopicAlias=1))
    messages = subscriber.expect_messages(2, "both aliased messages")
    check([m.topic for m in messages] == [topic, topic], f"topics {[m.topic for m in messages]}")
    check([m.payload for m in messages] == [b"sets alias", b"uses alias"], f"payloads {[m.payload for m in messages]}")


@case("receive-maximum", versions=ONLY_V5)
def receive_maximum(ctx: Context):
    """The broker keeps at most Receive Maximum unacknowledged QoS 1 messages in flight to a client."""
    topic = ctx.topic("receive-max")
    subscriber = ctx.connect("sub", manual_ack=True, connect_properties=props(PacketTypes.CONNECT, ReceiveMaximum=2))
    subscriber.subscribe(topic, 1)
    publisher = ctx.connect("pub")
    for index in range(5):
        publisher.publish(topic, f"{index}".encode(), qos=1)
    first = subscriber.expect_messages(2, "the first two messages")
    subscriber.expect_no_message("a third message beyond Receive Maximum", timeout=1.0)
    subscriber.client.ack(first[0].mid, 1)
    third = subscriber.expect_message("a message after one acknowledgement")
    subscriber.expect_no_message("more than one message per acknowledgement", timeout=0.5)
    for message in [first[1], third]:
        subscriber.client.ack(message.mid, 1)
    rest = subscriber.expect_messages(2, "the last two messages")
    for message in rest:
        subscriber.client.ack(message.mid, 1)
    payloads = [int(m.payload) for m in first + [third] + rest]
    check(payloads == list(range(5)), f"messages arrived as {payloads}")


@case("maximum-packet-size", versions=ONLY_V5)
def maximum_packet_size(ctx: Context):
    """A message larger than the client's Maximum Packet Size is not sent to it; smaller ones are."""
    topic = ctx.topic("max-packet")
    subscriber = ctx.connect("sub", connect_properties=props(PacketTypes.CONNECT, MaximumPacketSize=256))
    subscriber.subscribe(topic, 1)
    publisher = ctx.connect("pub")
    publisher.publish(topic, b"x" * 1024, qos=1)
    publisher.publish(topic, b"small", qos=1)
    before = drain_until(subscriber, lambda m: m.payload == b"small", "the small message")
    check(not before, f"a packet over the maximum was delivered ({[len(m.payload) for m in before]} bytes)")
