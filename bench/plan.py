"""`make bench` part two: the week planner (issue 19) on 40, 150, 400 and 1,000 patients.

    python bench/plan.py [--sizes 40,150,400,1000] [--seconds 30] [--workers 2] [--seed 1]
                         [--deterministic]

Instances come from openiop.planning.domain.generate in the shape of the synthetic network
(`openiop synth`'s track templates, openiop/demo/synth/plan.py), with each age band's weekly
minimum from the programs' configured defaults and a group limit of 12 for group therapy (90853:
at most 12 participants, NGS LCD L33632; ../shared/domain.md). For each size it runs plan_week on
wall-clock time (the whole call, eligibility and greedy plan included) and reports feasibility
(every hard rule kept, by the independent checker), the objective, the proven bound and the gap.
Results: bench/results/plan.json and plan.md, with the machine's load average before and after
each size (the 2 cores may be shared). `--deterministic`: limit by CP-SAT's deterministic time
instead (the same plan whatever the load; wall-clock then varies), results in plan-det.json/.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.config.settings")

from openiop.demo.synth.plan import TRACK_TEMPLATES  # noqa: E402
from openiop.planning.domain.check import check_solution  # noqa: E402
from openiop.planning.domain.generate import BlockShape, TrackShape, generate_week  # noqa: E402
from openiop.planning.domain.jsonio import solution_to_dict  # noqa: E402
from openiop.planning.domain.model import Instance, SessionType  # noqa: E402
from openiop.planning.domain.plan import plan_week  # noqa: E402
from openiop.programs.domain import DEFAULT_WEEKLY_MINIMUM_MINUTES  # noqa: E402

RESULTS = ROOT / "bench" / "results"
GOALS = {40: None, 150: 0.01, 400: 0.01, 1000: 0.02}  # issue 19 point 5

# Session types of the synthetic network. 12: group psychotherapy (90853) holds at most 12
# participants (NGS LCD L33632, domain.md s.3); the other groups are limited by their rooms.
SESSION_TYPES = (
    SessionType("group_therapy", 12, ("licensed",)),
    SessionType("psychoeducation"),
    SessionType("skills"),
    SessionType("holistic"),
    SessionType("family_group", None, ("licensed",)),
    SessionType("individual", 1, ("licensed",), optional=True, max_per_patient=1),
)


def tracks() -> list[TrackShape]:
    return [
        TrackShape(
            t.name,
            t.age_band,
            t.weekdays,
            tuple(
                BlockShape(b.start.hour * 60 + b.start.minute, b.duration_minutes, b.kind)
                for b in t.blocks
            ),
            t.share,
        )
        for t in TRACK_TEMPLATES
    ]


def instance_for(patients: int, *, seed: int) -> Instance:
    return generate_week(
        patients=patients,
        seed=seed,
        tracks=tracks(),
        minimum_minutes=DEFAULT_WEEKLY_MINIMUM_MINUTES,
        session_types=SESSION_TYPES,
        individual_type="individual",
    )


def run_size(
    patients: int, *, seconds: float, workers: int, seed: int, deterministic: bool = False
) -> dict[str, Any]:
    instance = instance_for(patients, seed=seed)
    load_before = os.getloadavg()[0]
    solution = plan_week(
        instance,
        time_limit_seconds=seconds,
        seed=seed,
        workers=workers,
        deterministic=deterministic,
    )
    load_after = os.getloadavg()[0]
    violations = check_solution(instance, solution)
    goal = GOALS.get(patients)
    return {
        "patients": patients,
        "sessions": len(instance.sessions),
        "staff": len(instance.staff),
        "feasible": not violations,
        "violations": len(violations),
        "status": solution.status,
        "solver": solution.solver,
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "gap_goal": goal,
        "within_goal": not violations and (goal is None or solution.gap <= goal),
        "shortfall_patients": len(solution.shortfalls),
        "terms": solution_to_dict(solution)["terms"],
        "wall_seconds": solution.wall_seconds,
        "load_1min_before": round(load_before, 2),
        "load_1min_after": round(load_after, 2),
    }


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    clock = "deterministic" if meta.get("deterministic") else "wall-clock"
    lines = [
        f"Week planner, {meta['seconds']:g} s {clock} on {meta['workers']} workers "
        f"({meta['run_at']}, {meta['cores']} cores shared; load = 1-minute load average "
        "before/after each size)",
        "",
        "| patients | feasible | status | objective | bound | gap | goal | short | seconds "
        "| load |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        goal = "-" if r["gap_goal"] is None else f"≤{r['gap_goal']:.0%}"
        lines.append(
            f"| {r['patients']:,} | {'yes' if r['feasible'] else 'NO'} | {r['status']} | "
            f"{r['objective']:,} | {r['bound']:,} | {r['gap']:.2%} | {goal} | "
            f"{r['shortfall_patients']} | {r['wall_seconds']:.1f} | "
            f"{r.get('load_1min_before', 0):.1f}/{r.get('load_1min_after', 0):.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="40,150,400,1000")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--deterministic",
        action="store_true",
        help="limit by CP-SAT's deterministic time (results in plan-det.json/.md)",
    )
    args = parser.parse_args()
    rows = []
    for size in (int(x) for x in args.sizes.split(",") if x):
        row = run_size(
            size,
            seconds=args.seconds,
            workers=args.workers,
            seed=args.seed,
            deterministic=args.deterministic,
        )
        print(json.dumps(row), flush=True)
        rows.append(row)
    meta = {
        "run_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "seconds": args.seconds,
        "workers": args.workers,
        "seed": args.seed,
        "deterministic": args.deterministic,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "plan-det" if args.deterministic else "plan"
    (RESULTS / f"{name}.json").write_text(
        json.dumps({"meta": meta, "sizes": rows}, indent=2) + "\n"
    )
    table = markdown(rows, meta)
    (RESULTS / f"{name}.md").write_text(table)
    print("\n" + table)


if __name__ == "__main__":
    main()
