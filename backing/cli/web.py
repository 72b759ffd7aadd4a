"""``backing web``: serve the web app for one deployment (``backing.web``).

backing web [--rpc-url URL] [--manifest FILE] [--chain-id N] [--host 127.0.0.1] [--port 8000]
"""

from __future__ import annotations

import sys

from backing.client.options import add_node, handler


@handler
def cmd_web(args) -> int:
    from backing.client.node import load_deployment
    from backing.web.server import STATIC, serve

    dep = load_deployment(args)
    if not (STATIC / "app.js").exists():
        print("backing: warning: the page's bundle is not built: run `make web` first", file=sys.stderr)
    server = serve(dep, args.host, args.port)
    host, port = server.server_address[:2]
    print(f"serving the deployment on chain id {dep.chain_id} at http://{host}:{port}/ (Ctrl-C stops)", flush=True)
    print("the server holds no key: connect your browser wallet on the page to send transactions", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def add_parser(commands) -> None:
    p = commands.add_parser(
        "web",
        help="serve the web app (browse, judge, deposit and offer terms from a browser wallet)",
        description="Serve a local web app for one deployment: browse agreements, judge them by their record and "
        "the reference model, and act through the browser's wallet (the server holds no key).",
    )
    add_node(p)
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="the port to listen on (default 8000; 0: a free one)")
    p.set_defaults(handler=cmd_web, now=None)
