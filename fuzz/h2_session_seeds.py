#!/usr/bin/python3
# Writes the seeds of fuzz/corpus/h2_session/: what a browser's HTTP/2 client sends after the
# connection preface (h2_session_fuzz sends that itself). Debian: python3-h2.
import pathlib
import sys

import h2.config
import h2.connection

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def client():
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    return conn


def head(method, path, *fields):
    return [(":method", method), (":scheme", "https"), (":authority", "127.0.0.1:8443"),
            (":path", path), *fields]


def get_page(conn):
    conn.send_headers(1, head("GET", "/", ("accept", "text/html")), end_stream=True)


def publish(conn, stream=1):
    form = ("content-type", "application/x-www-form-urlencoded")
    conn.send_headers(stream, head("POST", "/publish", form), end_stream=False)
    conn.send_data(stream, b"message=hello", end_stream=True)


def page_stream_publish(conn):
    get_page(conn)
    conn.send_headers(3, head("GET", "/listen", ("accept", "text/event-stream")), end_stream=True)
    publish(conn, 5)
    conn.reset_stream(3)


seeds = {"get": get_page, "post": publish, "page_stream_publish": page_stream_publish}
out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/h2_session")
out.mkdir(parents=True, exist_ok=True)
for name, write in seeds.items():
    conn = client()
    write(conn)
    data = conn.data_to_send()
    assert data.startswith(PREFACE)
    (out / name).write_bytes(data[len(PREFACE):])
