"""A fault-injecting HTTP proxy on 127.0.0.1 for end-to-end tests: throttling, 5xx, drops."""

from __future__ import annotations

import collections
import hashlib
import http.client
import random
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")
_HOP_HEADERS = {"connection", "transfer-encoding", "keep-alive", "content-length"}
FAULTS = ("throttle", "http-500", "http-503", "drop")
# 2xx answers that are not the protocol's format, for `down_answer`: an empty body, a
# captive portal's HTML page, the real answer cut in half, random bytes.
MALFORMED = ("empty-200", "html-200", "truncated-200", "bytes-200")

# (status, headers, body) of a throttling answer in each wire protocol botocore parses.
_QUERY = b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>f</RequestId></ErrorResponse>"  # noqa: E501
_EC2 = b"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>f</RequestID></Response>"  # noqa: E501
_S3 = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
_JSON = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'

# A predicate on (service, method, path) that decides when a request is answered by `down`.
Match = Callable[[str, str, str], bool]


def _throttle(service: str, content_type: str) -> tuple[int, dict[str, str], bytes]:
    if content_type.startswith("application/x-amz-json"):
        return 400, {"Content-Type": content_type}, _JSON
    if service in ("s3", "s3control"):
        return 503, {"Content-Type": "application/xml"}, _S3
    if service == "ec2":
        return 503, {"Content-Type": "text/xml"}, _EC2
    if content_type.startswith("application/x-www-form-urlencoded"):
        return 400, {"Content-Type": "text/xml"}, _QUERY
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "ThrottlingException"}
    return 429, headers, _JSON


def _operation(headers: Any, body: bytes) -> str:
    """The operation a JSON (X-Amz-Target) or query (Action=) request names, else ""."""
    target = str(headers.get("X-Amz-Target") or "")
    if target:
        return target.rpartition(".")[2]
    found = re.search(rb"(?:^|&)Action=([A-Za-z0-9]+)", body)
    return found.group(1).decode() if found else ""


class FaultProxy:
    """Forwards to `upstream`, failing a seeded `rate` of requests (never the same request
    more than `max_repeats` times in a row, so bounded retries always get through), and
    answering every request that `down` matches with `down_answer` ("http-503" or "hang")."""

    def __init__(
        self,
        upstream: str,
        rate: float = 0.0,
        seed: int = 1,
        max_repeats: int = 2,
        down: Match | None = None,
        down_answer: str = "http-503",
        operations: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.rate, self.max_repeats = rate, max_repeats
        self.down, self.down_answer = down, down_answer
        # (signing service, operation) pairs answered with `down_answer` as well.
        self.operations = operations
        self.injected: collections.Counter[str] = collections.Counter()
        self.requests: collections.Counter[str] = collections.Counter()
        self._rng = random.Random(seed)
        self._repeats: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def __enter__(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _decide(self, service: str, key: str, method: str, path: str, operation: str) -> str | None:
        with self._lock:
            self.requests[service] += 1
            if (service, operation) in self.operations or (
                self.down is not None and self.down(service, method, path)
            ):
                return self.down_answer
            if self._rng.random() < self.rate and self._repeats[key] < self.max_repeats:
                self._repeats[key] += 1
                return self._rng.choice(FAULTS)
            self._repeats[key] = 0
            return None

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        found = _SERVICE.search(h.headers.get("Authorization", ""))
        service = found.group(1) if found else "?"
        key = hashlib.sha256(f"{h.command} {h.path}".encode() + body).hexdigest()
        fault = self._decide(service, key, h.command, h.path, _operation(h.headers, body))
        if fault is not None:
            with self._lock:
                self.injected[fault] += 1
        if fault == "hang":
            self._release.wait(60)
            fault = "drop"
        if fault == "drop":
            h.close_connection = True
            return
        if fault == "trickle":
            self._trickle(h, body)
            return
        if fault is None:
            status, headers, payload = self._forward(h, body)
        elif fault in MALFORMED:
            status, headers, payload = self._malformed(fault, h, body)
        elif fault == "throttle":
            status, headers, payload = _throttle(service, h.headers.get("Content-Type", ""))
        else:
            # What moto answers for an operation it does not implement: HTML and a 5xx.
            status, headers = int(fault[-3:]), {"Content-Type": "text/html"}
            payload = b"<html><body>Service Unavailable</body></html>"
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(payload)

    def _malformed(
        self, fault: str, h: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if fault == "truncated-200":
            _, headers, payload = self._forward(h, body)
            return 200, headers, payload[: len(payload) // 2]
        if fault == "html-200":
            page = b"<!DOCTYPE html><html><body>Please log in to the Wi-Fi</body></html>"
            return 200, {"Content-Type": "text/html"}, page
        if fault == "bytes-200":
            with self._lock:
                noise = bytes(self._rng.randrange(256) for _ in range(64))
            return 200, {"Content-Type": "application/octet-stream"}, noise
        return 200, {}, b""

    def _trickle(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        """The real answer, one byte a second (each byte restarts a client's read timeout)."""
        status, headers, payload = self._forward(h, body)
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        for i in range(len(payload)):
            if self._release.wait(1.0):
                return
            try:
                h.wfile.write(payload[i : i + 1])
                h.wfile.flush()
            except OSError:
                return

    def _forward(self, h: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(
            self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=30
        )
        try:
            headers = {k: v for k, v in h.headers.items() if k.lower() not in _HOP_HEADERS}
            headers["Content-Length"] = str(len(body))
            conn.request(h.command, h.path, body=body, headers=headers)
            answer = conn.getresponse()
            payload = answer.read()
            kept = {k: v for k, v in answer.getheaders() if k.lower() not in _HOP_HEADERS}
            return answer.status, kept, payload
        finally:
            conn.close()
