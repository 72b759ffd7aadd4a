"""Health of one oracle process, for its operator: a status file (JSON) and a ``/metrics`` endpoint (Prometheus
text format), both written from the same snapshot at the end of every pass.

What it says (docs/oracle-operator.md lists the alert thresholds):

* the last pass: when it ended, its exit code, and the last *successful* one (exit 0 and this process did the
  work: a pass that found the lease held by another instance is not a success, ``lease_held`` says so);
* per model: Numerai's last resolved round as this process's source sees it, the last posted and the last final
  round on-chain, the lag between them, and the seconds left before the oracle's liveness fallback lets agreements
  mature without the missing rounds (``maxReportDelay`` after the first missing round's due time);
* open transactions (sent, not mined) and the age of the oldest;
* open disputes, and counters of every warning or error the log reported (``report_differs``,
  ``source_correction``, ``proposal_rejected``, ...).
"""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PREFIX = "backing_oracle"


class Health:
    """The process's health, updated by the service during a pass and published when the pass ends."""

    def __init__(self, role: str, status_file: str | None = None, clock=time.time):
        self.role, self.status_file, self.clock = role, status_file, clock
        self.lock = threading.Lock()
        self.started_at = clock()
        self.last_pass_at: float | None = None
        self.last_exit_code: int | None = None
        self.last_success_at: float | None = None
        self.lease_held = False
        self.passes: dict[str, int] = {"ok": 0, "failed": 0, "lease_held": 0}
        self.models: dict[str, dict] = {}
        self.open_txs: list[dict] = []
        self.events: dict[tuple[str, str], int] = {}  # (event, level) -> count, warnings and errors only

    # ------------------------------------------------------------------ updates
    def observe(self, event: str, level: str) -> None:
        """Every log line passes here: warnings and errors are counted by event name."""
        if level in ("warning", "error"):
            with self.lock:
                self.events[(event, level)] = self.events.get((event, level), 0) + 1

    def model(self, name: str, **fields) -> None:
        """Per-model figures: resolved, posted, final (rounds), fallback_seconds, disputes_open."""
        with self.lock:
            self.models.setdefault(name, {}).update({k: v for k, v in fields.items() if v is not None})

    def transactions(self, rows: list[dict]) -> None:
        """The open transactions now: dicts with tx_hash, kind, nonce, age_seconds."""
        with self.lock:
            self.open_txs = list(rows)

    def pass_done(self, exit_code: int, lease_held: bool = False) -> None:
        now = self.clock()
        with self.lock:
            self.last_pass_at, self.last_exit_code, self.lease_held = now, exit_code, lease_held
            if lease_held:
                self.passes["lease_held"] += 1
            elif exit_code == 0:
                self.passes["ok"] += 1
                self.last_success_at = now
            else:
                self.passes["failed"] += 1
        self.write()

    # ------------------------------------------------------------------ output
    def snapshot(self) -> dict:
        now = self.clock()
        with self.lock:
            models = {}
            for name, figures in sorted(self.models.items()):
                entry = dict(figures)
                if "resolved" in entry and "posted" in entry:
                    entry["lag_rounds"] = max(0, entry["resolved"] - entry["posted"])
                models[name] = entry
            oldest = max((t["age_seconds"] for t in self.open_txs), default=0)
            return {
                "role": self.role,
                "now": round(now, 3),
                "started_at": round(self.started_at, 3),
                "last_pass_at": self.last_pass_at,
                "last_exit_code": self.last_exit_code,
                "last_success_at": self.last_success_at,
                "seconds_since_success": None if self.last_success_at is None else round(now - self.last_success_at),
                "lease_held_by_other": self.lease_held,
                "passes": dict(self.passes),
                "models": models,
                "open_transactions": list(self.open_txs),
                "oldest_open_transaction_seconds": oldest,
                "warnings": {f"{event}:{level}": n for (event, level), n in sorted(self.events.items())},
            }

    def prometheus(self) -> str:
        """The snapshot in Prometheus' text exposition format (version 0.0.4)."""
        s = self.snapshot()
        lines: list[str] = []

        def metric(name: str, kind: str, help_: str, samples: list[tuple[dict, float]]):
            lines.append(f"# HELP {PREFIX}_{name} {help_}")
            lines.append(f"# TYPE {PREFIX}_{name} {kind}")
            for labels, value in samples:
                text = ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items())
                lines.append(
                    f"{PREFIX}_{name}{{{text}}} {_number(value)}" if text else f"{PREFIX}_{name} {_number(value)}"
                )

        role = {"role": s["role"]}
        metric("up", "gauge", "1 while the process runs.", [(role, 1)])
        metric(
            "last_pass_timestamp_seconds",
            "gauge",
            "When the last pass ended (unix seconds).",
            [(role, s["last_pass_at"] or 0)],
        )
        metric(
            "last_pass_exit_code",
            "gauge",
            "Exit code of the last pass (0 ok, see oracle.errors).",
            [(role, -1 if s["last_exit_code"] is None else s["last_exit_code"])],
        )
        metric(
            "last_success_timestamp_seconds",
            "gauge",
            "When the last successful pass ended (exit 0, not merely 'lease held'); 0 if none yet.",
            [(role, s["last_success_at"] or 0)],
        )
        metric(
            "lease_held_by_other",
            "gauge",
            "1 when the last pass found another instance holding the lease.",
            [(role, int(s["lease_held_by_other"]))],
        )
        metric(
            "passes_total",
            "counter",
            "Passes by outcome.",
            [({**role, "outcome": k}, v) for k, v in sorted(s["passes"].items())],
        )
        for key, name, help_ in (
            ("resolved", "model_resolved_round", "Last round Numerai resolved for the model (as seen here)."),
            ("posted", "model_posted_round", "Last round posted on-chain for the model."),
            ("final", "model_final_round", "Last final round on-chain for the model."),
            ("lag_rounds", "model_lag_rounds", "Resolved rounds not posted yet."),
            (
                "fallback_seconds",
                "model_fallback_seconds",
                "Seconds before the liveness fallback for the model's first missing round (negative: passed).",
            ),
            ("disputes_open", "model_disputes_open", "Pending rounds of the model under dispute."),
            (
                "wrong_reports",
                "model_wrong_reports",
                "Pending reports of the model that differ from this watcher's source (not disputed yet).",
            ),
        ):
            samples = [({"model": m}, f[key]) for m, f in s["models"].items() if key in f]
            if samples:
                metric(name, "gauge", help_, samples)
        metric(
            "open_transactions", "gauge", "Transactions sent and not mined yet.", [(role, len(s["open_transactions"]))]
        )
        metric(
            "oldest_open_transaction_seconds",
            "gauge",
            "Age of the oldest open transaction.",
            [(role, s["oldest_open_transaction_seconds"])],
        )
        metric(
            "log_events_total",
            "counter",
            "Warnings and errors the log reported, by event.",
            [({"event": e, "level": lv}, n) for (e, lv), n in sorted(self.events.items())],
        )
        return "\n".join(lines) + "\n"

    def write(self) -> None:
        """The status file, replaced atomically (a reader never sees half of it)."""
        if not self.status_file:
            return
        path = Path(self.status_file)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(self.snapshot(), indent=1, sort_keys=True) + "\n")
        os.replace(temporary, path)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class MetricsServer:
    """``GET /metrics`` (Prometheus text) and ``GET /status`` (the JSON snapshot) in a daemon thread."""

    def __init__(self, health: Health, host: str = "127.0.0.1", port: int = 9464):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                if self.path.split("?")[0] == "/metrics":
                    body, kind = health.prometheus().encode(), "text/plain; version=0.0.4; charset=utf-8"
                elif self.path.split("?")[0] == "/status":
                    body, kind = json.dumps(health.snapshot()).encode(), "application/json"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # the service's own log is JSON lines; no access log on stderr
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
