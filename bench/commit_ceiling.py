"""How many durable commits a second PostgreSQL takes on this machine from N connections at once:
the ceiling of any request that must commit a write before it answers, served by N sync workers.

A FHIR read commits its audit entry (every read of patient data is in the audit log before the
data leaves), so with `make bench`'s 3 sync gunicorn workers no FHIR read rate can pass this
figure for 3 connections, however little CPU the read costs. Each connection inserts one row
per transaction (autocommit, synchronous_commit as the server has it) into a scratch table made
for the run and dropped after it.

    python bench/commit_ceiling.py [--connections 1,3,8] [--seconds 4] [--database URL]

Prints one JSON object on its last line: {"connections": {"1": commits_per_s, ...}, ...}.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time
from typing import Any

import psycopg

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
TABLE = "bench_commit_ceiling"


def _committer(url: str, seconds: float, start: Any, out: Any) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        start.wait()
        began, n = time.perf_counter(), 0
        while time.perf_counter() - began < seconds:
            conn.execute(f"INSERT INTO {TABLE} (at) VALUES (now())")
            n += 1
        out.put(n)


def commits_per_second(url: str, connections: int, seconds: float) -> float:
    """Commits a second from `connections` connections committing one-row inserts at once."""
    start = mp.Barrier(connections)
    out: Any = mp.Queue()
    procs = [
        mp.Process(target=_committer, args=(url, seconds, start, out)) for _ in range(connections)
    ]
    for p in procs:
        p.start()
    total = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    return round(total / seconds, 1)


def measure(url: str, counts: list[int], seconds: float) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, at timestamptz NOT NULL)")
        synchronous = conn.execute("SHOW synchronous_commit").fetchone()
    try:
        found = {str(n): commits_per_second(url, n, seconds) for n in counts}
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    return {
        "connections": found,
        "seconds": seconds,
        "synchronous_commit": synchronous[0] if synchronous else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", default="1,3,8")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--database", default=DEFAULT_URL)
    args = parser.parse_args()
    counts = [int(n) for n in args.connections.split(",") if n]
    result = measure(args.database, counts, args.seconds)
    for n, rate in result["connections"].items():
        print(f"{n} connection(s): {rate:,.0f} commits/s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
