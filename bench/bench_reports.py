"""Reports and the staff dashboard at scale, and a loan's as-of view after five years (issue 13).

    make bench-reports                      # N=1000000
    make bench-reports N=100000 RUNS=10     # BENCH_PG=postgres://postgres@127.0.0.1:5432

Goals: the dashboard renders in <= 1 s and every report in <= 2 s, each with a query count
that does not grow with the book; a loan's as-of view in <= 100 ms after five years of
history.

Seeded (PostgreSQL; the database lendcore_bench_reports is created, migrated, seeded and
dropped at the end; REPORTS_BENCH_TEMPLATE=1 keeps the seeded copy as
lendcore_bench_reports_tmpl_<N> and copies it for later runs, =drop drops it):

- N loans by close of business's seed (`bench_cob.SEED_SQL`: 12 monthly installments each,
  disbursed over January 2026, the delinquent tenth with its past late fees and their journal
  lines), then spread like a book (`_reports_seed.SPREAD_SQL`): 57 % PERSONAL, 29 % AUTO,
  14 % SMALLBIZ; 5 % paid off, 2 % charged off; the delinquent tenth over the buckets 1-29 to
  120+;
- the loan tape's ledger (`bench_loan_tape.LEDGER_SQL`): a disbursement entry per loan, an
  accrual and a payment entry per paid installment (about 12 journal lines a loan, 12 million
  at N=1,000,000) and the delinquent loans' bucket history; one payment row per paid
  installment over five methods (one in 200 reversed): what the ledger reports (trial
  balance, journal, income, disbursements) and payments read, at the volume a book of N
  five-month-old loans has; and their daily totals for every day before the business date
  (`_reports_seed.daily_totals_seed`: the nightly step's own function over the whole range),
  so the ledger reports read the lines of the open day only, as after close of business;
- two years of close of business's aggregates (2024-06-15 to 2026-06-14): a PortfolioSnapshot
  row per product, bucket and status with loans in it and a PortfolioActivity row per product,
  every day (about 17,500 and 2,200 rows whatever N: what COB writes, a book growing from 40 %
  to 100 % of N, late shares moving with the season): what portfolio, aging and PAR read;
- the origination pipeline: N/25 applications (40,000 at a million loans) over the last six
  months of wall-clock time from N/100 applicants, three in five decided: the dashboard's
  status counts and thirty-day approval rate and time to decision;
- collections: an open case per delinquent active loan, N/40 cases closed over the last two
  months (three in five cured) and a settled promise on each: the dashboard's promise-kept and
  cure rates;
- two years of close of business's month-end cells (`_reports_seed.MONTH_END_SQL`): roll
  cells per product and bucket pair, vintage cells per product and origination month of the
  last three years (about 3,300 and 2,500 rows): what roll_rates and vintage read.

Measured through the Django test client in this process (the full Django stack: middleware,
authentication, DRF, templates; no HTTP server, the same for the floor), as an admin (every
report's action): after `--warmup` calls, `RUNS` timed calls of each probe, interleaved:

- the staff dashboard `/staff/` (session login): `BENCH dashboard ... goal_ms=1000`;
- every registered report (lendcore.core.reports.REPORT_NAMES; an unregistered one is skipped
  with a note): `GET /api/v1/reports/<name>/` in JSON and in CSV with the default window, the
  same over a year (or the report's longest window when shorter) when it reads a window, and
  the staff page `/staff/reports/<name>/`: `BENCH reports_<name> p50_ms=<median of the report's
  slowest probe> p95_ms=<its p95> queries=<the most any probe ran> goal_ms=2000 ok=yes|no`;
- the floor: `GET /api/v1/business-date/` with the same token: `floor_p95_ms=` and `ratio=`
  (p95 / the floor's p95) on every line (../shared/bench/README.md: machines differ by 2x).

Fixed query count: the same probes first run over a small book (SMALL_N, default 2,000
loans, same seed; the session's reads and writes and the token's last-use stamp, which come
every few minutes whatever the page, are not counted); a probe whose query count differs
between the two sizes makes its line `ok=no` with `queries_small=`, and the bench exits 1
once every figure is printed.

As-of view: a loan with five years of daily accruals and monthly payments, built the way
production does (`bench_loan_detail.build`, its own database lendcore_bench_reports_asof),
`GET /api/v1/loans/<id>/?as_of=<date>` for six dates over the five years as its borrower:
`BENCH loan_as_of p50_ms=.. p95_ms=.. queries=.. goal_ms=100 ok=.. mode=as_of|plain`. While
the API does not accept `as_of` (400, or a body without `as_of`), it times the plain detail
and says `mode=plain`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_cob  # noqa: E402  (its seed, and its database helpers)
from _servicing_bench import percentile  # noqa: E402

PG = bench_cob.PG
DB = os.environ.get("REPORTS_BENCH_DB", "lendcore_bench_reports")
TEMPLATE = os.environ.get("REPORTS_BENCH_TEMPLATE", "")
FLOOR_PATH = "/api/v1/business-date/"
DASHBOARD_GOAL_MS = 2000 // 2
REPORT_GOAL_MS = 2000
AS_OF_GOAL_MS = 100
# A probe slower than this in its warm-up is timed twice only (a report that misses its goal
# by far would otherwise keep the bench for many minutes; its p50 and p95 say so from two).
SLOW_MS = 5000
MEASURE_ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "lendcore.settings.test",
    "LOG_LEVEL": "WARNING",
}


# --------------------------------------------------------------------------- seeding


def seed_into(n: int, db: str) -> None:
    """Create `db`, migrate and seed it with bench_cob's loans, then the reports' data."""
    bench_cob.migrate_and_seed(n, db)
    subprocess.run(
        [sys.executable, __file__, "--seed-reports", str(n)],
        cwd=ROOT,
        env={**bench_cob.ENV, "DATABASE_URL": f"{PG}/{db}"},
        check=True,
    )


def prepare(n: int, db: str) -> None:
    """`db` seeded for `n` loans: copied from the kept template when REPORTS_BENCH_TEMPLATE."""
    if not TEMPLATE:
        seed_into(n, db)
        return
    template = f"{DB}_tmpl_{n}"
    if not bench_cob.database_exists(template):
        seed_into(n, template)
    bench_cob.psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    bench_cob.psql(f"CREATE DATABASE {db} TEMPLATE {template}")
    print(f"copied the seeded {n:,} loans from {template}", flush=True)


# --------------------------------------------------------------------------- measuring


def _timed(client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    if response.streaming:
        b"".join(response.streaming_content)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    return elapsed


def _bookkeeping(sql: str) -> bool:
    """The session's idle stamp and the token's last use, written every few minutes whatever
    the page (so by a slow probe more often than by a fast one): not the page's queries."""
    return "django_session" in sql or (sql.startswith("UPDATE") and "last_used_at" in sql)


def _probes(api, page) -> tuple[dict[str, tuple], list[str]]:
    """{probe name: (client, path, group)} for the floor, the dashboard and every registered
    report, and the notes on reports not registered."""
    from django.urls import reverse

    from lendcore.core.reports import REPORT_NAMES, report_get
    from servicing.selectors import business_date_get

    to = business_date_get()
    probes: dict[str, tuple] = {
        "floor": (api, FLOOR_PATH, "floor"),
        "dashboard": (page, reverse("web:staff-dashboard"), "dashboard"),
    }
    notes = []
    for name in REPORT_NAMES:
        spec = report_get(name)
        if spec is None:
            notes.append(f"{name}: not registered, skipped")
            continue
        api_path = f"/api/v1/reports/{name}/"
        probes[f"{name}:json"] = (api, api_path, name)
        probes[f"{name}:csv"] = (api, f"{api_path}?format=csv", name)
        if not spec.balance_as_of:
            days = min(365, spec.max_days or 365)
            window = f"from={(to - timedelta(days=days - 1)).isoformat()}&to={to.isoformat()}"
            probes[f"{name}:json_{days}d"] = (api, f"{api_path}?{window}", name)
            probes[f"{name}:csv_{days}d"] = (api, f"{api_path}?{window}&format=csv", name)
        probes[f"{name}:page"] = (page, reverse("web:staff-report", args=[name]), name)
    return probes, notes


def measure(runs: int, warmup: int) -> None:
    """Time every probe on the bench database; print one RESULT line of JSON."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from lendcore.accounts.roles import Role
    from lendcore.accounts.services import api_token_issue, roles_sync, staff_user_create

    setup_test_environment()
    roles_sync()
    # kept when measuring a kept database again (REPORTS_BENCH_KEEP, a template measured in place)
    admin = get_user_model().objects.filter(username="bench_admin").first() or staff_user_create(
        username="bench_admin", password="bench-pass-123", role=Role.ADMIN
    )
    api = Client(headers={"Authorization": f"Token {api_token_issue(user=admin).key}"})
    page = Client()
    page.force_login(admin)
    probes, notes = _probes(api, page)
    for note in notes:
        print(f"  note: {note}", flush=True)
    queries: dict[str, int] = {}
    timings: dict[str, list[float]] = {}
    first: dict[str, float] = {}
    for name, (client, path, _group) in probes.items():
        first[name] = 0.0
        for _ in range(warmup):
            first[name] = max(first[name], _timed(client, path))
        with CaptureQueriesContext(connection) as captured:
            timings[name] = [_timed(client, path)]
        queries[name] = sum(1 for query in captured if not _bookkeeping(query["sql"]))
        shown = f"{timings[name][0]:9.1f} ms  {queries[name]:3d} queries"
        print(f"  {name:28s} first {shown}", flush=True)
    for run in range(1, runs):  # interleaved: drift in the machine's load hits all alike
        for name, (client, path, _group) in probes.items():
            if max(first[name], timings[name][0]) > SLOW_MS and run >= 2:
                continue  # far past its goal: two timings say so
            timings[name].append(_timed(client, path))
    groups = {name: group for name, (_c, _p, group) in probes.items()}
    print("RESULT " + json.dumps({"timings": timings, "queries": queries, "groups": groups}))


def run_size(n: int, db: str, runs: int, warmup: int) -> dict:
    """Seed (or copy) `db` for n loans, time the probes in a fresh process, drop `db`."""
    print(f"== N={n:,}", flush=True)
    try:
        prepare(n, db)
        out = subprocess.run(
            [sys.executable, __file__, "--measure", str(runs), str(warmup)],
            cwd=ROOT,
            env={**MEASURE_ENV, "DATABASE_URL": f"{PG}/{db}"},
            capture_output=True,
            text=True,
        )
        lines = out.stdout.splitlines()
        print("\n".join(line for line in lines if not line.startswith("RESULT")), flush=True)
        if out.returncode:
            raise SystemExit(f"measuring failed:\n{out.stderr[-4000:]}")
        return json.loads(next(ln for ln in lines if ln.startswith("RESULT"))[len("RESULT ") :])
    finally:
        if os.environ.get("REPORTS_BENCH_KEEP") != "1":
            bench_cob.psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def bench_lines(n: int, big: dict, small: dict | None) -> list[str]:
    """One BENCH line per page or report: its slowest probe's p50 and p95 (JSON, CSV, a
    year, the page), the most queries any probe ran, and whether the counts are fixed.
    Returns the probes whose query count differs from the small book's."""
    stats = {}
    for name, values in big["timings"].items():
        values = sorted(values)
        stats[name] = (statistics.median(values), percentile(values, 95), len(values))
    floor = stats["floor"][1]
    for name, (p50, p95, count) in stats.items():
        fixed = small is None or small["queries"].get(name) == big["queries"][name]
        print(
            f"  {name:28s} p50 {p50:9.1f} ms  p95 {p95:9.1f} ms  ({count} runs)  "
            f"{big['queries'][name]:3d} queries"
            + ("" if fixed else f" (small book: {small['queries'].get(name)})")  # type: ignore[index]
        )
    print(f"BENCH reports_floor loans={n} p50_ms={stats['floor'][0]:.1f} p95_ms={floor:.1f}")
    before = small["queries"] if small else big["queries"]
    grew = [name for name, count in big["queries"].items() if before.get(name) != count]
    by_group: dict[str, list[str]] = {}
    for name, group in big["groups"].items():
        if group != "floor":
            by_group.setdefault(group, []).append(name)
    for group, names in by_group.items():
        worst = max(names, key=lambda name: stats[name][1])
        p50, p95, _count = stats[worst]
        most = max(big["queries"][name] for name in names)
        unfixed = [name for name in names if name in grew]
        goal = DASHBOARD_GOAL_MS if group == "dashboard" else REPORT_GOAL_MS
        ok = p95 <= goal and not unfixed
        label = "dashboard" if group == "dashboard" else f"reports_{group}"
        extra = ""
        if unfixed:
            extra = " queries_small=" + ",".join(
                f"{name.split(':')[-1]}:{small['queries'].get(name)}"  # type: ignore[index]
                for name in unfixed
            )
        print(
            f"BENCH {label} loans={n} p50_ms={p50:.1f} p95_ms={p95:.1f} queries={most} "
            f"goal_ms={goal} ok={'yes' if ok else 'no'} slowest={worst.split(':')[-1]} "
            f"floor_p95_ms={floor:.1f} ratio={p95 / floor:.0f}{extra}",
            flush=True,
        )
    return grew


# --------------------------------------------------------------------------- the as-of view


def as_of_measure(runs: int, warmup: int) -> None:
    """A loan with five years of history (bench_loan_detail's), its detail as of six dates."""
    from _servicing_bench import database_url, django_setup, recreate_database

    url = database_url(os.environ.get("REPORTS_BENCH_ASOF_DB", f"{DB}_asof"))
    recreate_database(url)
    try:
        django_setup(url)
        _as_of_timed(runs, warmup)
    finally:
        from django.db import connections

        connections.close_all()
        bench_cob.psql(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


def _as_of_timed(runs: int, warmup: int) -> None:
    import bench_loan_detail
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    old, _new, token = bench_loan_detail.build(years=bench_loan_detail.YEARS)
    client = Client(headers={"Authorization": f"Token {token}"})
    start = bench_loan_detail.DISBURSED
    dates = [start + timedelta(days=days) for days in (45, 200, 400, 900, 1400, 1800)]
    path = f"/api/v1/loans/{old.pk}/"
    mode = "as_of" if _as_of_accepted(client, path, dates[0]) else "plain"
    if mode == "plain":
        print("  note: the API does not take ?as_of= yet: timed the plain loan detail")
    paths = [f"{path}?as_of={d.isoformat()}" if mode == "as_of" else path for d in dates]
    counts = []
    for each in paths:
        for _ in range(warmup):
            _timed(client, each)
        with CaptureQueriesContext(connection) as captured:
            _timed(client, each)
        counts.append(len(captured))
    timings: list[float] = []
    floor: list[float] = []
    for _ in range(runs):
        timings.extend(_timed(client, each) for each in paths)
        floor.append(_timed(client, FLOOR_PATH))
    timings.sort()
    floor.sort()
    p50, p95 = statistics.median(timings), percentile(timings, 95)
    floor_p95 = percentile(floor, 95)
    print(
        f"  as-of dates {', '.join(d.isoformat() for d in dates)}: queries {counts}; "
        f"{len(timings)} timed calls"
    )
    print(
        f"BENCH loan_as_of years={bench_loan_detail.YEARS} p50_ms={p50:.1f} p95_ms={p95:.1f} "
        f"queries={max(counts)} goal_ms={AS_OF_GOAL_MS} "
        f"ok={'yes' if p95 <= AS_OF_GOAL_MS and len(set(counts)) == 1 else 'no'} mode={mode} "
        f"floor_p95_ms={floor_p95:.1f} ratio={p95 / floor_p95:.1f}",
        flush=True,
    )


def _as_of_accepted(client, path: str, day: date) -> bool:
    """True when the loan API answers `?as_of=` with the loan as of that date (helper B's
    branch): a 200 whose body says `as_of`; a 400 or a body without it is the plain view."""
    response = client.get(f"{path}?as_of={day.isoformat()}")
    if response.status_code != 200:
        return False
    return str(response.json().get("as_of", "")) == day.isoformat()


# --------------------------------------------------------------------------- main


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--seed-reports":
        import django

        django.setup()
        from _reports_seed import seed_reports

        seed_reports(int(sys.argv[2]))
        return
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        measure(int(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=int(os.environ.get("N", "1000000")))
    parser.add_argument("--small", type=int, default=int(os.environ.get("SMALL_N", "2000")))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("RUNS", "10")))
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--skip-as-of", action="store_true")
    parser.add_argument(
        "--seed-only", action="store_true", help="seed the template (REPORTS_BENCH_TEMPLATE=1)"
    )
    args = parser.parse_args()
    if args.seed_only:
        if not TEMPLATE:
            raise SystemExit("--seed-only keeps a template: set REPORTS_BENCH_TEMPLATE=1")
        for n in (args.small, args.n):
            if not bench_cob.database_exists(f"{DB}_tmpl_{n}"):
                seed_into(n, f"{DB}_tmpl_{n}")
        return
    if TEMPLATE == "drop":
        for n in (args.n, args.small):
            bench_cob.psql(f"DROP DATABASE IF EXISTS {DB}_tmpl_{n} WITH (FORCE)")
        return
    small = run_size(args.small, DB, 2, 1) if args.small else None
    big = run_size(args.n, DB, args.runs, args.warmup)
    grew = bench_lines(args.n, big, small)
    if not args.skip_as_of:
        print("== the as-of view, five years of daily history", flush=True)
        subprocess.run(
            [sys.executable, __file__, "--as-of", str(args.runs * 5), str(args.warmup)],
            cwd=ROOT,
            env={**MEASURE_ENV, "DATABASE_URL": f"{PG}/postgres"},
            check=True,
        )
    if grew:  # the goal's fixed query count, checked: a failure, after every figure is out
        raise SystemExit(f"query counts differ between {args.small:,} and {args.n:,} loans: {grew}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--as-of":
        as_of_measure(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
