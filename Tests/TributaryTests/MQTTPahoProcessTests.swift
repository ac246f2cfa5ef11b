import Foundation
import Testing

/// `tributary standalone` driven by a client someone else wrote: Eclipse paho-mqtt (Python), over
/// MQTT 3.1.1 and 5.0 — QoS 0/1/2, retained messages, a persistent session with offline messages.
@Suite("tributary standalone with paho-mqtt", .serialized)
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
        try PahoConformanceTests.requirePaho()
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

    /// Phase `before`: a persistent subscriber goes offline, then QoS 1 and retained messages are
    /// published and acknowledged. Phase `after` (a restarted process on the same data
    /// directory): the session is present, every acknowledged message arrives in order, and a new
    /// subscriber gets the retained message.
    static let restartScript = #"""
import sys, time
import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes

host, port, phase, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
topic = f"restart{proto}"

def connect(cid, clean, on_message=None):
    if proto == 5:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv5)
        c.on_message = on_message
        props = Properties(PacketTypes.CONNECT); props.SessionExpiryInterval = 3600
        state = {}
        c.on_connect = lambda cl, u, f, rc, p: state.update(present=f.session_present, rc=rc)
        c.connect(host, port, clean_start=clean, properties=props)
    else:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv311, clean_session=clean)
        c.on_message = on_message
        state = {}
        c.on_connect = lambda cl, u, f, rc, p: state.update(present=f.session_present, rc=rc)
        c.connect(host, port)
    c.loop_start()
    deadline = time.time() + 10
    while "rc" not in state and time.time() < deadline: time.sleep(0.02)
    assert "rc" in state and not state["rc"].is_failure, f"{cid}: no CONNACK or refused: {state}"
    return c, state["present"]

def wait(condition, what, seconds=15):
    deadline = time.time() + seconds
    while not condition():
        if time.time() > deadline: raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)

if phase == "before":
    keeper, _ = connect(f"keeper{proto}", False)
    done = []
    keeper.on_subscribe = lambda *a: done.append(1)
    keeper.subscribe(f"{topic}/#", qos=1)
    wait(lambda: done, "SUBACK")
    keeper.disconnect(); keeper.loop_stop()
    publisher, _ = connect(f"publisher{proto}", True)
    infos = [publisher.publish(f"{topic}/state", "running", qos=1, retain=True)]
    infos += [publisher.publish(f"{topic}/line", f"reading-{i}", qos=1) for i in range(1, 6)]
    for info in infos: info.wait_for_publish(10)
    assert all(info.is_published() for info in infos), "not every PUBLISH was acknowledged"
    publisher.disconnect(); publisher.loop_stop()
    print("before ok")
else:
    got = []
    keeper, present = connect(f"keeper{proto}", False, lambda cl, u, m: got.append(m.payload.decode()))
    assert present, "the persistent session did not survive the restart"
    wait(lambda: sum(1 for g in got if g.startswith("reading-")) >= 5, f"5 offline messages, got {got}")
    readings = [g for g in got if g.startswith("reading-")]
    assert readings == [f"reading-{i}" for i in range(1, 6)], f"offline messages out of order or duplicated: {got}"
    keeper.disconnect(); keeper.loop_stop()
    retained = []
    late, _ = connect(f"late{proto}", True, lambda cl, u, m: retained.append((m.payload.decode(), m.retain)))
    late.subscribe(f"{topic}/state", qos=1)
    wait(lambda: retained, "the retained message")
    assert retained[0] == ("running", True), f"retained: {retained}"
    late.disconnect(); late.loop_stop()
    print("after ok")
"""#

    @Test(arguments: [4, 5])
    func pahoSessionAndRetainedMessagesSurviveARestart(protocolLevel: Int) async throws {
        try PahoConformanceTests.requirePaho()
        let data = TributaryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let arguments = ["standalone", "--data-dir", data, "--admin-port", "0", "--rpc-port", "0", "--mqtt-port", "0", "--ws-port", "0"]
        let script = data + "-restart.py"
        try Self.restartScript.write(toFile: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: script) }

        for phase in ["before", "after"] {
            let node = try TributaryProcess(arguments)
            let fields = try #require(await node.readyFields(), "stderr: \(node.standardError)")
            let port = try #require(fields["mqtt"]?.split(separator: ":").last.map(String.init))
            let (status, output) = try await PahoConformanceTests.python(
                [script, "127.0.0.1", port, phase, "\(protocolLevel)"], timeout: .seconds(120))
            #expect(status == 0 && output.contains("\(phase) ok"), "\(phase): \(output)\nbroker: \(node.standardError)")
            node.signal(SIGTERM)
            #expect(await node.exitStatus() == 0, "stderr: \(node.standardError)")
        }
    }

    /// paho sees an operator's redirection: 5.0 gets CONNACK 0x9C with the Server Reference, 3.1.1
    /// return code 3; nobody is connected.
    static let redirectScript = #"""
import sys, time
import paho.mqtt.client as mqtt
host, port = sys.argv[1], int(sys.argv[2])
for proto in (mqtt.MQTTv5, mqtt.MQTTv311):
    seen = {}
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="redirected", protocol=proto)
    def on_connect(cl, u, flags, rc, props):
        seen["rc"] = rc.value if hasattr(rc, "value") else int(rc)
        seen["ref"] = getattr(props, "ServerReference", None) if props is not None else None
    c.on_connect = on_connect
    c.connect(host, port)
    c.loop_start()
    deadline = time.time() + 10
    while "rc" not in seen and time.time() < deadline: time.sleep(0.02)
    c.loop_stop()
    print(proto, seen.get("rc"), seen.get("ref"))
"""#

    @Test func anOperatorCanRedirectClientsToAnotherServer() async throws {
        try PahoConformanceTests.requirePaho()
        let node = try TributaryProcess.standalone(environment: ["TRIBUTARY_MQTT_REDIRECT_TO": "broker-2.example:1883"])
        defer { node.signal(SIGKILL) }
        let fields = try #require(await node.readyFields(), "stderr: \(node.standardError)")
        let port = try #require(fields["mqtt"]?.split(separator: ":").last.map(String.init))
        let (status, output) = try await PahoConformanceTests.python(["-c", Self.redirectScript, "127.0.0.1", port], timeout: .seconds(60))
        #expect(status == 0, "\(output)")
        #expect(output.contains("5 156 broker-2.example:1883"), "MQTT 5.0: 0x9C and the Server Reference: \(output)")
        // paho 2.x reports the 3.1.1 return code 3 as the 5.0 equivalent, 0x88 Server unavailable.
        #expect(output.contains("4 136 None"), "MQTT 3.1.1: return code 3: \(output)")
    }

    @Test func theConfiguredReceiveMaximumIsAnnounced() async throws {
        try PahoConformanceTests.requirePaho()
        let node = try TributaryProcess.standalone(environment: ["TRIBUTARY_MQTT_RECEIVE_MAXIMUM": "2"])
        defer { node.signal(SIGKILL) }
        let fields = try #require(await node.readyFields(), "stderr: \(node.standardError)")
        let port = try #require(fields["mqtt"]?.split(separator: ":").last.map(String.init))
        let script = """
            import sys, time
            import paho.mqtt.client as mqtt
            seen = {}
            c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="limited", protocol=mqtt.MQTTv5)
            c.on_connect = lambda cl, u, f, rc, props: seen.update(rc=rc.value, maximum=getattr(props, "ReceiveMaximum", None))
            c.connect(sys.argv[1], int(sys.argv[2]))
            c.loop_start()
            deadline = time.time() + 10
            while "rc" not in seen and time.time() < deadline: time.sleep(0.02)
            c.disconnect(); c.loop_stop()
            print("connack", seen.get("rc"), seen.get("maximum"))
            """
        let (status, output) = try await PahoConformanceTests.python(["-c", script, "127.0.0.1", port], timeout: .seconds(60))
        #expect(status == 0 && output.contains("connack 0 2"), "\(output)")
    }
}
