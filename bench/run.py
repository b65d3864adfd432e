"""`make bench`: the pages' speed against a framework floor, at 20,000 and 1,000 patients, in one run.

For each size it makes sure a PostgreSQL database filled by `openiop synth` exists (built once,
then reused), tunes that database (per-database settings only), counts each page's SQL queries
(bench/probe.py), serves each database with its own gunicorn and drives wrk on 127.0.0.1 against
the floor (/healthz, no database) and each page, page by page on one size then the other, while a
writer changes every site's data a few times a minute; then again with the page cache off. It reports requests/s, p50/p95/p99, each page's p95 over the
floor's p95 from the same server run, the growth from 1,000 to 20,000 patients, SQL queries per
request, and each worker's peak memory. Results: bench/results/latest.json and latest.md, and the
table in README.md between the bench markers.

Only the loopback address is ever a target. Each wrk run is bounded by --duration.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import http.cookiejar
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
PG_ADMIN = os.environ.get("OPENIOP_BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
PASSWORD = "openiop-bench"
# gunicorn sync workers on 2 cores: 3 measured best for the Today page (see docs/decisions.md).
DEFAULT_WORKERS = 3
# Budgets from issue 6, as ratios measured in one run.
BUDGET_TO_FLOOR = 5.0
BUDGET_GROWTH = 1.25
# Issue 16 point 8: a month-end claims build for the whole network, as a background job, within
# twice the SQL aggregation that feeds it.
BUDGET_CLAIMS_BUILD = 2.0
# Issue 17 point 7: a FHIR read serves at least half the floor's requests per second; a FHIR
# search (by patient, by code) at 20,000 patients within 1.25x its p95 at 1,000.
BUDGET_FHIR_READ_RPS_TO_FLOOR = 0.5
# Other people's work while a page is measured: changes per site per minute. The synthetic network
# itself implies about 0.9: over 26 weeks of 5 program days of 10 hours (78,000 minutes) its 50
# sites write about 3.5 million transactions (350,000 rosters at about two each, 1.18 million
# questionnaires, 330,000 notes at about four saves each, 54,000 plans at about four, 60,000 stage
# changes, 26,000 episodes at about three). Twice that, rounded up.
SITE_WRITES_PER_MINUTE = 2.0
# Per-database settings for the bench databases (no server restart, nothing global).
PG_TUNING = {
    "random_page_cost": "1.1",
    "effective_cache_size": "'8GB'",
    "work_mem": "'16MB'",
    "jit": "off",
}


def log(message: str) -> None:
    print(message, flush=True)


def db_url(name: str) -> str:
    parts = urllib.parse.urlsplit(PG_ADMIN)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def openiop(args: list[str], database: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url(database)}
    return subprocess.run([str(BIN / "openiop"), *args], env=env, check=True, text=True, **kwargs)


def ensure_database(name: str, *, sites: int, patients: int, seed: int, rebuild: bool) -> None:
    """Create and fill the database unless it already holds a network with sessions today."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        state = _state(name, patients) if exists and not rebuild else STALE
        if state == FRESH:
            log(f"== {name}: reusing the synthetic network already there (migrating it)")
            openiop(["migrate", "--no-input", "-v0"], name)  # new indexes reach a kept database
            openiop(["pagecache_triggers", "-v0"], name)
            return
        if state == LACKS_CARE:
            # A network built before synth's care step: add that step alone (a few minutes at
            # 20,000 patients) rather than build everything again (half an hour).
            log(f"== {name}: adding synth's care step to the network already there")
            openiop(["migrate", "--no-input", "-v0"], name)
            openiop(["pagecache_triggers", "-v0"], name)
            openiop(["synth", "--add", "care", "--seed", str(seed)], name)
            with psycopg.connect(db_url(name), autocommit=True) as conn:
                conn.execute(f"VACUUM ANALYZE {', '.join(CARE_TABLES)}")
            return
        if exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        for key, value in PG_TUNING.items():
            conn.execute(f'ALTER DATABASE "{name}" SET {key} = {value}')
    log(f"== {name}: migrating and filling ({patients:,} patients, {sites} sites)")
    openiop(["migrate", "--no-input", "-v0"], name)
    openiop(["pagecache_triggers", "-v0"], name)
    openiop(
        [
            "synth",
            "--sites",
            str(sites),
            "--patients",
            str(patients),
            "--weeks",
            "26",
            "--seed",
            str(seed),
        ],
        name,
    )
    with psycopg.connect(db_url(name), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


# Tables a current `openiop synth` fills: a database built before one of them was added is rebuilt.
FILLED_TABLES = (
    "measures_response",
    "measures_safetyalert",
    "admissions_inquiry",
    "treatment_treatmentplan",
    "notes_progressnote",
    "billing_coverage",
)
# Tables synth's care step fills (openiop/demo/synth/care.py): a network that has every table above
# but none of these gets only that step (`openiop synth --add care`), not a rebuild.
CARE_TABLES = (
    "casemgmt_communityresource",
    "casemgmt_referral",
    "casemgmt_casetask",
    "casemgmt_supportrequest",
    "medications_medication",
    "medications_allergy",
    "medications_matepisode",
    "medications_doseadministration",
    "medications_adherencenote",
    "drugtests_drugtestorder",
    "drugtests_drugtestresult",
    "drugtests_reconciliationflag",
)
FRESH, LACKS_CARE, STALE = "fresh", "lacks care", "stale"


def _state(name: str, patients: int) -> str:
    """FRESH: the network is complete and its schedule still reaches today (sessions run 2 weeks
    ahead); LACKS_CARE: so, but the care step's tables are empty; STALE otherwise."""
    try:
        with psycopg.connect(db_url(name)) as conn:
            count = conn.execute("SELECT count(*) FROM patients_patient").fetchone()
            ahead = conn.execute("SELECT max(date) FROM programs_groupsession").fetchone()

            def filled(tables: tuple[str, ...]) -> list[bool]:
                return [
                    conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone() == (True,)
                    for table in tables
                ]

            base = all(filled(FILLED_TABLES))
            care = filled(CARE_TABLES)
    except psycopg.Error:
        return STALE
    current = bool(
        base
        and count
        and count[0] == patients
        and ahead
        and ahead[0]
        and ahead[0] >= dt.datetime.now(dt.UTC).date() + dt.timedelta(days=3)  # synth's today
    )
    if not current:
        return STALE
    # The step writes all its tables in one transaction: any of them filled means it ran (a small
    # network may leave one of them empty).
    return FRESH if any(care) else LACKS_CARE


def probe(name: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "probe.py")],
        env={**os.environ, "DATABASE_URL": db_url(name), "OPENIOP_SECRET_KEY": "bench-only-key"},
        check=True,
        text=True,
        capture_output=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def claims_build(name: str) -> dict[str, Any]:
    """A month-end claims build of the whole network as a background job against the SQL
    aggregation that feeds it (bench/claims_build.py; the claims are undone afterwards).

    Settled first (VACUUM ANALYZE, CHECKPOINT) as the pages are: a build and its undo leave a dead
    version of every charge, claim and line they wrote (about 100,000 charges' at 20,000
    patients), the bench server runs without autovacuum, and without it each run would start
    from a more bloated, wrongly analyzed database than the last. Settled, the claim tables are
    empty and analyzed as empty, as after the database was built: the first month-end build of a
    new installation, whose foreign-key checks against billing_claim run as sequential scans
    (bench/results/claims_profile.md)."""
    settle(name)
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "claims_build.py")],
        env={**os.environ, "DATABASE_URL": db_url(name), "OPENIOP_SECRET_KEY": "bench-only-key"},
        check=True,
        text=True,
        capture_output=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    log(
        f"   {name:<20} claims build: {result['claims']:,} claims from {result['charges']:,} "
        f"charges in {result['build_ms']:,.0f} ms; the SQL aggregation {result['sql_ms']:.1f} ms;"
        f" ratio {result['ratio']:,.1f} (budget {BUDGET_CLAIMS_BUILD:g})"
    )
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    name: str,
    workers: int,
    port: int,
    extra: list[str] | None = None,
    *,
    page_cache: bool = True,
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OPENIOP_PAGE_CACHE": "1" if page_cache else "0",
        "DATABASE_URL": db_url(name),
        "OPENIOP_SECRET_KEY": "bench-only-key",
        "OPENIOP_DEBUG": "0",
        "OPENIOP_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "OPENIOP_LOGIN_FAILURE_LIMIT": "1000",
    }
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "openiop.config.wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "-" if os.environ.get("OPENIOP_BENCH_ACCESS_LOG") else "/dev/null",
            "--log-level",
            "warning",
            "--max-requests",
            "0",
            *(extra or []),
        ],
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def login(base: str, username: str) -> str:
    """Log in through the real form (not following its redirect); returns wrk's Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    opener.open(f"{base}/accounts/login/").read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    data = urllib.parse.urlencode(
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}
    )
    try:
        opener.open(request).read()
    except urllib.error.HTTPError as exc:  # the 302 to the next page, not followed
        if exc.code != 302:
            raise
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise SystemExit(f"could not log in as {username}")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def wrk(
    url: str, header: str | None, *, duration: int, connections: int, warm_up: bool = False
) -> dict[str, Any]:
    """wrk's figures for `url`; `header` ("Cookie: ..." or "Authorization: Bearer ...") is sent
    with every request."""
    args = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(ROOT / "bench" / "report.lua"),
        url,
    ]
    if header:
        args[1:1] = ["-H", header]
    out = subprocess.run(args, check=True, text=True, capture_output=True).stdout
    line = next(row for row in reversed(out.splitlines()) if row.startswith("{"))
    data = json.loads(line)
    if warm_up:  # a slow page may finish nothing in the warm-up; the measured run says so
        return data
    if data["requests"] == 0:
        raise SystemExit(f"{url}: no request finished within {duration} s")
    if data["non_2xx_3xx"] or data["socket_errors"]:
        raise SystemExit(
            f"{url}: {data['non_2xx_3xx']} error answers, {data['socket_errors']} socket errors"
        )
    seconds = data["duration_us"] / 1e6
    return {
        "requests": data["requests"],
        "rps": round(data["requests"] / seconds, 1),
        "p50_ms": data["p50_us"] / 1000,
        "p95_ms": data["p95_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
    }


def worker_peak_mb(master: int) -> list[float]:
    """VmHWM (peak resident memory) of each worker process of the gunicorn master."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    peaks = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            peaks.append(round(int(match.group(1)) / 1024, 1))
    return peaks


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time the processes have used (seconds), from /proc/<pid>/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def worker_pids(master: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


class BackendCpu(threading.Thread):
    """CPU seconds used by the PostgreSQL processes serving `database` while it runs.

    Connections come and go (Django recycles them after CONN_MAX_AGE), so it samples every
    half second and sums, per server process, the last reading minus the first (0 for a process
    that started during the run, so opening a connection counts too).
    """

    def __init__(self, database: str) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.stopping = threading.Event()
        self._sample(initial=True)

    def _sample(self, *, initial: bool = False) -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name <> %s",
                [self.database, WRITER_APP],
            ).fetchall()
        for (pid,) in rows:
            used = cpu_seconds([int(pid)])
            self.first.setdefault(int(pid), used if initial else 0.0)
            self.last[int(pid)] = used

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            self._sample()

    def stop(self) -> float:
        self.stopping.set()
        self.join()
        self._sample()
        return sum(max(0.0, self.last[pid] - self.first[pid]) for pid in self.last)


WRITER_APP = "openiop-bench-writer"


@functools.cache
def writer_rows(database: str) -> list[int]:
    """One attendance row per site, which the writer changes in turn. Found once per database,
    before any measuring: the query reads the whole attendance table (2.5 million rows at 20,000
    patients), and run at the start of each page's measurement it was most of the 20k tail."""
    with psycopg.connect(db_url(database)) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT min(a.id) FROM attendance_attendance a "
                "JOIN programs_groupsession s ON s.id = a.session_id GROUP BY s.site_id"
            ).fetchall()
        ]


class Writer(threading.Thread):
    """Other people's work going on while a page is measured: every site changes a row of its
    attendance `per_site_per_minute` times a minute (a no-op UPDATE, which the page cache's
    triggers count like any change), so a cached page is rendered again as often as its site's
    data changes, as it would be in a working network."""

    def __init__(self, database: str, per_site_per_minute: float) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.per_site_per_minute = per_site_per_minute
        self.stopping = threading.Event()
        self.writes = 0

    def run(self) -> None:
        if self.per_site_per_minute <= 0:
            return
        rows = writer_rows(self.database)
        if not rows:
            return
        url = db_url(self.database)
        with psycopg.connect(url, autocommit=True, application_name=WRITER_APP) as conn:
            interval = 60.0 / (self.per_site_per_minute * len(rows))
            i = 0
            while not self.stopping.wait(interval):
                conn.execute(
                    "UPDATE attendance_attendance SET comment = comment WHERE id = %s",
                    [rows[i % len(rows)]],
                )
                i += 1
                self.writes += 1

    def stop(self) -> int:
        self.stopping.set()
        self.join(timeout=10)
        return self.writes


def settle(name: str) -> None:
    """Vacuum, analyze and checkpoint before measuring, so that background work the last run
    left behind (autovacuum, a checkpoint) does not land in the middle of this one."""
    with psycopg.connect(db_url(name), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")


def measure(
    names: list[str],
    *,
    workers: int,
    duration: int,
    connections: int,
    only: set[str] | None,
    page_cache: bool = True,
    site_writes_per_minute: float = 0.0,
    probed: dict[str, dict[str, Any]],
    rounds_per_page: int = 1,
) -> dict[str, dict[str, Any]]:
    """Serve each database with its own gunicorn (all started together) and measure every page
    on each in turn, page by page: the sizes are compared under the same conditions, not minutes
    apart."""
    servers: dict[str, subprocess.Popen[bytes]] = {}
    bases: dict[str, str] = {}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    peaks: dict[str, list[float]] = {}
    try:
        for name in names:
            writer_rows(name)  # before the load: it reads the whole attendance table
            settle(name)
            port = free_port()
            servers[name] = start_server(name, workers, port, page_cache=page_cache)
            bases[name] = f"http://127.0.0.1:{port}"
        cookies = {
            name: {
                u: login(bases[name], u)
                for u in {p["user"] for p in probed[name]["pages"] if p["user"]}
            }
            for name in names
        }
        page_names = [
            p["name"]
            for p in probed[names[0]]["pages"]
            if only is None or p["name"] in only or p["name"] == "floor"
        ]
        for page_name in page_names:
            rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
            for round_number in range(rounds_per_page):
                for name in names:  # one size, then the other, in every round
                    page = next(p for p in probed[name]["pages"] if p["name"] == page_name)
                    rounds[name].append(
                        _measure_page(
                            name,
                            servers[name],
                            bases[name] + page["path"],
                            request_header(page, cookies[name]),
                            duration=duration,
                            connections=connections,
                            site_writes_per_minute=site_writes_per_minute,
                            warm_up=round_number == 0,
                        )
                    )
            for name in names:
                page = next(p for p in probed[name]["pages"] if p["name"] == page_name)
                result = _median_of(rounds[name])
                result.update(
                    name=page["name"],
                    path=page["path"],
                    queries=page["queries"] if page_cache else page["queries_rendered"],
                    queries_rendered=page["queries_rendered"],
                    cache=page.get("cache", "none") if page_cache else "off",
                    budget=page.get("budget", "page"),
                )
                each = ", ".join(f"{r['p95_ms']:.1f}" for r in rounds[name])
                log(
                    f"   {name:<20} {page['name']:<20} {result['rps']:>8.1f} req/s"
                    f"  p50 {result['p50_ms']:7.1f} ms  p95 {result['p95_ms']:7.1f} ms"
                    f"  p99 {result['p99_ms']:7.1f} ms  {result['queries']} queries"
                    f"  CPU {result['cpu_ms']:.2f} + db {result['db_cpu_ms']:.2f} ms/req"
                    f"  (p95 each round: {each})"
                )
                results[name].append(result)
        peaks = {name: worker_peak_mb(server.pid) for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.send_signal(signal.SIGTERM)
        for server in servers.values():
            server.wait(timeout=30)
    return {
        name: {
            "today": probed[name]["today"],
            "pages": results[name],
            "worker_peak_mb": peaks.get(name, []),
        }
        for name in names
    }


MEDIAN_KEYS = ("rps", "p50_ms", "p95_ms", "p99_ms", "cpu_ms", "db_cpu_ms")


def _median_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One page's figures over its rounds: the median of each (a round that something else on the
    machine disturbed moves it less than a mean or one longer run), every round kept too."""
    result: dict[str, Any] = {k: statistics.median(r[k] for r in rounds) for k in MEDIAN_KEYS}
    result["requests"] = sum(r["requests"] for r in rounds)
    result["writes_during_run"] = sum(r["writes_during_run"] for r in rounds)
    result["rounds"] = rounds
    return result


def request_header(page: dict[str, Any], cookies: dict[str, str]) -> str | None:
    """How a page's requests prove who makes them: its user's session cookie, or the bearer
    token of the FHIR client the probe registered."""
    if page.get("user"):
        return f"Cookie: {cookies[page['user']]}"
    if page.get("bearer"):
        return f"Authorization: Bearer {page['bearer']}"
    return None


def _measure_page(
    name: str,
    server: subprocess.Popen[bytes],
    url: str,
    header: str | None,
    *,
    duration: int,
    connections: int,
    site_writes_per_minute: float,
    warm_up: bool = True,
) -> dict[str, Any]:
    if warm_up:
        wrk(url, header, duration=2, connections=connections, warm_up=True)
    # CPU per request, of the workers and of their database connections: unlike the latencies
    # it does not depend on what else the machine runs at the same time.
    app = worker_pids(server.pid)
    app_before, db = cpu_seconds(app), BackendCpu(name)
    writer = Writer(name, site_writes_per_minute)
    db.start()
    writer.start()
    result = wrk(url, header, duration=duration, connections=connections)
    result["writes_during_run"] = writer.stop()
    db_used = db.stop()
    per_request = 1000 / result["requests"]
    result["cpu_ms"] = round((cpu_seconds(app) - app_before) * per_request, 3)
    result["db_cpu_ms"] = round(db_used * per_request, 3)
    return result


def report(
    runs: dict[int, dict[str, Any]], big: int, small: int, meta: dict[str, Any]
) -> dict[str, Any]:
    def by_name(size: int) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in runs[size]["pages"]}

    big_pages, small_pages = by_name(big), by_name(small)
    uncached = {p["name"]: p for p in runs[big].get("uncached", {}).get("pages", [])}
    uncached_floor = uncached["floor"]["p95_ms"] if "floor" in uncached else None
    floor_big, floor_small = big_pages["floor"]["p95_ms"], small_pages["floor"]["p95_ms"]
    floor_cpu = max(big_pages["floor"].get("cpu_ms", 0.0), 0.001)

    def cpu(page: dict[str, Any] | None) -> float | None:
        if page is None or "cpu_ms" not in page:
            return None
        return round(page["cpu_ms"] + page["db_cpu_ms"], 3)

    floor_rps = big_pages["floor"]["rps"]
    pages = []
    for name, page in big_pages.items():
        if name == "floor":
            continue
        other = small_pages.get(name)
        to_floor = round(page["p95_ms"] / floor_big, 2)
        growth = round(page["p95_ms"] / other["p95_ms"], 2) if other else None
        rps_to_floor = round(page["rps"] / floor_rps, 2) if floor_rps else None
        same_queries = other is None or page["queries"] == other["queries"]
        kind = page.get("budget", "page")
        pages.append(
            {
                "name": name,
                "path": page["path"],
                "rps": page["rps"],
                "p50_ms": page["p50_ms"],
                "p95_ms": page["p95_ms"],
                "p99_ms": page["p99_ms"],
                "queries": page["queries"],
                "queries_1k": other["queries"] if other else None,
                "p95_ms_1k": other["p95_ms"] if other else None,
                "p95_ratio_to_floor": to_floor,
                "p95_ratio_to_floor_1k": round(other["p95_ms"] / floor_small, 2) if other else None,
                "p95_ratio_20k_to_1k": growth,
                "cpu_ms_per_request": cpu(page),
                "app_cpu_ms_per_request": page.get("cpu_ms"),
                "db_cpu_ms_per_request": page.get("db_cpu_ms"),
                "cpu_ms_per_request_1k": cpu(other),
                "cpu_ratio_to_floor": round(cpu(page) / floor_cpu, 1) if cpu(page) else None,
                "cache": page.get("cache"),
                "queries_rendered": page.get("queries_rendered"),
                "writes_during_run": page.get("writes_during_run"),
                # The same page with the page cache off, against that run's floor: what every
                # request would cost if the page's site changed between any two of them.
                "p95_uncached_ms": uncached[name]["p95_ms"] if name in uncached else None,
                "p95_uncached_ratio_to_floor": round(uncached[name]["p95_ms"] / uncached_floor, 2)
                if name in uncached and uncached_floor
                else None,
                "cpu_uncached_ms_per_request": cpu(uncached.get(name)),
                "budget": kind,
                "rps_ratio_to_floor": rps_to_floor,
                "within_budget": within_budget(kind, to_floor, growth, rps_to_floor)
                and same_queries,
            }
        )
    return {
        **meta,
        "budgets": {
            "p95_ratio_to_floor": BUDGET_TO_FLOOR,
            "p95_ratio_20k_to_1k": BUDGET_GROWTH,
            "fhir_read_rps_ratio_to_floor": BUDGET_FHIR_READ_RPS_TO_FLOOR,
        },
        "floor": {
            "p95_ms": floor_big,
            "p95_ms_1k": floor_small,
            "rps": big_pages["floor"]["rps"],
            "cpu_ms_per_request": big_pages["floor"].get("cpu_ms"),
        },
        "pages": pages,
        "worker_peak_mb": {
            str(big): runs[big]["worker_peak_mb"],
            str(small): runs[small]["worker_peak_mb"],
        },
        "runs": {str(k): run for k, run in runs.items()},
    }


def within_budget(
    kind: str, to_floor: float, growth: float | None, rps_to_floor: float | None
) -> bool:
    """A page's budget by its kind: a page (issue 6) within 5x the floor's p95 and 1.25x from
    1,000 to 20,000 patients; a FHIR read (issue 17) at least half the floor's requests per
    second; a FHIR search within 1.25x from 1,000 to 20,000 patients."""
    grows_ok = growth is None or growth <= BUDGET_GROWTH
    if kind == "fhir_read":
        return rps_to_floor is not None and rps_to_floor >= BUDGET_FHIR_READ_RPS_TO_FLOOR
    if kind == "fhir_search":
        return grows_ok
    return to_floor <= BUDGET_TO_FLOOR and grows_ok


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Measured {result['run_at']} on {result['machine']['cores']} cores, gunicorn "
        f"{result['server']['workers']} workers, wrk {result['load']['connections']} connections, "
        f"{result['load'].get('rounds', 1)} rounds of {result['load']['duration_s']} s per page and "
        "size, sizes alternating (each figure is the median of its rounds). Floor (/healthz) p95: "
        f"{result['floor']['p95_ms']:.2f} ms at 20k, {result['floor']['p95_ms_1k']:.2f} ms at 1k.",
        "",
        f"Each site changed {result['load'].get('site_writes_per_minute', 0):g} times a minute "
        "while its pages were measured, so cached pages were rendered again as their data changed. "
        "The last column is the same page with the page cache off (every request rendered), "
        "against that run's floor.",
        "",
        "| page | req/s | p50 ms | p95 ms | p99 ms | p95 / floor | p95 20k / 1k | queries "
        "| CPU ms/req (app + db) | CPU / floor | within budget | served | rendered: queries, "
        "p95 / floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|---:|",
    ]
    for p in result["pages"]:
        growth = f"{p['p95_ratio_20k_to_1k']:.2f}" if p["p95_ratio_20k_to_1k"] is not None else "—"
        lines.append(
            f"| {p['name']} | {p['rps']:.0f} | {p['p50_ms']:.1f} | {p['p95_ms']:.1f} | "
            f"{p['p99_ms']:.1f} | {p['p95_ratio_to_floor']:.2f} | {growth} | {p['queries']} | "
            f"{p['app_cpu_ms_per_request']:.2f} + {p['db_cpu_ms_per_request']:.2f} | "
            f"{p['cpu_ratio_to_floor']:.1f} | {'yes' if p['within_budget'] else '**no**'} | "
            f"{'from cache' if p.get('cache') in ('hit', 'miss') else 'rendered'} | "
            f"{p.get('queries_rendered', '—')}, {_ratio(p.get('p95_uncached_ratio_to_floor'))} |"
        )
    fhir = [p for p in result["pages"] if p.get("budget", "page").startswith("fhir")]
    if fhir:
        lines += [
            "",
            "FHIR budgets (issue 17): a read serves at least "
            f"{result['budgets']['fhir_read_rps_ratio_to_floor']:g}x the floor's requests per "
            f"second ({result['floor']['rps']:.0f} req/s); a search's p95 at 20k is within "
            f"{result['budgets']['p95_ratio_20k_to_1k']:g}x its p95 at 1k.",
            "",
        ]
        for p in fhir:
            lines.append(
                f"- {p['name']} ({p['path']}): {p['rps']:.0f} req/s = "
                f"{_ratio(p.get('rps_ratio_to_floor'))}x the floor; p95 20k / 1k "
                f"{_ratio(p['p95_ratio_20k_to_1k'])}; "
                f"{'within budget' if p['within_budget'] else '**over budget**'}"
            )
        ceiling = result.get("commit_ceiling")
        if ceiling:
            n, rate = next(iter(ceiling["connections"].items()))
            lines += [
                "",
                f"Durable commits on this machine from {n} connections at once (one per sync "
                f"worker; bench/commit_ceiling.py, synchronous_commit "
                f"{ceiling['synchronous_commit']}): {rate:,.0f} a second. A FHIR read commits "
                "its audit entry before it answers, so no read rate can pass that with "
                f"{n} sync workers; the read budget asks for "
                f"{result['floor']['rps'] * result['budgets']['fhir_read_rps_ratio_to_floor']:,.0f}"
                " req/s.",
            ]
    peaks = result["worker_peak_mb"]
    lines += [
        "",
        f"Floor CPU: {result['floor']['cpu_ms_per_request']:.3f} ms per request. CPU per request "
        "(gunicorn workers plus their PostgreSQL connections, from /proc) does not depend on "
        "the machine's other load the way latencies do; the budgets are on p95.",
        "Peak memory per worker (MB): " + "; ".join(f"{k} patients: {v}" for k, v in peaks.items()),
    ]
    return "\n".join(lines) + "\n"


def claims_report(builds: dict[int, dict[str, Any]], big: int, small: int) -> dict[str, Any]:
    """The claims build at each size, its ratio to the SQL aggregation (the budget is on the big
    network's) and the growth of the build's time from the small network to the big one."""
    main = builds[big]
    other = builds.get(small)
    return {
        "budget_ratio_to_sql": BUDGET_CLAIMS_BUILD,
        "period": main["period"],
        "sizes": {str(k): v for k, v in builds.items()},
        "ratio_to_sql": main["ratio"],
        "ratio_to_sql_1k": other["ratio"] if other else None,
        "build_ms_20k_to_1k": round(main["build_ms"] / other["build_ms"], 2) if other else None,
        "within_budget": bool(main["within_budget"]),
    }


def claims_markdown(claims: dict[str, Any]) -> str:
    rows = [
        "",
        f"Month-end claims build ({claims['period']}), a background job (billing.tasks."
        "build_claims on the task queue, run by a worker) against the SQL aggregation that feeds "
        f"it (budget {claims['budget_ratio_to_sql']:g}x):",
        "",
        "| patients | charges | claims | build ms | SQL ms | build / SQL | within budget |",
        "|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for size, b in sorted(claims["sizes"].items(), key=lambda kv: -int(kv[0])):
        rows.append(
            f"| {int(size):,} | {b['charges']:,} | {b['claims']:,} | {b['build_ms']:,.0f} | "
            f"{b['sql_ms']:.1f} | {b['ratio']:,.1f} | {'yes' if b['within_budget'] else '**no**'} |"
        )
    return "\n".join(rows) + "\n"


def claims_only(args: argparse.Namespace) -> None:
    """`--claims-build-only`: the claims build on both databases (built or reused as for the
    pages), printed and saved as bench/results/claims_build.json; README and latest.* untouched."""
    sizes = {
        args.patients: args.sites,
        args.small: max(1, round(args.sites * args.small / args.patients)),
    }
    names = {patients: f"openiop_bench_{patients}" for patients in sizes}
    for patients, sites in sizes.items():
        ensure_database(
            names[patients], sites=sites, patients=patients, seed=args.seed, rebuild=args.rebuild
        )
    log("== the month-end claims build, as a background job, against its SQL aggregation")
    builds = {patients: claims_build(name) for patients, name in names.items()}
    claims = claims_report(builds, args.patients, args.small)
    claims["run_at"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "claims_build.json").write_text(json.dumps(claims, indent=2) + "\n")
    log(claims_markdown(claims))
    log("Within budget." if claims["within_budget"] else "Over budget: claims_build")


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def update_readme(table: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        readme.write_text(f"{before}{start}\n{table}{end}{after}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--duration", type=int, default=5, help="seconds per page and round")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds per page, each on both sizes; the figures are the rounds' medians",
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--pages", default="", help="comma-separated page names (default all)")
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument(
        "--results",
        default="latest",
        help="name of the results files in bench/results/ (e.g. 'fhir' with --pages fhir_read,...)",
    )
    parser.add_argument(
        "--site-writes-per-minute",
        type=float,
        default=SITE_WRITES_PER_MINUTE,
        help="changes each site makes a minute while pages are measured (0: none)",
    )
    parser.add_argument(
        "--no-uncached",
        action="store_true",
        help="skip the second run with the page cache off (every request rendered afresh)",
    )
    parser.add_argument(
        "--claims-build-only",
        action="store_true",
        help="measure only the month-end claims build (no pages, no wrk); prints its numbers",
    )
    parser.add_argument(
        "--no-claims-build", action="store_true", help="skip the month-end claims build"
    )
    args = parser.parse_args()
    if args.claims_build_only:
        claims_only(args)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    only = {p for p in args.pages.split(",") if p} or None
    sizes = {
        args.patients: args.sites,
        args.small: max(1, round(args.sites * args.small / args.patients)),
    }
    names = {patients: f"openiop_bench_{patients}" for patients in sizes}
    for patients, sites in sizes.items():
        ensure_database(
            names[patients], sites=sites, patients=patients, seed=args.seed, rebuild=args.rebuild
        )
    probed = {name: probe(name) for name in names.values()}
    builds: dict[int, dict[str, Any]] = {}
    if not args.no_claims_build:
        log("== the month-end claims build, as a background job, against its SQL aggregation")
        builds = {patients: claims_build(name) for patients, name in names.items()}
    log(
        f"== measuring {', '.join(names.values())} page by page ({args.workers} workers each, "
        f"page cache on, each site changing {args.site_writes_per_minute:g} times a minute)"
    )
    run = functools.partial(
        measure,
        list(names.values()),
        workers=args.workers,
        duration=args.duration,
        connections=args.connections,
        only=only,
        probed=probed,
        rounds_per_page=args.rounds,
    )
    cached = run(site_writes_per_minute=args.site_writes_per_minute)
    uncached: dict[str, dict[str, Any]] = {}
    if not args.no_uncached:
        log("== measuring again with the page cache off (every request rendered)")
        uncached = run(page_cache=False)
    runs: dict[int, dict[str, Any]] = {}
    for patients, name in names.items():
        runs[patients] = cached[name]
        if name in uncached:
            runs[patients]["uncached"] = uncached[name]
    with psycopg.connect(PG_ADMIN) as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    meta = {
        "run_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": pg_version,
        },
        "server": {"kind": "gunicorn (sync)", "workers": args.workers},
        "load": {
            "site_writes_per_minute": args.site_writes_per_minute,
            "tool": "wrk",
            "threads": 2,
            "connections": args.connections,
            "duration_s": args.duration,
            "rounds": args.rounds,
        },
        "sizes": {str(k): {"patients": k, "sites": v} for k, v in sizes.items()},
    }
    result = report(runs, args.patients, args.small, meta)
    if any(p["name"] == "fhir_read" for p in result["pages"]):
        # A FHIR read commits its audit entry before it answers: what the disk lets that many
        # workers commit a second bounds the read's rate, whatever its CPU (commit_ceiling.py).
        log("== durable commits a second from as many connections as workers")
        import commit_ceiling  # bench/commit_ceiling.py: on sys.path when run as a script

        result["commit_ceiling"] = commit_ceiling.measure(
            db_url(names[args.patients]), [args.workers], 4.0
        )
    if builds:
        result["claims_build"] = claims_report(builds, args.patients, args.small)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.results}.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    if "claims_build" in result:
        table += claims_markdown(result["claims_build"])
    (RESULTS / f"{args.results}.md").write_text(table)
    if not args.no_readme:
        update_readme(table)
    log("\n" + table)
    over = [p["name"] for p in result["pages"] if not p["within_budget"]]
    if builds and not result["claims_build"]["within_budget"]:
        over.append("claims_build")
    log("All pages within budget." if not over else f"Over budget: {', '.join(over)}")


if __name__ == "__main__":
    main()
