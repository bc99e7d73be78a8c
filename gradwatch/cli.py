"""The `gradwatch` command: `serve` (the dashboard), `worker` (a Redis worker), `run` (one run
in the terminal, one JSON event per line)."""

from __future__ import annotations

import argparse
import os
import sys


def _serve(args: argparse.Namespace) -> int:
    for name in ("host", "port", "data_dir"):
        value = getattr(args, name)
        if value is not None:
            os.environ[f"GRADWATCH_{name.upper()}"] = str(value)
    try:
        from server.__main__ import main
    except ImportError as exc:
        print(f"gradwatch serve needs the server's packages ({exc.name} is missing): "
              "pip install 'gradwatch[server]'", file=sys.stderr)
        return 2
    return main()


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the server, the worker or the terminal runner."""
    parser = argparse.ArgumentParser(prog="gradwatch", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the dashboard (settings from GRADWATCH_* "
                                "variables; these options override them)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--data-dir")
    commands.add_parser("worker", help="a scale-out worker taking runs from Redis "
                        "(python -m trainer.worker; its options follow)", add_help=False)
    commands.add_parser("run", help="one RunConfig or preset in the terminal "
                        "(python -m trainer; e.g. gradwatch run --preset vanishing-cnn)",
                        add_help=False)
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("worker", "run"):
        rest = argv[1:]
        if argv[0] == "worker":
            from trainer.worker import main as worker_main

            return worker_main(rest)
        from trainer.__main__ import main as run_main

        return run_main(rest)
    return _serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
