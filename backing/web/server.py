"""The web app's HTTP server (the standard library's): the page and its bundle from ``static/``, and the JSON
of ``backing.web.api`` under ``/api/``. It reads the chain and computes; it holds no key and signs nothing."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from backing.client import CliError
from backing.web import api

STATIC = Path(__file__).with_name("static")
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
MISSING_BUNDLE = "the page's bundle static/app.js is not built: run `make web` (esbuild over web/src) first"


class App:
    """One deployment, shared by the request threads (web3's provider is used under a lock)."""

    def __init__(self, dep):
        self.dep = dep
        self.lock = threading.Lock()

    def get(self, path: str, query: dict):
        dep = self.dep
        parts = [p for p in path.split("/") if p][1:]  # after "api"
        if parts == ["config"]:
            return api.config(dep)
        if parts == ["agreements"]:
            return api.list_agreements(dep, query)
        if len(parts) == 2 and parts[0] == "agreements":
            units = query.get("units", "")
            if units and not units.isdigit():
                raise api.ApiError(400, f"units: {units!r} is not a whole number")
            return api.agreement_detail(dep, parts[1], int(units) if units else None, query.get("backer") or None)
        if parts == ["series"]:
            return api.list_series(dep, query)
        if len(parts) == 2 and parts[0] == "series":
            units = query.get("units", "")
            if units and not units.isdigit():
                raise api.ApiError(400, f"units: {units!r} is not a whole number")
            return api.series_detail(dep, parts[1], query.get("backer") or None, int(units) if units else None)
        if len(parts) == 2 and parts[0] == "models":
            return api.model_page(dep, parts[1])
        if len(parts) == 2 and parts[0] == "positions":
            return api.positions(dep, parts[1])
        raise api.ApiError(404, f"no such API: {path}")

    def post(self, path: str, body: dict):
        if path == "/api/terms/check":
            if body.get("kind") == "series":
                return api.check_series_terms(self.dep, {k: v for k, v in body.items() if k != "kind"})
            return api.check_terms(self.dep, {k: v for k, v in body.items() if k != "kind"})
        if path == "/api/explain":
            return api.explain(str(body.get("data", "")), str(body.get("contract", "")))
        raise api.ApiError(404, f"no such API: {path}")


def handler_for(app: App):
    class Handler(BaseHTTPRequestHandler):
        server_version = "backing-web"

        def log_message(self, format, *args):  # noqa: A002 -- quiet: one line per failed request only
            if len(args) > 1 and str(args[1])[:1] in "45":
                super().log_message(format, *args)

        def _send(self, status: int, body: bytes, kind: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the page went elsewhere before the answer: nobody to answer

        def _json(self, status: int, data) -> None:
            self._send(status, json.dumps(data, default=str).encode(), "application/json")

        def _api(self, call) -> None:
            try:
                with app.lock:
                    self._json(200, call())
            except api.ApiError as error:
                self._json(error.status, {"error": str(error)})
            except CliError as error:
                self._json(502, {"error": str(error)})
            except Exception as error:  # noqa: BLE001 -- the page shows it; the server keeps serving
                from backing.client.node import node_errors

                if isinstance(error, node_errors()):
                    self._json(502, {"error": "the node stopped answering: check that it runs"})
                else:
                    self._json(500, {"error": f"unexpected failure: {error.__class__.__name__}: {error}"})

        def do_GET(self) -> None:  # noqa: N802 -- http.server's name
            url = urlparse(self.path)
            if url.path.startswith("/api/"):
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                return self._api(lambda: app.get(url.path, query))
            name = "index.html" if url.path in ("/", "/index.html") else url.path.removeprefix("/static/")
            file = STATIC / name
            if "/" in name or file.suffix not in TYPES or not file.is_file():
                if name == "app.js":
                    return self._send(500, MISSING_BUNDLE.encode(), "text/plain")
                return self._send(404, b"not found", "text/plain")
            return self._send(200, file.read_bytes(), TYPES[file.suffix])

        def do_POST(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            try:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("not an object")
            except ValueError:
                return self._json(400, {"error": "the request body must be a JSON object"})
            return self._api(lambda: app.post(url.path, body))

    return Handler


def serve(dep, host: str, port: int) -> ThreadingHTTPServer:
    """A server bound to host:port (port 0: a free one) serving `dep`; call serve_forever() on it."""
    server = ThreadingHTTPServer((host, port), handler_for(App(dep)))
    server.daemon_threads = True
    return server
