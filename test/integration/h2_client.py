#!/usr/bin/python3
"""An HTTP/2 client for the integration tests where frames matter (h2_test.cpp): event streams
on one TLS connection (ALPN h2), per-stream flow control, rapid reset. Debian's python3-h2.

  listen      opens --streams GET --path streams on one connection; prints "ready" once every
              stream has its response head, then reads until each stream has an event whose data
              is --until (or, without --until, until every stream ended); prints "result {json}".
  reset-flood opens --count streams and resets each at once, then requests one more, in one
              write; reads until that answer ends or the server ends the connection; prints
              "result {json}".

Exit status: 0 done, 3 the deadline (--timeout) passed first (the result is printed all the same),
2 the server did not choose h2.
"""
import argparse
import json
import select
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
from h2.settings import SettingCodes

BIG_WINDOW = 1 << 30


class Stream:
    """One event stream: its response head, SSE events, how it ended, its last bytes."""

    def __init__(self, stream_id, slow):
        self.id = stream_id
        self.slow = slow  # its data is not acknowledged until the others are done
        self.status = None
        self.events = []  # {"event", "data", "id"} as an EventSource dispatches them
        self.retry = None
        self.ended = None  # "end_stream", "reset" or "closed" (the connection went first)
        self.buffer = b""
        self.tail = b""

    def feed(self, data):
        self.tail = (self.tail + data)[-256:]
        self.buffer += data
        while b"\n\n" in self.buffer:
            block, self.buffer = self.buffer.split(b"\n\n", 1)
            event = {"event": "message", "data": None, "id": None}
            for line in block.decode("utf-8", "replace").split("\n"):
                if line.startswith(":"):
                    continue  # a comment: heartbeat, farewell
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "event":
                    event["event"] = value
                elif field == "data":
                    event["data"] = value if event["data"] is None else event["data"] + "\n" + value
                elif field == "id":
                    event["id"] = value
                elif field == "retry":
                    self.retry = value
            if event["data"] is not None:
                self.events.append(event)

    def has(self, data):
        return any(e["data"] == data for e in self.events)

    def result(self):
        return {
            "id": self.id,
            "status": self.status,
            "events": self.events,
            "retry": self.retry,
            "ended": self.ended,
            "tail": self.tail.decode("utf-8", "replace"),
        }


class Client:
    def __init__(self, port, deadline, window=None):
        self.deadline = deadline
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", port), timeout=max(1, deadline - time.time()))
        self.sock = context.wrap_socket(raw, server_hostname="127.0.0.1")
        if self.sock.selected_alpn_protocol() != "h2":
            print("the server did not choose h2", file=sys.stderr)
            sys.exit(2)
        self.sock.setblocking(False)
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=config)
        initial = {SettingCodes.ENABLE_PUSH: 0}
        if window is not None:
            initial[SettingCodes.INITIAL_WINDOW_SIZE] = window
        self.conn.local_settings = h2.settings.Settings(client=True, initial_values=initial)
        self.conn.initiate_connection()
        # The connection's window never holds anything back: a stream's own window decides.
        self.conn.increment_flow_control_window(BIG_WINDOW)
        self.goaway = None
        self.closed = False
        self.received = b""  # bytes of a frame not yet whole
        self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        while data and not self.closed:
            try:
                sent = self.sock.send(data)
                data = data[sent:]
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                select.select([], [self.sock], [], 0.1)
            except OSError:
                self.closed = True

    def poll(self, handle, timeout=0.2):
        """Reads what arrived within `timeout` and gives each h2 event to `handle`."""
        if self.closed:
            return
        if self.sock.pending() == 0:
            readable, _, _ = select.select([self.sock], [], [], timeout)
            if not readable:
                return
        try:
            data = self.sock.recv(65536)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            return
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return
        try:
            events = self.conn.receive_data(self.without_goaway(data))
        except h2.exceptions.ProtocolError as error:
            print("protocol error: %s" % error, file=sys.stderr)
            self.closed = True
            return
        for event in events:
            handle(event)
        self.flush()

    def without_goaway(self, data):
        """Whole frames of `data`, GOAWAY taken out and noted: h2 closes its side on a GOAWAY and
        refuses the frames of the streams that may still finish (RFC 9113 6.8)."""
        self.received += data
        frames = b""
        while len(self.received) >= 9:
            end = 9 + int.from_bytes(self.received[0:3], "big")
            if len(self.received) < end:
                break
            frame, self.received = self.received[:end], self.received[end:]
            if frame[3] == 0x7:  # GOAWAY: last stream id, error code
                self.goaway = {"error": int.from_bytes(frame[13:17], "big"),
                               "last_stream_id": int.from_bytes(frame[9:13], "big") & 0x7FFFFFFF}
            else:
                frames += frame
        return frames

    def timed_out(self):
        return time.time() >= self.deadline


def listen(args):
    deadline = time.time() + args.timeout
    client = Client(args.port, deadline, args.window)
    streams = {}
    headers = [(":method", "GET"), (":scheme", "https"), (":authority", "127.0.0.1:%d" % args.port),
               (":path", args.path)]
    headers += [tuple(h.split(": ", 1)) for h in args.header]
    for i in range(args.streams):
        stream_id = client.conn.get_next_available_stream_id()
        client.conn.send_headers(stream_id, headers, end_stream=True)
        streams[stream_id] = Stream(stream_id, i < args.slow)
        if i >= args.slow:
            client.conn.increment_flow_control_window(BIG_WINDOW, stream_id)
    client.flush()

    def handle(event):
        stream = streams.get(getattr(event, "stream_id", None))
        if stream is None:
            return
        if isinstance(event, h2.events.ResponseReceived):
            stream.status = int(dict(event.headers)[":status"])
        elif isinstance(event, h2.events.DataReceived):
            stream.feed(event.data)
            if not stream.slow:
                client.conn.acknowledge_received_data(event.flow_controlled_length, stream.id)
        elif isinstance(event, h2.events.StreamEnded):
            stream.ended = "end_stream"
        elif isinstance(event, h2.events.StreamReset):
            stream.ended = stream.ended or "reset"

    def done(group):
        if args.until is None:
            return all(s.ended for s in group)
        return all(s.ended or s.has(args.until) for s in group)

    ready = False
    fast = [s for s in streams.values() if not s.slow]
    slow = [s for s in streams.values() if s.slow]
    while not client.closed and not client.timed_out():
        if not ready and all(s.status is not None for s in streams.values()):
            ready = True
            print("ready", flush=True)
        if ready and done(fast):
            break
        client.poll(handle)
    # The slow streams read again: what their window held back, then how they end.
    if slow and not client.closed:
        for s in slow:
            if not s.ended:
                client.conn.increment_flow_control_window(BIG_WINDOW, s.id)
                s.slow = False
        client.flush()
        while not client.closed and not client.timed_out() and not all(s.ended for s in slow):
            client.poll(handle)
    for s in streams.values():
        if s.ended is None and client.closed:
            s.ended = "closed"
    result = {
        "ready": ready,
        "goaway": client.goaway,
        "closed": client.closed,
        "streams": [s.result() for s in streams.values()],
    }
    print("result " + json.dumps(result), flush=True)
    finished = done(streams.values()) if args.until else all(s.ended for s in streams.values())
    return 0 if ready and finished else 3


def reset_flood(args):
    deadline = time.time() + args.timeout
    client = Client(args.port, deadline)
    headers = [(":method", "GET"), (":scheme", "https"), (":authority", "127.0.0.1:%d" % args.port),
               (":path", "/main.css")]
    for _ in range(args.count):
        stream_id = client.conn.get_next_available_stream_id()
        client.conn.send_headers(stream_id, headers, end_stream=True)
        client.conn.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
    # Then one request it does not cancel; all in one write: the server reads them at once.
    last = client.conn.get_next_available_stream_id()
    client.conn.send_headers(last, headers, end_stream=True)
    client.flush()
    answer = {"status": None, "ended": False}

    def handle(event):
        if getattr(event, "stream_id", None) != last:
            return
        if isinstance(event, h2.events.ResponseReceived):
            answer["status"] = int(dict(event.headers)[":status"])
        elif isinstance(event, h2.events.DataReceived):
            client.conn.acknowledge_received_data(event.flow_controlled_length, last)
        elif isinstance(event, h2.events.StreamEnded):
            answer["ended"] = True

    while not client.closed and not answer["ended"] and not client.timed_out():
        client.poll(handle)
    result = {"goaway": client.goaway, "closed": client.closed, "last_status": answer["status"]}
    print("result " + json.dumps(result), flush=True)
    return 0 if client.closed or answer["ended"] else 3


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("listen")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--streams", type=int, default=1)
    p.add_argument("--path", default="/listen")
    p.add_argument("--header", action="append", default=[], help="'name: value' on every stream")
    p.add_argument("--until", help="data of the event every stream waits for")
    p.add_argument("--slow", type=int, default=0,
                   help="the first N streams acknowledge no data until the others are done")
    p.add_argument("--window", type=int, help="SETTINGS_INITIAL_WINDOW_SIZE")
    p.add_argument("--timeout", type=float, default=20)
    p = commands.add_parser("reset-flood")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--timeout", type=float, default=20)
    args = parser.parse_args()
    return listen(args) if args.command == "listen" else reset_flood(args)


if __name__ == "__main__":
    sys.exit(main())
