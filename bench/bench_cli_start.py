"""Benchmark: how fast the CLI starts — the median of 7 cold starts (each a new process) of the
venv's `leadbridge` entry point, for `leadbridge --help` (the root lists every command from a
static table, no command module imported) and `leadbridge status --help` (imports one module).

Target (issue "Fast and flat"): the CLI starts in under 0.3 s.

    python bench/bench_cli_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BOUND_S = 0.3
COMMANDS = (["--help"], ["status", "--help"])


def entry_point() -> str:
    """The `leadbridge` script next to this interpreter (the venv's), else the one on PATH."""
    script = Path(sys.executable).parent / "leadbridge"
    if script.exists():
        return str(script)
    found = shutil.which("leadbridge")
    if found is None:
        sys.exit("no `leadbridge` entry point: install the project (./dev lint) first")
    return found


def cold_start(argv: list[str]) -> float:
    env = {**os.environ, "COLUMNS": "100"}
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="cold starts per command")
    args, _ = parser.parse_known_args()  # `./dev bench` passes its arguments to every bench
    script = entry_point()
    print(f"CLI start ({args.runs} cold starts each, median; bound {BOUND_S} s)")
    for command in COMMANDS:
        times = [cold_start([script, *command]) for _ in range(args.runs)]
        median = statistics.median(times)
        mark = "" if median < BOUND_S else "  ✗ over the bound"
        print(
            f"  leadbridge {' '.join(command):<16} {median:.3f} s (ratio {median / BOUND_S:.2f}; "
            f"min {min(times):.3f} s, max {max(times):.3f} s){mark}",
            flush=True,
        )


if __name__ == "__main__":
    main()
