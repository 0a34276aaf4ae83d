"""``python -m linq_mcp.webhooks serve``: a standalone receiver process (uvicorn).

Secrets come only from the environment (``LINQ_WEBHOOK_SECRETS``, comma-separated for
rotation, or ``LINQ_WEBHOOK_SECRET``), never from the command line, where ``ps`` shows them.
"""

from __future__ import annotations

import argparse
import os
import sys

from .receiver import DEFAULT_MAX_BODY, DEFAULT_PATH, create_receiver_app
from .store import EventStore


def secrets_from_env(environ: dict[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    raw = env.get("LINQ_WEBHOOK_SECRETS") or env.get("LINQ_WEBHOOK_SECRET") or ""
    return [s.strip() for s in raw.replace(" ", ",").split(",") if s.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m linq_mcp.webhooks")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="receive signed Linq webhooks into the event store")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8787)
    serve.add_argument("--db", default=None, help="SQLite file (default: the per-user data path)")
    serve.add_argument("--path", default=DEFAULT_PATH)
    serve.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY)
    serve.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)

    import uvicorn

    secrets = secrets_from_env()
    if not secrets:
        print("no webhook secret: set LINQ_WEBHOOK_SECRETS (or LINQ_WEBHOOK_SECRET)", file=sys.stderr)
        return 2
    app = create_receiver_app(EventStore(args.db), secrets, path=args.path, max_body_bytes=args.max_body_bytes)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
