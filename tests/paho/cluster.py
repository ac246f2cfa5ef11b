"""Cross-broker scenarios for `tributary broker` clusters, driven by real paho-mqtt clients.

Usage: cluster.py SCENARIO HOST PORT1 PORT2 [more ports or arguments]

Every scenario prints "<scenario> ok" on success and exits non-zero with a reason otherwise.
Every wait is bounded by a deadline. Tests/TributaryTests/ClusterProcessTests.swift starts the
processes (meta, journal, brokers) and runs these.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

TIMEOUT = 20.0
RUN = uuid.uuid4().hex[:8]


class Failure(Exception):
    pass


def check(condition, reason):
    if not condition:
        raise Failure(reason)


class Client:
    """A paho client with a message log, CONNACK/SUBACK/DISCONNECT events and bounded waits."""

    def __init__(self, host, port, cid, proto=5, clean=True, expiry=None, will=None, will_delay=None):
        self.host, self.port, self.cid, self.proto = host, port, cid, proto
        self.clean, self.expiry, self.will, self.will_delay = clean, expiry, will, will_delay
        self.cond = threading.Condition()
        self.messages = []
        self.connack = None
        self.disconnects = []
        self.subacks = 0
        self.client = None

    def _make(self):
        if self.proto == 5:
            c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.cid, protocol=mqtt.MQTTv5)
        else:
            c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.cid, protocol=mqtt.MQTTv311,
                            clean_session=self.clean)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        c.on_disconnect = self._on_disconnect
        if self.will:
            topic, payload, qos = self.will
            props = None
            if self.proto == 5 and self.will_delay is not None:
                props = Properties(PacketTypes.WILLMESSAGE)
                props.WillDelayInterval = self.will_delay
            c.will_set(topic, payload, qos=qos, properties=props)
        return c

    def _on_connect(self, client, userdata, flags, rc, properties):
        with self.cond:
            self.connack = (rc, flags.session_present)
            self.cond.notify_all()

    def _on_message(self, client, userdata, msg):
        with self.cond:
            self.messages.append((msg.topic, msg.payload.decode(), msg.qos, bool(msg.retain)))
            self.cond.notify_all()

    def _on_subscribe(self, client, userdata, mid, codes, properties):
        with self.cond:
            self.subacks += 1
            self.cond.notify_all()

    def _on_disconnect(self, client, userdata, flags, rc, properties):
        with self.cond:
            self.disconnects.append(rc)
            self.cond.notify_all()

    def wait(self, condition, what, timeout=TIMEOUT):
        end = time.time() + timeout
        with self.cond:
            while not condition():
                left = end - time.time()
                if left <= 0:
                    raise Failure(f"{self.cid}: timed out waiting for {what}")
                self.cond.wait(min(left, 0.1))

    def connect(self, port=None):
        if port is not None:
            self.port = port
        self.client = self._make()
        self.connack = None
        props = None
        if self.proto == 5:
            props = Properties(PacketTypes.CONNECT)
            if self.expiry is not None:
                props.SessionExpiryInterval = self.expiry
            self.client.connect(self.host, self.port, clean_start=self.clean, properties=props)
        else:
            self.client.connect(self.host, self.port)
        self.client.loop_start()
        self.wait(lambda: self.connack is not None, "CONNACK")
        rc, present = self.connack
        check(not rc.is_failure, f"{self.cid}: connection refused: {rc}")
        return present

    def subscribe(self, topic, qos):
        before = self.subacks
        self.client.subscribe(topic, qos=qos)
        self.wait(lambda: self.subacks > before, f"SUBACK for {topic}")

    def publish(self, topic, payload, qos, retain=False):
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(TIMEOUT)
        check(info.is_published(), f"{self.cid}: PUBLISH {topic} not acknowledged")

    def got(self, n, what=None, timeout=TIMEOUT):
        self.wait(lambda: len(self.messages) >= n, what or f"{n} messages (have {self.messages})", timeout)
        with self.cond:
            return list(self.messages)

    def stop(self):
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()

    def drop(self):
        """Ends the network loop without DISCONNECT (the broker sees the socket close)."""
        if self.client is not None:
            self.client.loop_stop()
            self.client.socket().close()


def cross(host, ports):
    """Publish on broker 1, receive on broker 2: QoS 0/1/2, wildcards, retained, both protocols."""
    p1, p2 = ports[0], ports[1]
    for proto in (4, 5):
        base = f"x/{RUN}/v{proto}"
        sub = Client(host, p2, f"xsub-{RUN}-{proto}", proto)
        sub.connect()
        sub.subscribe(f"{base}/+/data", 2)
        sub.subscribe(f"{base}/deep/#", 1)
        pub = Client(host, p1, f"xpub-{RUN}-{proto}", proto)
        pub.connect()
        for q in (0, 1, 2):
            pub.publish(f"{base}/q{q}/data", f"qos{q}", q)
        pub.publish(f"{base}/deep/a/b/c", "deep", 2)
        pub.publish(f"{base}/other", "unmatched", 1)
        msgs = sub.got(4)
        got = sorted((m[0], m[1], m[2]) for m in msgs)
        want = sorted([(f"{base}/q0/data", "qos0", 0), (f"{base}/q1/data", "qos1", 1),
                       (f"{base}/q2/data", "qos2", 2), (f"{base}/deep/a/b/c", "deep", 1)])
        check(got == want, f"v{proto}: cross-broker deliveries {got} != {want}")
        # Retained on broker 1, new subscriber on broker 2 (and the other way round).
        pub.publish(f"{base}/state", "kept-1", 1, retain=True)
        late = Client(host, p2, f"xlate-{RUN}-{proto}", proto)
        late.connect()
        deadline = time.time() + TIMEOUT
        while True:
            late.subscribe(f"{base}/state", 1)
            try:
                msgs = late.got(1, timeout=1.0)
                break
            except Failure:
                check(time.time() < deadline, f"v{proto}: retained message never reached broker 2")
        check(msgs[0][1] == "kept-1" and msgs[0][3], f"v{proto}: retained on broker 2: {msgs}")
        back = Client(host, p2, f"xback-{RUN}-{proto}", proto)
        back.connect()
        back.publish(f"{base}/state2", "kept-2", 1, retain=True)
        late1 = Client(host, p1, f"xlate1-{RUN}-{proto}", proto)
        late1.connect()
        deadline = time.time() + TIMEOUT
        while True:
            late1.subscribe(f"{base}/state2", 1)
            try:
                msgs = late1.got(1, timeout=1.0)
                break
            except Failure:
                check(time.time() < deadline, f"v{proto}: retained message never reached broker 1")
        check(msgs[0][1] == "kept-2" and msgs[0][3], f"v{proto}: retained on broker 1: {msgs}")
        for c in (sub, pub, late, back, late1):
            c.stop()
    print("cross ok")


def shared(host, ports):
    """A shared group with a member on each broker: every message reaches exactly one member,
    and both brokers take a share."""
    p1, p2 = ports[0], ports[1]
    base = f"sh/{RUN}"
    members = [Client(host, p, f"member{i}-{RUN}", 5) for i, p in enumerate((p1, p2))]
    for m in members:
        m.connect()
        m.subscribe(f"$share/grp/{base}/#", 1)
    pub = Client(host, p1, f"shpub-{RUN}", 5)
    pub.connect()

    def total():
        return sum(len(m.messages) for m in members)

    # The brokers learn the group's members through meta: probe until a round of probes is
    # delivered exactly once each (before that, a broker may still take every shard).
    deadline = time.time() + TIMEOUT
    probe_round = 0
    while True:
        probe_round += 1
        for m in members:
            with m.cond:
                m.messages.clear()
        for t in range(16):
            pub.publish(f"{base}/probe{probe_round}/{t}", "p", 1)
        try:
            members[0].wait(lambda: total() >= 16, "probes", timeout=5)
        except Failure:
            pass
        time.sleep(0.3)  # a duplicate arriving late would show here; the check below decides
        if total() == 16:
            break
        check(time.time() < deadline, f"shared group never settled: {total()} deliveries of 16 probes")
    for m in members:
        with m.cond:
            m.messages.clear()
    n = 64
    for i in range(n):
        pub.publish(f"{base}/t{i}", f"s{i}", 1)
    members[0].wait(lambda: total() >= n, f"{n} shared deliveries (have {total()})")
    payloads = [msg[1] for m in members for msg in m.messages]
    check(sorted(payloads) == sorted(f"s{i}" for i in range(n)),
          f"each message exactly once across the group: {len(payloads)} deliveries, {len(set(payloads))} distinct")
    check(all(len(m.messages) > 0 for m in members),
          f"both brokers take a share: {[len(m.messages) for m in members]}")
    for c in members + [pub]:
        c.stop()
    print("shared ok")


def session(host, ports):
    """A persistent session subscribed on broker 1 resumes on broker 2 with every QoS 1/2
    message published meanwhile, in order per topic, QoS 2 exactly once."""
    p1, p2 = ports[0], ports[1]
    for proto in (4, 5):
        base = f"ses/{RUN}/v{proto}"
        cid = f"sleeper-{RUN}-{proto}"
        s = Client(host, p1, cid, proto, clean=False, expiry=600)
        s.connect()
        s.subscribe(f"{base}/q1", 1)
        s.subscribe(f"{base}/q2", 2)
        s.stop()
        pub = Client(host, p2, f"spub-{RUN}-{proto}", proto)
        pub.connect()
        for i in range(20):
            pub.publish(f"{base}/q1", f"a{i}", 1)
            pub.publish(f"{base}/q2", f"b{i}", 2)
        back = Client(host, p2, cid, proto, clean=False, expiry=600)
        present = back.connect()
        check(present, f"v{proto}: session not present on broker 2")
        msgs = back.got(40)
        time.sleep(0.5)  # QoS 2 exactly once: nothing more may arrive
        with back.cond:
            msgs = list(back.messages)
        q1 = [m[1] for m in msgs if m[0] == f"{base}/q1"]
        q2 = [m[1] for m in msgs if m[0] == f"{base}/q2"]
        check(q1 == [f"a{i}" for i in range(20)], f"v{proto}: QoS 1 in order: {q1}")
        check(q2 == [f"b{i}" for i in range(20)], f"v{proto}: QoS 2 exactly once, in order: {q2}")
        # And live delivery continues on broker 2, published on broker 1.
        pub1 = Client(host, p1, f"spub1-{RUN}-{proto}", proto)
        pub1.connect()
        pub1.publish(f"{base}/q1", "live", 1)
        back.wait(lambda: any(m[1] == "live" for m in back.messages), "a live message after resuming")
        for c in (pub, back, pub1):
            c.stop()
    print("session ok")


def takeover(host, ports):
    """The same client id connecting on broker 2 takes the session over from broker 1: the old
    connection gets DISCONNECT 0x8E (5.0) or is closed (3.1.1); the session continues."""
    p1, p2 = ports[0], ports[1]
    for proto in (4, 5):
        base = f"tko/{RUN}/v{proto}"
        cid = f"taken-{RUN}-{proto}"
        first = Client(host, p1, cid, proto, clean=False, expiry=600)
        first.connect()
        first.subscribe(f"{base}/t", 1)
        second = Client(host, p2, cid, proto, clean=False, expiry=600)
        present = second.connect()
        first.wait(lambda: len(first.disconnects) > 0, "the old connection to end")
        rc = first.disconnects[0]
        if proto == 5:
            check(rc.value == 0x8E, f"v5 takeover reason {rc} (want 0x8E session taken over)")
        check(present, f"v{proto}: the session moved with the takeover")
        first.client.loop_stop()
        pub = Client(host, p1, f"tpub-{RUN}-{proto}", proto)
        pub.connect()
        pub.publish(f"{base}/t", "after", 1)
        second.wait(lambda: any(m[1] == "after" for m in second.messages), "delivery to the new connection")
        check(not any(m[1] == "after" for m in first.messages), "the old connection must not get messages")
        for c in (second, pub):
            c.stop()
    print("takeover ok")


def kill(host, ports, pid):
    """Live QoS 1 publisher and subscriber on broker 1, which is killed (SIGKILL) mid-stream:
    the clients reconnect to broker 2, every acknowledged message reaches the subscriber, and
    the wills of broker 1's clients fire."""
    import os
    import signal
    p1, p2 = ports[0], ports[1]
    base = f"kill/{RUN}"
    observer = Client(host, p2, f"observer-{RUN}", 5)
    observer.connect()
    observer.subscribe(f"will/{RUN}/#", 1)
    wills = [Client(host, p1, f"dying5-{RUN}", 5, will=(f"will/{RUN}/v5", "gone-5", 1)),
             Client(host, p1, f"dying4-{RUN}", 4, will=(f"will/{RUN}/v4", "gone-4", 1))]
    for w in wills:
        w.connect()
    sub = Client(host, p1, f"ksub-{RUN}", 5, clean=False, expiry=600)
    sub.connect()
    sub.subscribe(f"{base}/#", 1)
    pub = Client(host, p1, f"kpub-{RUN}", 5)
    pub.connect()
    acked = []
    total, kill_at = 150, 50
    i = 0
    while i < total:
        if i == kill_at and not acked[-1:] == ["killed"]:
            os.kill(pid, signal.SIGKILL)
            acked.append("killed")
        info = pub.client.publish(f"{base}/t{i % 4}", f"k{i}", qos=1)
        try:
            info.wait_for_publish(3)
        except (RuntimeError, ValueError):
            pass
        if info.is_published():
            acked.append(f"k{i}")
            i += 1
            continue
        # Broker 1 is gone: reconnect to broker 2 and send it again.
        pub.client.loop_stop()
        deadline = time.time() + TIMEOUT
        while True:
            try:
                pub.connect(p2)
                break
            except (Failure, OSError):
                check(time.time() < deadline, "the publisher could not reconnect to broker 2")
                time.sleep(0.2)
    acked = [a for a in acked if a != "killed"]
    # The subscriber lost broker 1 too: it resumes its session on broker 2.
    sub.wait(lambda: len(sub.disconnects) > 0 or sub.client.socket() is None, "the subscriber to notice", timeout=TIMEOUT)
    sub.client.loop_stop()
    present = sub.connect(p2)
    check(present, "the subscriber's session is present on broker 2")
    want = set(acked)
    sub.wait(lambda: want.issubset(m[1] for m in sub.messages),
             f"every acknowledged message (missing {sorted(want - set(m[1] for m in sub.messages))[:10]})", timeout=40)
    observer.wait(lambda: {m[1] for m in observer.messages} >= {"gone-5", "gone-4"},
                  f"the wills of broker 1's clients (have {observer.messages})", timeout=40)
    fired = [m[1] for m in observer.messages]
    check(fired.count("gone-5") == 1 and fired.count("gone-4") == 1, f"each will once: {fired}")
    print(f"acknowledged {len(acked)} of {total}; received {len(set(m[1] for m in sub.messages))} distinct")
    for c in (observer, sub, pub):
        c.stop()
    print("kill ok")


def load(host, ports, stop_file):
    """Publishes QoS 1 messages on broker 1 until `stop_file` exists; fails if one is not
    acknowledged."""
    import os
    pub = Client(host, ports[0], f"loader-{RUN}", 5)
    pub.connect()
    i = 0
    deadline = time.time() + 120
    while not os.path.exists(stop_file) and time.time() < deadline:
        pub.publish(f"load/{stop_file.rsplit('/', 1)[-1]}/t{i % 8}", f"l{i}", 1)
        i += 1
        time.sleep(0.01)
    pub.stop()
    print(f"published {i}")
    print("load ok")


def joined(host, ports, tag):
    """A broker started under load (ports[1]) takes new clients: they get the live load published
    on broker 1, and what they publish reaches broker 1's subscribers."""
    p1, p3 = ports[0], ports[1]
    fresh = Client(host, p3, f"fresh-{RUN}", 5)
    fresh.connect()
    fresh.subscribe(f"load/{tag}/#", 1)
    fresh.got(20, "20 live messages of the load on the new broker")
    listener = Client(host, p1, f"listener-{RUN}", 5)
    listener.connect()
    listener.subscribe(f"join/{RUN}", 1)
    sender = Client(host, p3, f"sender-{RUN}", 5)
    sender.connect()
    sender.publish(f"join/{RUN}", "from-new-broker", 1)
    listener.wait(lambda: any(m[1] == "from-new-broker" for m in listener.messages), "a message from the new broker")
    for c in (fresh, listener, sender):
        c.stop()
    print("joined ok")


def steady(host, ports, base=None):
    """QoS 1 messages flow from broker 1 to a persistent subscriber on broker 2 for a few
    seconds (the test kills a meta or journal node meanwhile): every acknowledged message
    arrives; a publish that is not acknowledged is sent again."""
    p1, p2 = ports[0], ports[1]
    base = base or f"steady/{RUN}"
    sub = Client(host, p2, f"ssub-{RUN}", 5, clean=False, expiry=600)
    sub.connect()
    sub.subscribe(f"{base}/#", 1)
    pub = Client(host, p1, f"spub-{RUN}", 5)
    pub.connect()
    acked = []
    last_ack = time.time()
    longest_gap = 0.0
    for i in range(300):
        deadline = time.time() + 40
        while True:
            info = pub.client.publish(f"{base}/t{i % 4}", f"s{i}", qos=1)
            try:
                info.wait_for_publish(5)
            except (RuntimeError, ValueError):
                pass
            if info.is_published():
                acked.append(f"s{i}")
                now = time.time()
                longest_gap = max(longest_gap, now - last_ack)
                last_ack = now
                break
            check(time.time() < deadline, f"s{i} never acknowledged")
            if not pub.client.is_connected():
                pub.client.loop_stop()
                pub.connect(p1)
        time.sleep(0.01)
    want = set(acked)
    sub.wait(lambda: want.issubset(m[1] for m in sub.messages),
             f"every acknowledged message (missing {sorted(want - set(m[1] for m in sub.messages))[:10]})", timeout=40)
    for c in (sub, pub):
        c.stop()
    # The longest time without an acknowledgement: the publishing pause the killed node caused.
    print(f"steady longest-ack-gap-ms={int(longest_gap * 1000)}")
    print("steady ok")


def main():
    scenario, host = sys.argv[1], sys.argv[2]
    try:
        if scenario == "kill":
            kill(host, [int(sys.argv[3]), int(sys.argv[4])], int(sys.argv[5]))
        elif scenario == "load":
            load(host, [int(sys.argv[3])], sys.argv[4])
        elif scenario == "steady":
            steady(host, [int(sys.argv[3]), int(sys.argv[4])], sys.argv[5] if len(sys.argv) > 5 else None)
        elif scenario == "joined":
            joined(host, [int(sys.argv[3]), int(sys.argv[4])], sys.argv[5])
        else:
            ports = [int(p) for p in sys.argv[3:]]
            {"cross": cross, "shared": shared, "session": session, "takeover": takeover}[scenario](host, ports)
    except Failure as failure:
        print(f"{scenario} FAILED: {failure}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
