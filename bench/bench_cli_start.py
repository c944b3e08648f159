"""Benchmark: how fast the CLI starts — the median of 7 cold starts (each a new process) of the
venv's `leadbridge` entry point, for `leadbridge --help` (the root lists every command from a
static table, no command module imported) and `leadbridge status --help` (imports one module).

Target (issue "Fast and flat"): the CLI starts in under 0.3 s. Wall time is what a person
waits; the CPU time (user + system of the child) is printed too, since on a busy machine the wall
time mostly measures the other processes. `python -c "import typer"` is printed as the floor.

    python bench/bench_cli_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import resource
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


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cold_start(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `argv` in a new process."""
    env = {**os.environ, "COLUMNS": "100"}
    cpu, started = cpu_of_children(), time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started, cpu_of_children() - cpu


def line(label: str, runs: list[tuple[float, float]]) -> str:
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    mark = "" if wall < BOUND_S else "  ✗ over the bound"
    return (
        f"  {label:<28} {wall:.3f} s (ratio {wall / BOUND_S:.2f}; min {min(w for w, _ in runs):.3f}"
        f" s); CPU {cpu:.3f} s (ratio {cpu / BOUND_S:.2f}){mark}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="cold starts per command")
    args, _ = parser.parse_known_args()  # `./dev bench` passes its arguments to every bench
    script = entry_point()
    print(f"CLI start ({args.runs} cold starts each, median; bound {BOUND_S} s)")
    for command in COMMANDS:
        runs = [cold_start([script, *command]) for _ in range(args.runs)]
        print(line(f"leadbridge {' '.join(command)}", runs), flush=True)
    floor = [cold_start([sys.executable, "-c", "import typer"]) for _ in range(args.runs)]
    print(line("floor: python -c 'import typer'", floor).replace("  ✗ over the bound", ""))


if __name__ == "__main__":
    main()
