"""`make bench` part two: the week planner (issue 19) on 40, 150, 400 and 1,000 patients.

    python bench/plan.py [--sizes 40,150,400,1000] [--seconds 30] [--workers 2] [--seed 1]

Instances come from openiop.planning.domain.generate in the shape of the synthetic network
(`openiop synth`'s track templates, openiop/demo/synth/plan.py), with each age band's weekly
minimum from the programs' configured defaults and a group limit of 12 for group therapy (90853:
at most 12 participants, NGS LCD L33632; ../shared/domain.md). For each size it runs plan_week on
wall-clock time and reports feasibility (every hard rule kept, by the independent checker), the
objective, the proven bound and the gap. Results: bench/results/plan.json and plan.md.
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


def run_size(patients: int, *, seconds: float, workers: int, seed: int) -> dict[str, Any]:
    instance = instance_for(patients, seed=seed)
    solution = plan_week(
        instance, time_limit_seconds=seconds, seed=seed, workers=workers, deterministic=False
    )
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
    }


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        f"Week planner, {meta['seconds']:g} s on {meta['workers']} workers "
        f"({meta['run_at']}, {meta['cores']} cores shared)",
        "",
        "| patients | feasible | status | objective | bound | gap | goal | short | seconds |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        goal = "-" if r["gap_goal"] is None else f"≤{r['gap_goal']:.0%}"
        lines.append(
            f"| {r['patients']:,} | {'yes' if r['feasible'] else 'NO'} | {r['status']} | "
            f"{r['objective']:,} | {r['bound']:,} | {r['gap']:.2%} | {goal} | "
            f"{r['shortfall_patients']} | {r['wall_seconds']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="40,150,400,1000")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows = []
    for size in (int(x) for x in args.sizes.split(",") if x):
        row = run_size(size, seconds=args.seconds, workers=args.workers, seed=args.seed)
        print(json.dumps(row), flush=True)
        rows.append(row)
    meta = {
        "run_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "seconds": args.seconds,
        "workers": args.workers,
        "seed": args.seed,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "plan.json").write_text(json.dumps({"meta": meta, "sizes": rows}, indent=2) + "\n")
    table = markdown(rows, meta)
    (RESULTS / "plan.md").write_text(table)
    print("\n" + table)


if __name__ == "__main__":
    main()
