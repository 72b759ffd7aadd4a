"""The oracle service's log: one JSON object per line (``ts``, ``level``, ``event`` and fields) to stderr."""

from __future__ import annotations

import json
import sys
import threading
import time


def jsonable(value):
    """`value` with bytes as 0x hex and anything unknown as text, so json.dumps never fails on a log field."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)



class JsonLog:
    """Structured log: one JSON object per line. Thread-safe (two service instances may share one stream)."""

    def __init__(self, stream=None, **context):
        self.stream = stream if stream is not None else sys.stderr
        self.context = context
        self.lock = threading.Lock()

    def __call__(self, event: str, level: str = "info", **fields):
        record = {"ts": round(time.time(), 3), "level": level, "event": event, **self.context, **fields}
        line = json.dumps(jsonable(record), sort_keys=False)
        with self.lock:
            print(line, file=self.stream, flush=True)

