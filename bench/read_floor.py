"""The floor of a FHIR read (issue 17, point 7: a read at least 0.5x the framework floor's
requests a second): what a read must do with the database, served and measured like the read,
against the same framework floor, in one run.

A read authenticates its bearer token (one statement, which also reads the record) and, before
the record leaves, commits a VIEW entry to the append-only audit log (ADR 13: durably; an entry
lost in a crash would be a read of patient data nobody can account for). bench/read_floor_urls.py
serves those steps alone, through the same middleware as a read and with the read's own code for
each, with no access decision, Part 2 gate, mapping or JSON:

    floor         /healthz (as make bench measures it)
    select        SELECT 1: the cheapest round trip to the database
    insert        the audit entry's bare INSERT, committed: the cheapest durable audit write
    token         the read's token-and-record statement
    audit         the read's audit write, committed
    token+audit   both: the database work of a read and nothing else
    read          the FHIR read itself (/fhir/R4/Patient/<id>, as make bench measures it)

A second server runs the same probes with synchronous_commit off (READ_FLOOR_NO_SYNC), a
diagnostic of what waiting for the commit's WAL flush costs; the app never runs so.

Each server is gunicorn as make bench runs it (3 sync workers), on the 20,000-patient bench
database, driven by wrk (2 threads, 8 connections) for --duration seconds per target, rounds
interleaving every target on both servers; figures are the rounds' medians. Results in
bench/results/read_floor.json and .md (--results names them; --threads N serves gthread workers
of N threads instead, to see whether threads that wait for the database change the picture).

    python bench/read_floor.py [--rounds 5] [--duration 5] [--database openiop_bench_20000]
"""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

from run import (  # bench/ is on sys.path when run as a script
    BUDGET_FHIR_READ_RPS_TO_FLOOR,
    DEFAULT_WORKERS,
    RESULTS,
    free_port,
    log,
    probe,
    start_server,
    wrk,
)

PROBES = {
    "select": "/fhir/R4/$floor-select/{pk}",
    "insert": "/fhir/R4/$floor-insert/{pk}",
    "token": "/fhir/R4/$floor-token/{pk}",
    "audit": "/fhir/R4/$floor-audit/{pk}",
    "token+audit": "/fhir/R4/$floor-token-audit/{pk}",
}


def _server(database: str, workers: int, threads: int, *, no_sync: bool) -> tuple[Any, int]:
    port = free_port()
    extra = ["--pythonpath", "bench", "--env", "DJANGO_SETTINGS_MODULE=read_floor_settings"]
    if threads > 1:
        extra += ["--worker-class", "gthread", "--threads", str(threads)]
    if no_sync:
        extra += ["--env", "READ_FLOOR_NO_SYNC=1"]
    return start_server(database, workers, port, extra), port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="openiop_bench_20000")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per worker (gthread workers when above 1; make bench serves sync workers)",
    )
    parser.add_argument("--results", default="read_floor", help="name of the results files")
    args = parser.parse_args()

    read = next(p for p in probe(args.database)["pages"] if p["name"] == "fhir_read")
    pk = int(read["path"].rsplit("/", 1)[1])
    bearer = f"Authorization: Bearer {read['bearer']}"
    durable, durable_port = _server(args.database, args.workers, args.threads, no_sync=False)
    no_sync, no_sync_port = _server(args.database, args.workers, args.threads, no_sync=True)
    targets: list[tuple[str, int, str, str | None]] = [("floor", durable_port, "/healthz", None)]
    for port, suffix in ((durable_port, ""), (no_sync_port, " (no flush wait)")):
        targets += [(name + suffix, port, p.format(pk=pk), bearer) for name, p in PROBES.items()]
    targets.append(("read", durable_port, read["path"], bearer))
    rps: dict[str, list[float]] = {name: [] for name, *_ in targets}
    try:
        for _name, port, target, header in targets:  # warm every worker's statements and caches
            wrk(f"http://127.0.0.1:{port}{target}", header, duration=2, connections=8, warm_up=True)
        for r in range(args.rounds):
            for name, port, target, header in targets:
                got = wrk(
                    f"http://127.0.0.1:{port}{target}",
                    header,
                    duration=args.duration,
                    connections=args.connections,
                )
                rps[name].append(got["rps"])
            log(f"   round {r + 1}: " + ", ".join(f"{k} {v[-1]:.0f}" for k, v in rps.items()))
    finally:
        for server in (durable, no_sync):
            server.terminate()
            server.wait(timeout=30)
    floor = statistics.median(rps["floor"])
    rows = [
        {
            "target": name,
            "rps": round(statistics.median(values), 1),
            "ratio_to_floor": round(statistics.median(values) / floor, 3),
            "rounds": [round(v, 1) for v in values],
        }
        for name, values in rps.items()
    ]
    result = {
        "database": args.database,
        "workers": args.workers,
        "threads": args.threads,
        "connections": args.connections,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "budget_rps_ratio_to_floor": BUDGET_FHIR_READ_RPS_TO_FLOOR,
        "targets": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.results}.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"FHIR read floor on {args.database}: gunicorn {args.workers} "
        + (f"gthread workers of {args.threads} threads" if args.threads > 1 else "sync workers")
        + f", wrk "
        f"{args.connections} connections, {args.duration} s x {args.rounds} rounds (medians).",
        "",
        "| target | req/s | / floor | rounds |",
        "|---|---:|---:|---|",
        *(
            f"| {row['target']} | {row['rps']:,.0f} | {row['ratio_to_floor']:.2f} | "
            f"{', '.join(f'{v:.0f}' for v in row['rounds'])} |"
            for row in rows
        ),
        "",
    ]
    (RESULTS / f"{args.results}.md").write_text("\n".join(lines))
    log("\n".join(lines))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
