"""A command that repeats: one pass every ``--interval`` seconds until interrupted, with the service's health
served on ``--metrics-port``. Used by ``backing oracle run`` and ``backing oracle watch``."""

from __future__ import annotations

import time

from oracle.errors import EXIT_INTERNAL, EXIT_OK
from oracle.log import JsonLog
from oracle.options import UsageError


def run_daemon(args, service, log: JsonLog, one_pass) -> int:
    """Repeat `one_pass` every `args.interval` seconds until interrupted, serving the service's health on
    `args.metrics_port` if given. A pass that raises is logged and counted as an internal error, never the end."""
    metrics = None
    if args.metrics_port is not None:
        from oracle.health import MetricsServer

        try:
            metrics = MetricsServer(service.health, args.metrics_host, args.metrics_port)
        except OSError as error:
            raise UsageError(
                f"cannot serve metrics on {args.metrics_host}:{args.metrics_port}: " f"{error.strerror}"
            ) from None
        log("metrics_serving", host=args.metrics_host, port=metrics.port)
    code = EXIT_OK
    try:
        while True:
            started = time.monotonic()
            try:
                code = one_pass()
            except Exception as error:  # never let one pass end the daemon: log the bug, try again next pass
                import traceback

                log(
                    "internal_error",
                    level="error",
                    error=f"{type(error).__name__}: {error}",
                    traceback=traceback.format_exc(),
                )
                code = EXIT_INTERNAL
            time.sleep(max(0.0, args.interval - (time.monotonic() - started)))
    except KeyboardInterrupt:
        log("stopped", exit_code=code)
        return code
    finally:
        if metrics is not None:
            metrics.stop()
