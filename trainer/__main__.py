"""`python -m trainer --config run.json`: run one RunConfig here, one JSON event per line.

A debugging and benchmarking tool: no server, no worker pool. Steps print one per line.
"""

from __future__ import annotations

import argparse
import json
import sys

from trainer.contract import protocol


def _presets_text() -> str:
    from trainer.contract.presets import PRESETS
    return "\n".join(f"  {p['id']:<20} {p['title']}" for p in PRESETS)


def _load(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict:
    """The RunConfig to run, or exit 2 with one line saying what is wrong."""
    from pydantic import ValidationError

    from trainer.contract.config import RunConfig
    from trainer.contract.presets import PRESETS_BY_ID

    if args.preset:
        if args.preset not in PRESETS_BY_ID:
            parser.exit(2, f"python -m trainer: no preset '{args.preset}'; "
                           f"--list-presets shows the {len(PRESETS_BY_ID)} there are\n")
        return PRESETS_BY_ID[args.preset]["config"]
    if not args.config:
        return {}
    try:
        if args.config == "-":
            config = json.load(sys.stdin)
        else:
            with open(args.config) as source:
                config = json.load(source)
    except OSError as exc:
        parser.exit(2, f"python -m trainer: cannot read {args.config}: {exc.strerror}\n")
    except ValueError as exc:
        parser.exit(2, f"python -m trainer: {args.config} is not JSON: {exc}\n")
    try:
        RunConfig.model_validate(config)
    except (ValidationError, ValueError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else {"msg": str(exc)}
        where = ".".join(str(p) for p in first.get("loc", ())) or "the config"
        parser.exit(2, f"python -m trainer: {where}: {first['msg']}\n")
    return config


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the job, print its events."""
    parser = argparse.ArgumentParser(
        prog="python -m trainer", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"presets (--preset ID):\n{_presets_text()}")
    parser.add_argument("--config", help="RunConfig JSON file ('-' for stdin; default: "
                        "the seed's example)")
    parser.add_argument("--preset", help="a preset id (see --list-presets) instead of --config")
    parser.add_argument("--list-presets", action="store_true",
                        help="print the presets' ids and titles, then exit")
    args = parser.parse_args(argv)
    if args.list_presets:
        print(_presets_text())
        return 0
    config = _load(args, parser)
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
