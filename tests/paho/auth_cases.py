#!/usr/bin/env python3
"""Authentication checks against a running Tributary broker, with real clients.

paho-mqtt 2.1 drives CONNECT with user names, passwords, JWTs and TLS client certificates. paho
has no AUTH packet support, so SCRAM-SHA-256 (MQTT 5 enhanced authentication, CONNECT -> AUTH
0x18 -> AUTH 0x18 -> CONNACK, then re-authentication with AUTH 0x19) is driven by a small raw
MQTT 5 client written here from the specification's byte layouts.

Usage: auth_cases.py CASE HOST PORT [ARGS...]; prints "ok CASE" and exits 0 when every
expectation held, otherwise prints the failed expectation and exits 1. Every wait has a deadline.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import ssl
import struct
import sys
import time
import uuid

import paho.mqtt.client as mqtt

TIMEOUT = 15.0
SUCCESS = 0x00
BAD_USER_OR_PASSWORD = 0x86
NOT_AUTHORIZED = 0x87
BAD_AUTH_METHOD = 0x8C


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)


def attempt(host, port, proto, username=None, password=None, tls=None, client_id=None, websocket=False):
    """CONNECT once; returns the CONNACK reason code as paho reports it (3.1.1 return codes are
    mapped by paho: 4 -> 0x86, 5 -> 0x87), or "closed" when the connection ended without a
    CONNACK (a refused TLS handshake)."""
    cid = client_id or "auth-" + uuid.uuid4().hex[:8]
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid,
                         protocol=mqtt.MQTTv5 if proto == 5 else mqtt.MQTTv311,
                         transport="websockets" if websocket else "tcp")
    if websocket:
        client.ws_set_options(path="/mqtt")
    if username is not None:
        client.username_pw_set(username, password)
    if tls is not None:
        client.tls_set_context(tls)
    result = {}
    client.on_connect = lambda c, u, flags, rc, props: result.setdefault("rc", rc.value)
    try:
        client.connect(host, port, keepalive=30)
    except (ssl.SSLError, OSError) as error:
        return "closed"
    deadline = time.time() + TIMEOUT
    while "rc" not in result and time.time() < deadline:
        try:
            status = client.loop(0.1)
        except (ssl.SSLError, OSError):
            return "closed"
        if status != mqtt.MQTT_ERR_SUCCESS and "rc" not in result:
            return "closed"
    if "rc" not in result:
        raise Failure(f"no CONNACK and no close within {TIMEOUT}s")
    if result["rc"] == SUCCESS:
        client.disconnect()
        client.loop(0.1)
    return result["rc"]


def expect(host, port, proto, expected, what, **kwargs):
    got = attempt(host, port, proto, **kwargs)
    check(got == expected, f"{what} (MQTT {'5' if proto == 5 else '3.1.1'}): expected {expected!r}, got {got!r}")


# --- password -------------------------------------------------------------------------------

def case_password(host, port, user, password):
    for proto in (4, 5):
        expect(host, port, proto, SUCCESS, "right password accepted", username=user, password=password)
        expect(host, port, proto, BAD_USER_OR_PASSWORD, "wrong password refused", username=user, password=password + "x")
        expect(host, port, proto, BAD_USER_OR_PASSWORD, "missing password refused", username=user)
        expect(host, port, proto, BAD_USER_OR_PASSWORD, "unknown user refused", username="nobody-" + user, password=password)
        expect(host, port, proto, NOT_AUTHORIZED, "anonymous refused (mqtt.allow-anonymous: false)")


def case_expect(host, port, user, password, code):
    """CONNECTs per protocol version until the expected reason code comes (a ctl change reaches
    the broker through its meta watch), within the deadline."""
    for proto in (4, 5):
        deadline = time.time() + TIMEOUT
        while True:
            got = attempt(host, port, proto, username=user, password=password)
            if got == int(code, 0):
                break
            check(time.time() < deadline, f"user {user}: expected {code}, still {got!r} after {TIMEOUT}s")
            time.sleep(0.1)


# --- JWT ------------------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(header: dict, claims: dict, sign) -> str:
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    return signing_input + "." + b64url(sign(signing_input.encode()))


def hs256(secret: bytes):
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def rs256(key_file: str):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    key = serialization.load_pem_private_key(open(key_file, "rb").read(), password=None)
    return lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def es256(key_file: str):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    key = serialization.load_pem_private_key(open(key_file, "rb").read(), password=None)

    def sign(data):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return sign


def case_jwt(host, port, secret_file, rsa_key, ec_key, issuer, audience):
    secret = open(secret_file, "rb").read().strip()
    now = int(time.time())
    good = {"username": "jwt-user", "iss": issuer, "aud": audience, "exp": now + 600, "iat": now}
    cases = [
        ("HS256 token accepted", {"alg": "HS256", "kid": "hs"}, good, hs256(secret), SUCCESS),
        ("RS256 token accepted", {"alg": "RS256", "kid": "rsa"}, good, rs256(rsa_key), SUCCESS),
        ("ES256 token accepted", {"alg": "ES256", "kid": "ec"}, good, es256(ec_key), SUCCESS),
        ("expired token refused", {"alg": "HS256", "kid": "hs"}, dict(good, exp=now - 3600), hs256(secret), BAD_USER_OR_PASSWORD),
        ("forged token (wrong secret) refused", {"alg": "HS256", "kid": "hs"}, good, hs256(b"x" * 40), BAD_USER_OR_PASSWORD),
        ("alg none refused", {"alg": "none", "kid": "hs"}, good, lambda data: b"", BAD_USER_OR_PASSWORD),
        ("RS256 header on the HMAC key refused", {"alg": "RS256", "kid": "hs"}, good, rs256(rsa_key), BAD_USER_OR_PASSWORD),
        ("unknown kid refused", {"alg": "HS256", "kid": "other"}, good, hs256(secret), BAD_USER_OR_PASSWORD),
        ("wrong issuer refused", {"alg": "HS256", "kid": "hs"}, dict(good, iss="someone-else"), hs256(secret), BAD_USER_OR_PASSWORD),
        ("wrong audience refused", {"alg": "HS256", "kid": "hs"}, dict(good, aud="elsewhere"), hs256(secret), BAD_USER_OR_PASSWORD),
    ]
    for proto in (4, 5):
        for what, header, claims, sign, code in cases:
            expect(host, port, proto, code, what, username="ignored", password=token(header, claims, sign))
        bound = dict(good, clientid="the-device")
        expect(host, port, proto, SUCCESS, "token bound to its client id accepted", username="x",
               password=token({"alg": "HS256", "kid": "hs"}, bound, hs256(secret)), client_id="the-device")
        expect(host, port, proto, NOT_AUTHORIZED, "token bound to another client id refused", username="x",
               password=token({"alg": "HS256", "kid": "hs"}, bound, hs256(secret)), client_id="another-device")


# --- X.509 ----------------------------------------------------------------------------------

def tls_context(ca_file, certificate=None, key=None):
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    context.check_hostname = False
    if certificate:
        context.load_cert_chain(certificate, key)
    return context


def case_x509(host, port, ca_file, good_cert, good_key, untrusted_cert, untrusted_key, expired_cert, expired_key, required,
              wss_port=None):
    required = required == "required"
    if wss_port is not None:
        # The same checks hold on the secure WebSocket listener.
        expect(host, int(wss_port), 5, SUCCESS, "trusted client certificate accepted over WSS",
               tls=tls_context(ca_file, good_cert, good_key), websocket=True)
        expect(host, int(wss_port), 5, "closed", "untrusted client certificate refused over WSS",
               tls=tls_context(ca_file, untrusted_cert, untrusted_key), websocket=True)
    for proto in (4, 5):
        expect(host, port, proto, SUCCESS, "trusted client certificate accepted",
               tls=tls_context(ca_file, good_cert, good_key))
        expect(host, port, proto, NOT_AUTHORIZED, "user name other than the certificate's CN refused",
               tls=tls_context(ca_file, good_cert, good_key), username="someone-else", password="x")
        expect(host, port, proto, "closed", "untrusted client certificate refused at the handshake",
               tls=tls_context(ca_file, untrusted_cert, untrusted_key))
        expect(host, port, proto, "closed", "expired client certificate refused at the handshake",
               tls=tls_context(ca_file, expired_cert, expired_key))
        if required:
            expect(host, port, proto, "closed", "no client certificate refused at the handshake", tls=tls_context(ca_file))
        else:
            expect(host, port, proto, NOT_AUTHORIZED, "no certificate and no credentials: anonymous refused",
                   tls=tls_context(ca_file))


# --- HTTP -----------------------------------------------------------------------------------

def case_http(host, port, service_port):
    def count():
        with socket.create_connection(("127.0.0.1", int(service_port)), timeout=TIMEOUT) as s:
            s.sendall(b"GET /count HTTP/1.0\r\n\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
        return int(data.split(b"\r\n\r\n", 1)[1])

    for proto in (4, 5):
        expect(host, port, proto, SUCCESS, "service allows", username="allow-user", password="p")
        expect(host, port, proto, BAD_USER_OR_PASSWORD, "service denies", username="deny-user", password="p")
        expect(host, port, proto, NOT_AUTHORIZED, "service answers 500 (on-error deny)", username="error-user", password="p")
        expect(host, port, proto, NOT_AUTHORIZED, "service too slow (on-error deny)", username="slow-user", password="p")
    before = count()
    cid = "cached-" + uuid.uuid4().hex[:6]
    for _ in range(3):
        expect(host, port, 5, SUCCESS, "cached allow", username="allow-user", password="q", client_id=cid)
    check(count() == before + 1, f"the decision is cached: {count() - before} calls for 3 CONNECTs")


# --- SCRAM-SHA-256 over AUTH (raw MQTT 5 client) -----------------------------------------------

def varint(n):
    out = b""
    while True:
        byte = n % 128
        n //= 128
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def utf8(text):
    data = text.encode()
    return struct.pack(">H", len(data)) + data


def binary(data):
    return struct.pack(">H", len(data)) + data


def auth_properties(method, data):
    body = b"\x15" + utf8(method) + (b"\x16" + binary(data) if data is not None else b"")
    return varint(len(body)) + body


class Raw:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.buffer = b""

    def send(self, header, body):
        self.sock.sendall(bytes([header]) + varint(len(body)) + body)

    def read(self):
        while True:
            if len(self.buffer) >= 2:
                length, multiplier, index = 0, 1, 1
                while index < len(self.buffer):
                    byte = self.buffer[index]
                    length += (byte & 0x7F) * multiplier
                    multiplier *= 128
                    index += 1
                    if not byte & 0x80:
                        break
                else:
                    index = None
                if index is not None and len(self.buffer) >= index + length:
                    packet = (self.buffer[0], self.buffer[index:index + length])
                    self.buffer = self.buffer[index + length:]
                    return packet
            chunk = self.sock.recv(4096)
            if not chunk:
                return None
            self.buffer += chunk


PROPERTY_SIZES = {0x01: 1, 0x02: 4, 0x11: 4, 0x13: 2, 0x17: 1, 0x19: 1, 0x21: 2, 0x22: 2, 0x23: 2, 0x24: 1, 0x25: 1,
                  0x27: 4, 0x28: 1, 0x29: 1, 0x2A: 1}


def parse_properties(data):
    length, index, multiplier = 0, 0, 1
    while True:
        byte = data[index]
        length += (byte & 0x7F) * multiplier
        multiplier *= 128
        index += 1
        if not byte & 0x80:
            break
    end = index + length
    properties = {}
    while index < end:
        identifier = data[index]
        index += 1
        if identifier in PROPERTY_SIZES:
            size = PROPERTY_SIZES[identifier]
            properties[identifier] = data[index:index + size]
            index += size
        elif identifier == 0x26:
            for _ in range(2):
                size = struct.unpack(">H", data[index:index + 2])[0]
                index += 2 + size
        else:
            size = struct.unpack(">H", data[index:index + 2])[0]
            properties[identifier] = data[index + 2:index + 2 + size]
            index += 2 + size
    return properties


class SCRAMClient:
    def __init__(self, user, password):
        self.user, self.password = user, password
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        self.first_bare = f"n={user},r={self.nonce}"

    def first(self):
        return ("n,," + self.first_bare).encode()

    def final(self, server_first: bytes):
        text = server_first.decode()
        attributes = dict(part.split("=", 1) for part in text.split(","))
        check(attributes["r"].startswith(self.nonce), "server nonce extends the client nonce")
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), base64.b64decode(attributes["s"]), int(attributes["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = f"c=biws,r={attributes['r']}"
        self.auth_message = f"{self.first_bare},{text},{without_proof}".encode()
        signature = hmac.new(stored_key, self.auth_message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self.server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        return (without_proof + ",p=" + base64.b64encode(proof).decode()).encode()

    def verify(self, server_final: bytes):
        expected = "v=" + base64.b64encode(hmac.new(self.server_key, self.auth_message, hashlib.sha256).digest()).decode()
        check(server_final.decode() == expected, "server signature verifies (the server knows the user's keys)")


def scram_connect(host, port, user, password, method="SCRAM-SHA-256"):
    """Returns (raw connection, CONNACK reason code)."""
    raw = Raw(host, port)
    scram = SCRAMClient(user, password)
    client_id = utf8("scram-" + uuid.uuid4().hex[:8])
    variable = utf8("MQTT") + bytes([5, 0x02]) + struct.pack(">H", 30) + auth_properties(method, scram.first())
    raw.send(0x10, variable + client_id)
    packet = raw.read()
    check(packet is not None, "an answer to CONNECT")
    if packet[0] == 0x20:
        return raw, packet[1][1]
    check(packet[0] == 0xF0 and packet[1][0] == 0x18, f"AUTH 0x18 after CONNECT, got {packet!r}")
    properties = parse_properties(packet[1][1:])
    check(properties.get(0x15) == method.encode(), "AUTH carries the method")
    raw.send(0xF0, bytes([0x18]) + auth_properties(method, scram.final(properties[0x16])))
    packet = raw.read()
    check(packet is not None and packet[0] == 0x20, f"CONNACK after the client's final AUTH, got {packet!r}")
    code = packet[1][1]
    if code == SUCCESS:
        properties = parse_properties(packet[1][2:])
        check(properties.get(0x15) == method.encode(), "CONNACK carries the method")
        scram.verify(properties[0x16])
    return raw, code


def case_scram(host, port, user, password):
    raw, code = scram_connect(host, port, user, password)
    check(code == SUCCESS, f"SCRAM with the right password: CONNACK {code:#x}")
    # Re-authentication while connected: AUTH 0x19, AUTH 0x18, final, AUTH 0x00.
    scram = SCRAMClient(user, password)
    raw.send(0xF0, bytes([0x19]) + auth_properties("SCRAM-SHA-256", scram.first()))
    packet = raw.read()
    check(packet is not None and packet[0] == 0xF0 and packet[1][0] == 0x18, f"re-auth: AUTH 0x18, got {packet!r}")
    raw.send(0xF0, bytes([0x18]) + auth_properties("SCRAM-SHA-256", scram.final(parse_properties(packet[1][1:])[0x16])))
    packet = raw.read()
    check(packet is not None and packet[0] == 0xF0 and packet[1][0] == 0x00, f"re-auth: AUTH 0x00, got {packet!r}")
    scram.verify(parse_properties(packet[1][1:])[0x16])
    raw.send(0xC0, b"")
    packet = raw.read()
    check(packet is not None and packet[0] == 0xD0, "still connected after re-authentication (PINGRESP)")
    # Re-authentication with a wrong password: DISCONNECT 0x87.
    scram = SCRAMClient(user, password + "x")
    raw.send(0xF0, bytes([0x19]) + auth_properties("SCRAM-SHA-256", scram.first()))
    packet = raw.read()
    raw.send(0xF0, bytes([0x18]) + auth_properties("SCRAM-SHA-256", scram.final(parse_properties(packet[1][1:])[0x16])))
    packet = raw.read()
    check(packet is not None and packet[0] == 0xE0 and packet[1][0] == NOT_AUTHORIZED,
          f"failed re-authentication: DISCONNECT 0x87, got {packet!r}")
    raw.sock.close()

    raw, code = scram_connect(host, port, user, password + "x")
    check(code == BAD_USER_OR_PASSWORD, f"SCRAM with a wrong password: CONNACK {code:#x}")
    raw.sock.close()
    raw, code = scram_connect(host, port, "nobody-" + user, password)
    check(code == BAD_USER_OR_PASSWORD, f"SCRAM with an unknown user: CONNACK {code:#x}")
    raw.sock.close()
    raw, code = scram_connect(host, port, user, password, method="KERBEROS-9000")
    check(code == BAD_AUTH_METHOD, f"an unsupported method: CONNACK {code:#x}")
    raw.sock.close()

    # Another packet than AUTH while the broker waits for client-final: CONNACK 0x82, closed.
    raw = Raw(host, port)
    scram = SCRAMClient(user, password)
    variable = utf8("MQTT") + bytes([5, 0x02]) + struct.pack(">H", 30) + auth_properties("SCRAM-SHA-256", scram.first())
    raw.send(0x10, variable + utf8("scram-" + uuid.uuid4().hex[:8]))
    packet = raw.read()
    check(packet is not None and packet[0] == 0xF0, f"AUTH 0x18 after CONNECT, got {packet!r}")
    raw.send(0xC0, b"")
    packet = raw.read()
    check(packet is not None and packet[0] == 0x20 and packet[1][1] == 0x82,
          f"PINGREQ during the exchange: CONNACK 0x82, got {packet!r}")
    check(raw.read() is None, "the connection is closed after the refusal")
    raw.sock.close()


CASES = {"password": case_password, "expect": case_expect, "jwt": case_jwt, "x509": case_x509,
         "http": case_http, "scram": case_scram}

if __name__ == "__main__":
    name, host, port, *rest = sys.argv[1:]
    try:
        CASES[name](host, int(port), *rest)
    except Failure as failure:
        print(f"FAILED {name}: {failure}")
        sys.exit(1)
    print(f"ok {name}")
