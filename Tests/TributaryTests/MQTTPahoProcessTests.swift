import Foundation
import Testing

/// Whether Python's paho-mqtt is importable (`python3 -m pip install paho-mqtt==2.1.0`).
let pahoAvailable: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import paho.mqtt.client"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()

/// `tributary standalone` driven by a client someone else wrote: Eclipse paho-mqtt (Python), over
/// MQTT 3.1.1 and 5.0 — QoS 0/1/2, retained messages, a persistent session with offline messages.
@Suite("tributary standalone with paho-mqtt", .serialized, .enabled(if: pahoAvailable, "python3 paho-mqtt is not installed"))
struct MQTTPahoProcessTests {
    static let script = #"""
import sys, time, threading
import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes

host, port = sys.argv[1], int(sys.argv[2])

def make(cid, proto, clean=True):
    if proto == 5:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv5)
    else:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv311, clean_session=clean)
    got = []
    cond = threading.Condition()
    def on_message(client, userdata, msg):
        with cond:
            got.append((msg.topic, msg.payload.decode(), msg.qos, msg.retain))
            cond.notify_all()
    c.on_message = on_message
    c.got, c.cond = got, cond
    c.subacks = threading.Event()
    c.on_subscribe = lambda client, userdata, mid, codes, properties: c.subacks.set()
    return c

def subscribe(c, topic, qos):
    c.subacks.clear()
    c.subscribe(topic, qos=qos)
    assert c.subacks.wait(10), "no SUBACK for " + topic

def wait(c, n, timeout=10):
    end = time.time() + timeout
    with c.cond:
        while len(c.got) < n and time.time() < end:
            c.cond.wait(0.1)
    return list(c.got)

def connect(c, proto, clean=True, expiry=None):
    if proto == 5:
        props = Properties(PacketTypes.CONNECT)
        if expiry is not None: props.SessionExpiryInterval = expiry
        rc = c.connect(host, port, clean_start=clean, properties=props)
    else:
        rc = c.connect(host, port)
    c.loop_start()
    return rc

for proto in (4, 5):
    tag = f"v{proto}"
    sub = make(f"sub-{tag}", proto)
    connect(sub, proto)
    subscribe(sub, f"interop/{tag}/#", 2)
    pub = make(f"pub-{tag}", proto)
    connect(pub, proto)
    for q in (0, 1, 2):
        pub.publish(f"interop/{tag}/q{q}", f"qos{q}", qos=q).wait_for_publish(10)
    pub.publish(f"interop/{tag}/retained", "kept", qos=1, retain=True).wait_for_publish(10)
    msgs = wait(sub, 4)
    assert sorted(m[1] for m in msgs) == ["kept", "qos0", "qos1", "qos2"], msgs
    late = make(f"late-{tag}", proto)
    connect(late, proto)
    subscribe(late, f"interop/{tag}/retained", 1)
    msgs = wait(late, 1)
    assert msgs and msgs[0][1] == "kept" and msgs[0][3], msgs
    # persistent session, offline messages
    sleeper = make(f"sleeper-{tag}", proto, clean=False)
    connect(sleeper, proto, clean=False, expiry=300)
    subscribe(sleeper, f"offline/{tag}", 1)
    sleeper.disconnect(); sleeper.loop_stop()
    for i in range(3):
        pub.publish(f"offline/{tag}", f"m{i}", qos=1).wait_for_publish(10)
    back = make(f"sleeper-{tag}", proto, clean=False)
    connect(back, proto, clean=False, expiry=300)
    msgs = wait(back, 3)
    assert [m[1] for m in msgs] == ["m0", "m1", "m2"], msgs
    for c in (sub, pub, late, back):
        c.disconnect(); c.loop_stop()
    print(tag, "ok")
print("all ok")
"""#

    @Test func pahoClientsPublishSubscribeAndResume() async throws {
        let node = try TributaryProcess.standalone()
        let fields = try #require(await node.readyFields(), "stderr: \(node.standardError)")
        let mqtt = try #require(fields["mqtt"])
        let port = try #require(mqtt.split(separator: ":").last.map(String.init))
        let directory = TributaryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/interop.py"
        try Self.script.write(toFile: path, atomically: true, encoding: .utf8)

        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", path, "127.0.0.1", port]
        let output = Pipe()
        python.standardOutput = output
        python.standardError = output
        try python.run()
        let finished = await eventually(timeout: .seconds(120)) { !python.isRunning }
        if !finished { python.terminate() }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(finished && python.terminationStatus == 0, "paho script failed: \(text)")
        #expect(text.contains("all ok"), "\(text)")

        node.signal(SIGTERM)
        #expect(await node.exitStatus() == 0, "stderr: \(node.standardError)")
    }
}
