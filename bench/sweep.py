"""Which gunicorn worker set-up serves best on this machine: the floor and one page, per set-up.

    PYTHONPATH=. python bench/sweep.py [--page patient_chart] [--rounds 2] [--duration 8]

Uses the 20,000-patient bench database (run `make bench` once first) and prints one line per
set-up and round, then the median p95 and req/s per set-up. Set-ups run in turn within each
round, so a change in the machine's load hits them all alike.
"""

from __future__ import annotations

import argparse
import signal
import statistics
from typing import Any

import run  # bench/run.py, imported from this directory

SETUPS: dict[str, tuple[int, list[str]]] = {
    "sync x2": (2, []),
    "sync x3": (3, []),
    "sync x4": (4, []),
    "sync x5": (5, []),
    "gthread 2x4": (2, ["--worker-class", "gthread", "--threads", "4"]),
    "gthread 3x2": (3, ["--worker-class", "gthread", "--threads", "2"]),
}


def measure(setup: str, page: dict[str, Any], db: str, duration: int, connections: int) -> dict:
    workers, extra = SETUPS[setup]
    port = run.free_port()
    server = run.start_server(db, workers, port, extra)
    base = f"http://127.0.0.1:{port}"
    try:
        cookie = run.login(base, page["user"])
        out = {}
        for name, path, c in (("floor", "/healthz", None), (page["name"], page["path"], cookie)):
            run.wrk(base + path, c, duration=2, connections=connections)
            out[name] = run.wrk(base + path, c, duration=duration, connections=connections)
        return out
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", default="patient_chart")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    db = "openiop_bench_20000"
    page = next(p for p in run.probe(db)["pages"] if p["name"] == args.page)
    results: dict[str, list[dict]] = {s: [] for s in SETUPS}
    for r in range(args.rounds):
        for setup in SETUPS:
            got = measure(setup, page, db, args.duration, args.connections)
            results[setup].append(got)
            f, p = got["floor"], got[args.page]
            run.log(
                f"round {r + 1} {setup:<12} floor {f['rps']:7.0f} req/s p95 {f['p95_ms']:6.2f} ms"
                f" | {args.page} {p['rps']:6.0f} req/s p95 {p['p95_ms']:7.2f} ms"
                f" ratio {p['p95_ms'] / f['p95_ms']:5.1f}"
            )
    run.log("\nmedians:")
    for setup, rows in results.items():
        fp = statistics.median(x["floor"]["p95_ms"] for x in rows)
        frps = statistics.median(x["floor"]["rps"] for x in rows)
        pp = statistics.median(x[args.page]["p95_ms"] for x in rows)
        prps = statistics.median(x[args.page]["rps"] for x in rows)
        run.log(f"| {setup} | {frps:.0f} | {fp:.2f} | {prps:.0f} | {pp:.1f} | {pp / fp:.1f} |")


if __name__ == "__main__":
    main()
