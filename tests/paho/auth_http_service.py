#!/usr/bin/env python3
"""A test authentication service for Tributary's auth.http: answers the broker's JSON POST by
the user name (allow-user: allow, super-user: allow as super user, deny-user: deny, error-user:
HTTP 500, slow-user: answers after 3 s); GET /count returns how many POSTs it answered. Binds
127.0.0.1 on a free port and prints "port N" once listening."""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

calls = 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with lock:
            self.reply(200, str(calls))

    def do_POST(self):
        global calls
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length))
        with lock:
            calls += 1
        missing = [key for key in ("clientid", "username", "password", "peerhost", "protocol") if key not in request]
        if missing:
            self.reply(400, json.dumps({"error": f"missing {missing}"}))
            return
        user = request["username"]
        if user == "allow-user":
            self.reply(200, json.dumps({"result": "allow", "is_superuser": False}))
        elif user == "super-user":
            self.reply(200, json.dumps({"result": "allow", "is_superuser": True}))
        elif user == "error-user":
            self.reply(500, "{}")
        elif user == "slow-user":
            time.sleep(3)
            self.reply(200, json.dumps({"result": "allow"}))
        else:
            self.reply(200, json.dumps({"result": "deny"}))


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(f"port {server.server_address[1]}", flush=True)
server.serve_forever()
