"""`python -m trainer --config run.json`: run one RunConfig here, one JSON event per line.

A debugging and benchmarking tool: no server, no worker pool. Steps print one per line.
"""

from __future__ import annotations

import argparse
import json
import sys

from trainer.contract import protocol


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the job, print its events."""
    parser = argparse.ArgumentParser(prog="python -m trainer", description=__doc__)
    parser.add_argument("--config", help="RunConfig JSON file ('-' for stdin; default: "
                        "the seed's example)")
    parser.add_argument("--preset", help="a preset id from /api/presets instead of --config")
    args = parser.parse_args(argv)
    from trainer.contract.presets import PRESETS_BY_ID

    if args.preset:
        config = PRESETS_BY_ID[args.preset]["config"]
    elif args.config:
        if args.config == "-":
            config = json.load(sys.stdin)
        else:
            with open(args.config) as source:
                config = json.load(source)
    else:
        config = {}
    from trainer.job import run_job

    status = []

    def emit(event: dict) -> None:
        items = event["items"] if event["type"] == "metrics" else [event]
        for item in items:
            print(protocol.dumps(item), flush=True)
        if event["type"] == "finished":
            status.append(event["status"])

    run_job(config, emit)
    return 0 if status == ["completed"] else 1


if __name__ == "__main__":
    sys.exit(main())
