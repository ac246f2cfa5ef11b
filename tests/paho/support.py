"""Shared machinery of the paho-mqtt conformance cases.

Every wait is bounded by a deadline: helpers either return what they waited for or raise
CaseFailure with a reason. Each client runs its own network thread calling Client.loop(), so
paho never reconnects on its own (a case decides what happens after a disconnect).
"""

from __future__ import annotations

import contextlib
import queue
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

V311 = 4
V5 = 5

# Generous defaults for a loaded 2-core CI machine; a passing case returns as soon as its
# condition holds, so these only bound failures.
TIMEOUT = 10.0
# How long a negative check ("this must not arrive") waits after its synchronisation marker.
QUIET = 0.5


class CaseFailure(Exception):
    """A conformance expectation did not hold."""


def check(condition: bool, reason: str) -> None:
    if not condition:
        raise CaseFailure(reason)


@dataclass
class Context:
    """What a case needs: where the broker is, which protocol, and a unique run id that
    prefixes every topic and client id so cases and reruns never see each other's state."""

    host: str
    port: int
    version: int
    ws_port: int | None = None
    ws_path: str = "/mqtt"
    tributary: bool = False
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    counter: int = 0
    peers: list = field(default_factory=list)

    def topic(self, *levels: str) -> str:
        return "/".join(["conf", self.run] + list(levels))

    def client_id(self, name: str) -> str:
        self.counter += 1
        return f"c{self.run}-{name}-{self.counter}"

    def connect(self, name: str = "client", **options) -> "Peer":
        peer = Peer(self, self.client_id(name) if "client_id" not in options else options.pop("client_id"), **options)
        self.peers.append(peer)
        peer.open()
        return peer

    def close_all(self) -> None:
        for peer in self.peers:
            peer.stop()
        self.peers.clear()


def props(packet_type: int, **values) -> Properties:
    """MQTT 5 properties for `packet_type` (PacketTypes.PUBLISH, CONNECT, ...)."""
    properties = Properties(packet_type)
    for name, value in values.items():
        setattr(properties, name, value)
    return properties


class Peer:
    """One paho client with queues of what the broker sent it."""

    def __init__(
        self,
        ctx: Context,
        client_id: str,
        clean: bool = True,
        keepalive: int = 60,
        will: tuple | None = None,
        connect_properties: Properties | None = None,
        manual_ack: bool = False,
        transport: str = "tcp",
        port: int | None = None,
        expect_success: bool = True,
    ):
        self.ctx = ctx
        self.client_id = client_id
        self.clean = clean
        self.keepalive = keepalive
        self.connect_properties = connect_properties
        self.transport = transport
        self.port = port if port is not None else ctx.port
        self.expect_success = expect_success
        protocol = mqtt.MQTTv5 if ctx.version == V5 else mqtt.MQTTv311
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=None if ctx.version == V5 else clean,
            protocol=protocol,
            transport=transport,
            manual_ack=manual_ack,
        )
        if transport == "websockets":
            self.client.ws_set_options(path=ctx.ws_path)
        self.client.max_inflight_messages_set(100)
        if will is not None:
            topic, payload, qos, retain, *rest = will
            self.client.will_set(topic, payload, qos, retain, properties=rest[0] if rest else None)
        self.messages: queue.Queue = queue.Queue()
        self.connacks: queue.Queue = queue.Queue()
        self.disconnects: queue.Queue = queue.Queue()
        self.acks: dict = {}
        self.ack_condition = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_unsubscribe = self._on_unsubscribe
        self.client.on_publish = self._on_publish
        # paho 2.1's WebSocket wrapper is not safe against the network thread writing while
        # another thread publishes (a PUBLISH is occasionally sent twice); over WebSocket every
        # client call is serialised with the network loop.
        self.io_lock = threading.Lock() if transport == "websockets" else None
        self.loop_timeout = 0.005 if transport == "websockets" else 0.02
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.session_present = False
        self.connack_properties = None

    # paho callbacks (network thread)
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        self.connacks.put((flags.session_present, reason_code, properties))

    def _on_message(self, client, userdata, message):
        self.messages.put(message)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.disconnects.put(reason_code)

    def _record(self, mid, value):
        with self.ack_condition:
            self.acks[mid] = value
            self.ack_condition.notify_all()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        self._record(mid, list(reason_codes))

    def _on_unsubscribe(self, client, userdata, mid, reason_codes, properties):
        self._record(mid, reason_codes)

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        self._record(mid, reason_code)

    def _network(self):
        while not self.stopping.is_set():
            with self.serialised():
                rc = self.client.loop(timeout=self.loop_timeout)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                # Disconnected: stop servicing; the case decides what comes next.
                break

    def serialised(self):
        return self.io_lock if self.io_lock is not None else contextlib.nullcontext()

    # actions (case thread)
    def open(self) -> "Peer":
        kwargs = {}
        if self.ctx.version == V5:
            kwargs["clean_start"] = self.clean
            kwargs["properties"] = self.connect_properties
        try:
            self.client.connect(self.ctx.host, self.port, keepalive=self.keepalive, **kwargs)
        except OSError as error:
            raise CaseFailure(f"{self.client_id}: cannot connect to {self.ctx.host}:{self.port}: {error}")
        self.thread = threading.Thread(target=self._network, daemon=True)
        self.thread.start()
        try:
            present, reason, properties = self.connacks.get(timeout=TIMEOUT)
        except queue.Empty:
            raise CaseFailure(f"{self.client_id}: no CONNACK within {TIMEOUT}s")
        self.session_present = bool(present)
        self.connack_properties = properties
        self.connack_reason = reason
        if self.expect_success:
            check(not reason.is_failure, f"{self.client_id}: CONNACK refused: {reason}")
        return self

    def wait_ack(self, mid: int, what: str, timeout: float = TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.ack_condition:
            while mid not in self.acks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CaseFailure(f"{self.client_id}: no {what} within {timeout}s")
                self.ack_condition.wait(remaining)
            return self.acks.pop(mid)

    def subscribe(self, topic: str, qos: int = 0, options: SubscribeOptions | None = None, properties=None):
        """Subscribes and waits for SUBACK; returns the granted QoS / reason codes."""
        if self.ctx.version == V5:
            with self.serialised():
                result, mid = self.client.subscribe(topic, options=options or SubscribeOptions(qos=qos), properties=properties)
        else:
            with self.serialised():
                result, mid = self.client.subscribe(topic, qos)
        check(result == mqtt.MQTT_ERR_SUCCESS, f"{self.client_id}: subscribe failed locally: {result}")
        codes = self.wait_ack(mid, f"SUBACK for {topic}")
        for code in codes:
            check(not code.is_failure, f"{self.client_id}: subscription to {topic} refused: {code}")
        return codes

    def unsubscribe(self, topic: str):
        with self.serialised():
            result, mid = self.client.unsubscribe(topic)
        check(result == mqtt.MQTT_ERR_SUCCESS, f"{self.client_id}: unsubscribe failed locally: {result}")
        return self.wait_ack(mid, f"UNSUBACK for {topic}")

    def publish(self, topic: str, payload=b"", qos: int = 0, retain: bool = False, properties=None, wait: bool = True):
        """Publishes; with `wait`, until the message is written (QoS 0) or acknowledged."""
        with self.serialised():
            info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        check(info.rc == mqtt.MQTT_ERR_SUCCESS, f"{self.client_id}: publish to {topic!r} failed locally: {info.rc}")
        if wait:
            code = self.wait_ack(info.mid, f"acknowledgement of the publish to {topic}")
            if code is not None and hasattr(code, "is_failure"):
                check(not code.is_failure, f"{self.client_id}: publish to {topic} refused: {code}")
        return info

    def expect_message(self, what: str = "a message", timeout: float = TIMEOUT):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise CaseFailure(f"{self.client_id}: expected {what} within {timeout}s, got none")

    def expect_messages(self, count: int, what: str = "messages", timeout: float = TIMEOUT) -> list:
        deadline = time.monotonic() + timeout
        received = []
        while len(received) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CaseFailure(f"{self.client_id}: expected {count} {what} within {timeout}s, got {len(received)}")
            try:
                received.append(self.messages.get(timeout=remaining))
            except queue.Empty:
                continue
        return received

    def expect_no_message(self, what: str, timeout: float = QUIET) -> None:
        try:
            message = self.messages.get(timeout=timeout)
        except queue.Empty:
            return
        raise CaseFailure(f"{self.client_id}: expected no {what}, got {message.topic} {message.payload!r}")

    def expect_disconnect(self, what: str = "a disconnect", timeout: float = TIMEOUT):
        try:
            return self.disconnects.get(timeout=timeout)
        except queue.Empty:
            raise CaseFailure(f"{self.client_id}: expected {what} within {timeout}s")

    def disconnect(self, properties=None) -> None:
        """A normal DISCONNECT, waiting until the network thread has seen it."""
        with self.serialised():
            self.client.disconnect(properties=properties)
        self.expect_disconnect("the local disconnect to complete")
        self.stop()

    def drop(self) -> None:
        """Closes the TCP connection without DISCONNECT (an abnormal disconnect)."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(TIMEOUT)
        sock = self.client.socket()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(TIMEOUT)
        try:
            self.client.disconnect()
        except Exception:
            pass
        sock = self.client.socket()
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass


def drain_until(peer: Peer, predicate, what: str, timeout: float = TIMEOUT) -> list:
    """Collects messages until one satisfies `predicate` (the synchronisation marker); returns
    the messages received before it."""
    deadline = time.monotonic() + timeout
    before = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CaseFailure(f"{peer.client_id}: expected {what} within {timeout}s")
        try:
            message = peer.messages.get(timeout=remaining)
        except queue.Empty:
            continue
        if predicate(message):
            return before
        before.append(message)


# Raw MQTT over a socket, for what paho will not send (malformed packets, silent clients).

def encode_remaining_length(length: int) -> bytes:
    out = bytearray()
    while True:
        byte = length % 128
        length //= 128
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def raw_connect_packet(client_id: str, version: int, keepalive: int, clean: bool = True) -> bytes:
    name = b"MQTT"
    flags = 0x02 if clean else 0
    variable = struct.pack("!H", len(name)) + name + bytes([version, flags]) + struct.pack("!H", keepalive)
    if version == V5:
        variable += b"\x00"  # no properties
    payload = struct.pack("!H", len(client_id)) + client_id.encode()
    body = variable + payload
    return b"\x10" + encode_remaining_length(len(body)) + body


class RawConnection:
    """A bare TCP connection speaking hand-made MQTT bytes."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        try:
            self.sock = socket.create_connection((ctx.host, ctx.port), timeout=TIMEOUT)
        except OSError as error:
            raise CaseFailure(f"cannot connect to {ctx.host}:{ctx.port}: {error}")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_packet(self, timeout: float = TIMEOUT) -> tuple[int, bytes]:
        """One whole packet: (first byte, body)."""
        deadline = time.monotonic() + timeout
        first = self._read_exact(1, deadline)[0]
        multiplier, length = 1, 0
        while True:
            byte = self._read_exact(1, deadline)[0]
            length += (byte & 0x7F) * multiplier
            multiplier *= 128
            if not byte & 0x80:
                break
        return first, self._read_exact(length, deadline)

    def _read_exact(self, count: int, deadline: float) -> bytes:
        data = b""
        while len(data) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CaseFailure("timed out reading from the broker")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(count - len(data))
            except socket.timeout:
                continue
            if not chunk:
                raise CaseFailure("the broker closed the connection")
            data += chunk
        return data

    def wait_closed(self, timeout: float) -> float:
        """Seconds until the broker closed the connection (reading and dropping any packets it
        sends first, such as a v5 DISCONNECT); raises if it stays open past `timeout`."""
        start = time.monotonic()
        deadline = start + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CaseFailure(f"the broker kept the connection open for {timeout:.1f}s")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return time.monotonic() - start
            if not chunk:
                return time.monotonic() - start

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
