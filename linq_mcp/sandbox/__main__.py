"""``python -m linq_mcp.sandbox [--host H] [--port P] [--config FILE] [--seed N]``."""

from __future__ import annotations

import argparse

from .serve import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m linq_mcp.sandbox", description="Run the Linq API sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--config", dest="config_path", default=None, help="TOML file (see sandbox/default.toml)")
    parser.add_argument("--seed", type=int, default=None, help="seed for ids and the simulated people")
    args = parser.parse_args(argv)
    run(host=args.host, port=args.port, config_path=args.config_path, seed=args.seed)


if __name__ == "__main__":
    main()
