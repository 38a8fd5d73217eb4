"""A minimal NATS client: Python standard library only, written from the
public protocol description (the text protocol INFO/CONNECT/PUB/HPUB/SUB/
UNSUB/MSG/HMSG/PING/PONG/+OK/-ERR and the JetStream JSON API on `$JS.API.>`).

Enough for the examples and the tests of the NATS work: publish (with headers),
subscribe, request/reply, JetStream stream and consumer creation, publishing
with a message id and reading a stream back with a pull or a push consumer.
It is single-threaded and synchronous: messages are read from the socket only
while a call waits for something, and kept in per-subscription queues.

Not part of the gpurent package: an example-level helper; a real node uses a
full client (the C nodes use libnats).
"""
from __future__ import annotations

import collections
import json
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Iterator, Optional, Sequence
from urllib.parse import urlparse

__all__ = ["Msg", "NatsError", "NoRespondersError", "JetStreamError", "Connection", "JetStream", "StreamMsg"]

_CRLF = b"\r\n"
_MAX_CONTROL_LINE = 4096


class NatsError(Exception):
    """A protocol error, a -ERR from the server, a timeout or a closed connection."""


class NoRespondersError(NatsError):
    """A request found no subscriber (the server answered with status 503)."""


class JetStreamError(NatsError):
    """A JetStream API call answered with an error object."""

    def __init__(self, code: int, err_code: int, description: str) -> None:
        super().__init__(f"JetStream error {code}/{err_code}: {description}")
        self.code = code
        self.err_code = err_code
        self.description = description


@dataclass
class Msg:
    subject: str
    reply: str
    data: bytes
    headers: dict = field(default_factory=dict)
    status: int = 0           # from an HMSG status line ("NATS/1.0 404 No Messages"), 0 if none
    description: str = ""


def _parse_headers(block: bytes) -> tuple[int, str, dict]:
    """Parse an HMSG header block: 'NATS/1.0[ status[ description]]' then 'Name: value' lines."""
    lines = block.decode("utf-8", "replace").split("\r\n")
    first = lines[0]
    if not first.startswith("NATS/1.0"):
        raise NatsError(f"bad header block {first!r}")
    status, description = 0, ""
    rest = first[len("NATS/1.0"):].strip()
    if rest:
        code, _, description = rest.partition(" ")
        status = int(code) if code.isdigit() else 0
    headers: dict = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if sep:
            headers.setdefault(name.strip(), []).append(value.strip())
    return status, description, headers


def _encode_headers(headers: dict) -> bytes:
    out = ["NATS/1.0"]
    for name, value in headers.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if "\r" in str(v) or "\n" in str(v) or ":" in name:
                raise ValueError(f"bad header {name!r}")
            out.append(f"{name}: {v}")
    return ("\r\n".join(out) + "\r\n\r\n").encode()


def _check_subject(subject: str) -> None:
    if not subject or any(c in subject for c in " \t\r\n"):
        raise ValueError(f"bad subject {subject!r}")


class Connection:
    """One connection to one server of `servers` (tried in order)."""

    def __init__(self, servers: str | Sequence[str], name: str = "natsmini", timeout: float = 5.0) -> None:
        urls = servers.split(",") if isinstance(servers, str) else list(servers)
        self._buf = bytearray()
        self._sock: Optional[socket.socket] = None
        self._sid = 0
        self._queues: dict[int, collections.deque] = {}
        self._pongs = 0
        self._inbox_prefix = "_INBOX." + os.urandom(8).hex()
        self._inbox_sid = 0
        self._inbox_n = 0
        self.info: dict = {}
        last: Exception = NatsError("no server given")
        for url in urls:
            try:
                self._connect(url.strip(), name, timeout)
                return
            except (OSError, NatsError) as e:
                last = e
                self._drop()
        raise NatsError(f"could not connect to {','.join(urls)}: {last}")

    # ---- connection ----

    def _connect(self, url: str, name: str, timeout: float) -> None:
        u = urlparse(url if "://" in url else "nats://" + url)
        self._sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 4222), timeout=timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        line = self._read_line(time.monotonic() + timeout)
        if not line.startswith(b"INFO "):
            raise NatsError(f"expected INFO, got {line[:80]!r}")
        self.info = json.loads(line[5:])
        if not self.info.get("headers"):
            raise NatsError("server does not support headers")
        connect = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True,
                   "protocol": 1, "name": name, "lang": "python-natsmini", "version": "0.1"}
        self._send(b"CONNECT " + json.dumps(connect).encode() + _CRLF)
        self.flush(timeout)

    def _drop(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
        self._sock = None

    def close(self) -> None:
        self._drop()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- low level I/O ----

    def _send(self, data: bytes) -> None:
        if self._sock is None:
            raise NatsError("connection closed")
        self._sock.sendall(data)

    def _fill(self, deadline: float) -> None:
        assert self._sock is not None
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        self._sock.settimeout(left)
        try:
            chunk = self._sock.recv(1 << 20)
        except socket.timeout as e:
            raise TimeoutError("timed out") from e
        if not chunk:
            self._drop()
            raise NatsError("connection closed by the server")
        self._buf += chunk

    def _read_line(self, deadline: float) -> bytes:
        while True:
            i = self._buf.find(_CRLF)
            if i >= 0:
                line = bytes(self._buf[:i])
                del self._buf[:i + 2]
                return line
            if len(self._buf) > _MAX_CONTROL_LINE:
                raise NatsError("control line too long")
            self._fill(deadline)

    def _read_exact(self, n: int, deadline: float) -> bytes:
        while len(self._buf) < n + 2:
            self._fill(deadline)
        if self._buf[n:n + 2] != _CRLF:
            raise NatsError("payload not followed by CRLF")
        data = bytes(self._buf[:n])
        del self._buf[:n + 2]
        return data

    def _process_one(self, deadline: float) -> None:
        """Read and dispatch one protocol operation from the server."""
        line = self._read_line(deadline)
        op, _, rest = line.partition(b" ")
        op = op.upper()
        if op == b"MSG":
            parts = rest.split()
            if len(parts) not in (3, 4):
                raise NatsError(f"bad MSG line {line!r}")
            subject, sid = parts[0].decode(), int(parts[1])
            reply = parts[2].decode() if len(parts) == 4 else ""
            data = self._read_exact(int(parts[-1]), deadline)
            self._deliver(sid, Msg(subject, reply, data))
        elif op == b"HMSG":
            parts = rest.split()
            if len(parts) not in (4, 5):
                raise NatsError(f"bad HMSG line {line!r}")
            subject, sid = parts[0].decode(), int(parts[1])
            reply = parts[2].decode() if len(parts) == 5 else ""
            hlen, total = int(parts[-2]), int(parts[-1])
            if hlen > total:
                raise NatsError(f"bad HMSG sizes {line!r}")
            raw = self._read_exact(total, deadline)
            status, desc, headers = _parse_headers(raw[:hlen])
            self._deliver(sid, Msg(subject, reply, raw[hlen:], headers, status, desc))
        elif op == b"PING":
            self._send(b"PONG\r\n")
        elif op == b"PONG":
            self._pongs += 1
        elif op == b"+OK":
            pass
        elif op == b"INFO":
            self.info.update(json.loads(rest))
        elif op == b"-ERR":
            raise NatsError(f"server error: {rest.decode(errors='replace')}")
        else:
            raise NatsError(f"unknown operation {line[:80]!r}")

    def _deliver(self, sid: int, msg: Msg) -> None:
        q = self._queues.get(sid)
        if q is not None:  # a message for a subscription already removed is dropped
            q.append(msg)

    # ---- API ----

    def flush(self, timeout: float = 5.0) -> None:
        """Round trip to the server: every operation sent before has been processed."""
        want = self._pongs + 1
        self._send(b"PING\r\n")
        deadline = time.monotonic() + timeout
        while self._pongs < want:
            self._process_one(deadline)

    def publish(self, subject: str, data: bytes = b"", reply: str = "", headers: Optional[dict] = None) -> None:
        _check_subject(subject)
        if reply:
            _check_subject(reply)
        r = (" " + reply) if reply else ""
        if headers:
            h = _encode_headers(headers)
            self._send(f"HPUB {subject}{r} {len(h)} {len(h) + len(data)}\r\n".encode() + h + data + _CRLF)
        else:
            self._send(f"PUB {subject}{r} {len(data)}\r\n".encode() + data + _CRLF)

    def subscribe(self, subject: str, queue: str = "") -> int:
        _check_subject(subject)
        self._sid += 1
        self._queues[self._sid] = collections.deque()
        q = (" " + queue) if queue else ""
        self._send(f"SUB {subject}{q} {self._sid}\r\n".encode())
        return self._sid

    def unsubscribe(self, sid: int) -> None:
        self._send(f"UNSUB {sid}\r\n".encode())
        self._queues.pop(sid, None)

    def next_msg(self, sid: int, timeout: float = 5.0) -> Msg:
        """The next message of subscription `sid`; TimeoutError if none comes in time."""
        q = self._queues[sid]
        deadline = time.monotonic() + timeout
        while not q:
            self._process_one(deadline)
        return q.popleft()

    def new_inbox(self) -> str:
        """A fresh reply subject under this connection's inbox wildcard."""
        if not self._inbox_sid:
            self._inbox_sid = self.subscribe(self._inbox_prefix + ".*")
        self._inbox_n += 1
        return f"{self._inbox_prefix}.{self._inbox_n}"

    def request(self, subject: str, data: bytes = b"", timeout: float = 5.0,
                headers: Optional[dict] = None) -> Msg:
        """Publish with a reply subject and wait for the first answer to it."""
        inbox = self.new_inbox()
        self.publish(subject, data, inbox, headers)
        deadline = time.monotonic() + timeout
        q = self._queues[self._inbox_sid]
        while True:
            while q:  # requests are one at a time: anything else here is a late answer to an earlier one
                m = q.popleft()
                if m.subject == inbox:
                    if m.status == 503:
                        raise NoRespondersError(f"no responders on {subject}")
                    return m
            self._process_one(deadline)


@dataclass
class StreamMsg:
    """A message read from a stream, with its stream sequence."""
    subject: str
    seq: int
    data: bytes
    headers: dict
    pending: int


def _stream_seq(reply: str) -> tuple[int, int]:
    """(stream sequence, pending) from a JetStream delivery's ack subject
    $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>
    (2.9 may add a domain and account hash in front: the last seven tokens are used)."""
    tokens = reply.split(".")
    if len(tokens) < 9 or tokens[0] != "$JS" or tokens[1] != "ACK":
        raise NatsError(f"not a JetStream delivery: {reply!r}")
    return int(tokens[-4]), int(tokens[-1])


class JetStream:
    """The JetStream JSON API over a Connection."""

    def __init__(self, nc: Connection, timeout: float = 5.0) -> None:
        self.nc = nc
        self.timeout = timeout

    def api(self, what: str, body: Optional[dict] = None, timeout: Optional[float] = None) -> dict:
        """Request `$JS.API.<what>`; raise JetStreamError on an error answer."""
        payload = json.dumps(body).encode() if body is not None else b""
        m = self.nc.request("$JS.API." + what, payload, timeout or self.timeout)
        resp = json.loads(m.data) if m.data else {}
        err = resp.get("error")
        if err:
            raise JetStreamError(err.get("code", 0), err.get("err_code", 0), err.get("description", ""))
        return resp

    def account_info(self) -> dict:
        return self.api("INFO")

    def add_stream(self, name: str, subjects: Sequence[str], replicas: int = 1, storage: str = "file",
                   duplicate_window_s: int = 600, **extra: object) -> dict:
        cfg = {"name": name, "subjects": list(subjects), "retention": "limits", "storage": storage,
               "num_replicas": replicas, "duplicate_window": duplicate_window_s * 1_000_000_000,
               "discard": "old"}
        cfg.update(extra)
        return self.api("STREAM.CREATE." + name, cfg)

    def stream_info(self, name: str) -> dict:
        return self.api("STREAM.INFO." + name)

    def delete_stream(self, name: str) -> dict:
        return self.api("STREAM.DELETE." + name)

    def publish(self, subject: str, data: bytes, msg_id: str = "", timeout: Optional[float] = None) -> dict:
        """Publish into a stream and wait for its acknowledgement
        ({"stream": ..., "seq": ..., "duplicate": true if the id was seen})."""
        headers = {"Nats-Msg-Id": msg_id} if msg_id else None
        m = self.nc.request(subject, data, timeout or self.timeout, headers)
        resp = json.loads(m.data)
        err = resp.get("error")
        if err:
            raise JetStreamError(err.get("code", 0), err.get("err_code", 0), err.get("description", ""))
        return resp

    def _consumer_config(self, start_seq: int, filter_subject: str) -> dict:
        cfg: dict = {"ack_policy": "none", "replay_policy": "instant",
                     "inactive_threshold": 60 * 1_000_000_000}
        if start_seq > 1:
            cfg.update(deliver_policy="by_start_sequence", opt_start_seq=start_seq)
        else:
            cfg["deliver_policy"] = "all"
        if filter_subject:
            cfg["filter_subject"] = filter_subject
        return cfg

    def pull(self, stream: str, start_seq: int = 1, filter_subject: str = "", batch: int = 256,
             idle_s: float = 2.0, retries: int = 5) -> Iterator[StreamMsg]:
        """Every message of `stream` from `start_seq` on, by an ephemeral pull
        consumer ($JS.API.CONSUMER.MSG.NEXT), until the stream has nothing more.

        A fetch answered by nothing at all within idle_s (in a cluster the
        consumer may have been placed on a server that just died) or a
        consumer create that fails is retried, up to `retries` times, with a
        new consumer from the sequence after the last one yielded: each
        message is yielded once, in stream order."""
        next_seq, failures = start_seq, 0
        while True:
            try:
                for m in self._pull_once(stream, next_seq, filter_subject, batch, idle_s):
                    next_seq, failures = m.seq + 1, 0
                    yield m
                return
            except (TimeoutError, JetStreamError):
                failures += 1
                if failures > retries:
                    raise
                time.sleep(0.2 * failures)

    def _pull_once(self, stream: str, start_seq: int, filter_subject: str, batch: int,
                   idle_s: float) -> Iterator[StreamMsg]:
        cfg = self._consumer_config(start_seq, filter_subject)
        info = self.api("CONSUMER.CREATE." + stream, {"stream_name": stream, "config": cfg})
        consumer = info["name"]
        # Deliveries keep the stream subject and arrive on the subscription of
        # the request's reply subject: one subscription of our own for them.
        inbox = self.nc._inbox_prefix + ".pull." + os.urandom(4).hex()
        sid = self.nc.subscribe(inbox)
        try:
            while True:
                req = {"batch": batch, "no_wait": True}
                self.nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}", json.dumps(req).encode(), inbox)
                got, pending = 0, None
                while got < batch:
                    m = self.nc.next_msg(sid, idle_s)
                    if m.status:  # 404 no messages, 408 request expired: the batch is over
                        break
                    seq, pending = _stream_seq(m.reply)
                    got += 1
                    yield StreamMsg(m.subject, seq, m.data, m.headers, pending)
                    if pending == 0:
                        break
                if got == 0 or pending == 0:
                    return
        finally:
            self.nc.unsubscribe(sid)
            try:
                self.api(f"CONSUMER.DELETE.{stream}.{consumer}", timeout=1.0)
            except (NatsError, TimeoutError):
                pass

    def push(self, stream: str, start_seq: int = 1, filter_subject: str = "", idle_s: float = 1.0
             ) -> Iterator[StreamMsg]:
        """The same by an ephemeral push consumer with a deliver subject: ends
        when a delivery reports nothing pending."""
        deliver = self.nc.new_inbox().replace(".", "_") + ".push"
        sid = self.nc.subscribe(deliver)
        cfg = self._consumer_config(start_seq, filter_subject)
        cfg["deliver_subject"] = deliver
        info = self.api("CONSUMER.CREATE." + stream, {"stream_name": stream, "config": cfg})
        consumer = info["name"]
        try:
            if info.get("num_pending", 0) == 0:
                return
            while True:
                m = self.nc.next_msg(sid, idle_s)
                if m.status:  # idle heartbeat or flow control: not data
                    continue
                seq, pending = _stream_seq(m.reply)
                yield StreamMsg(m.subject, seq, m.data, m.headers, pending)
                if pending == 0:
                    return
        finally:
            self.nc.unsubscribe(sid)
            try:
                self.api(f"CONSUMER.DELETE.{stream}.{consumer}")
            except (NatsError, TimeoutError):
                pass
