"""Cases for Tributary-specific features, run only with --tributary."""

from __future__ import annotations

import time

from registry import case
from support import Context, check


@case("delayed-publish", tributary=True)
def delayed_publish(ctx: Context):
    """`$delayed/N/topic` delivers on `topic` N seconds later, not before."""
    topic = ctx.topic("delayed")
    subscriber = ctx.connect("sub")
    subscriber.subscribe(topic, 1)
    publisher = ctx.connect("pub")
    delay = 2
    sent_at = time.monotonic()
    publisher.publish(f"$delayed/{delay}/{topic}", b"later", qos=1)
    message = subscriber.expect_message("the delayed message", timeout=delay + 10)
    elapsed = time.monotonic() - sent_at
    check(message.topic == topic, f"delivered on {message.topic}, expected {topic}")
    check(message.payload == b"later", f"payload {message.payload!r}")
    check(elapsed >= delay - 0.3, f"delivered after {elapsed:.2f}s, before the {delay}s delay")


@case("sys-broker-version", tributary=True)
def sys_broker_version(ctx: Context):
    """`$SYS/broker/version` is published (retained) with a non-empty version string."""
    subscriber = ctx.connect("sys")
    subscriber.subscribe("$SYS/broker/version", 0)
    message = subscriber.expect_message("$SYS/broker/version")
    check(message.topic == "$SYS/broker/version", f"got {message.topic}")
    check(len(message.payload) > 0, "empty broker version")
