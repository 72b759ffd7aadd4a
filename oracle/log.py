"""The oracle service's log: one JSON object per line (``ts``, ``level``, ``event`` and fields) to stderr."""

from __future__ import annotations

import json
import re
import sys
import threading
import time

# a URL's user:password@, path, query and fragment: where RPC providers put API keys (…/v3/<key>, ?apikey=)
_URL = re.compile(r"\b((?:https?|wss?)://)(?:[^/\s\"'@]*@)?([^/\s\"'?#]+)([^\s\"']*)")


def redact(text: str) -> str:
    """`text` with every URL cut to its scheme and host (``https://mainnet.infura.io/<redacted>``): RPC URLs carry
    API keys in their path or query, and logs are shared."""
    return _URL.sub(lambda m: m.group(1) + m.group(2) + ("/<redacted>" if m.group(3) not in ("", "/") else ""), text)


def jsonable(value):
    """`value` with bytes as 0x hex and anything unknown as text, so json.dumps never fails on a log field."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact(str(value))


class JsonLog:
    """Structured log: one JSON object per line. Thread-safe (two service instances may share one stream)."""

    def __init__(self, stream=None, **context):
        self.stream = stream if stream is not None else sys.stderr
        self.context = context
        self.lock = threading.Lock()
        self.observers: list = []  # callables (event, level): the health counters

    def __call__(self, event: str, level: str = "info", **fields):
        record = {"ts": round(time.time(), 3), "level": level, "event": event, **self.context, **fields}
        line = json.dumps(jsonable(record), sort_keys=False)
        with self.lock:
            print(line, file=self.stream, flush=True)
        for observe in self.observers:
            observe(event, level)
