"""`python -m gateway.simulator`: the same as `smsgw simulate`, without the product's CLI."""

from __future__ import annotations

import argparse
import logging
import pathlib
import sys

from gateway.simulator.cli import run


def main(argv: list[str]) -> int:
    """Parse the `smsgw simulate` options and run the simulator until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m gateway.simulator", description="Simulated GSM modems on ptys with a JSON control API.")
    parser.add_argument("--modems", type=int, default=1, help="how many modems (default 1)")
    parser.add_argument("--profile", default="generic", help="personality from modem_profiles/ (default generic)")
    parser.add_argument("--link-dir", default="./sim-links", help="directory for stable modem<N> symlinks (default ./sim-links)")
    parser.add_argument("--control", default="127.0.0.1:8765", help="control API address on loopback (default 127.0.0.1:8765)")
    parser.add_argument("--wire", action="store_true", help="log every byte on the ptys (gateway.simulator.wire at DEBUG)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.wire:
        logging.getLogger("gateway.simulator.wire").setLevel(logging.DEBUG)
    else:
        logging.getLogger("gateway.simulator.wire").setLevel(logging.INFO)
    return run(modems=args.modems, profile=args.profile, link_dir=pathlib.Path(args.link_dir), control=args.control or None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
