"""Run every load scenario on one instance, on a 3-instance cluster and on the bare aiohttp baseline; print a
table and write `bench/results/run_all[-quick].json`.

    .venv/bin/python -m bench.run_all [--quick]

Full: about 10 minutes. --quick: smaller numbers, about 3 minutes. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import load
from bench.common import write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller numbers, about 3 minutes")
    parser.add_argument("--deployments", default="single,cluster,bare",
                        help="comma list of single, cluster, bare (default: all)")
    args = parser.parse_args()

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started = time.monotonic()
    out = load.run(args.quick, args.deployments.split(","), log=log)
    print(load.report(out))
    print(f"\n{'quick' if args.quick else 'full'} run in {time.monotonic() - started:.0f} s")
    print("wrote", write_json("run_all-quick" if args.quick else "run_all", out))


if __name__ == "__main__":
    main()
