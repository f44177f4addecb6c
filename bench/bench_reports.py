"""Timing of the reports and of the province supervisor's case list on a large PostgreSQL register.

Usage: .venv/bin/python bench/bench_reports.py [--cases 200000] [--samples 20] [--keep | --url URL]

Seeds a province with bench_api.py's seeding (a database of its own, dropped at the end; `--keep`
keeps it and prints its URL, `--url` reuses one kept by this script or by `bench_api.py --keep`,
bringing its schema up to date first), fills the statistics columns the reports group by
(setting, ethnicity, age at receipt...) once, then times through the real app (Flask's test
client, in this process) as the province supervisor:
- the periodic report of the last 365 days for the province, as JSON and as XLSX
  (goals: p95 under 1 s and under 3 s);
- the case list, first and second page, and with the overdue filter (goal: p95 under 50 ms);
- the overdue dashboard.
Each line also gives the p50 and p95 of its ratio to a baseline timed just before each sample
(a plain SELECT count(*) over the cases, through the same session): it survives a loaded machine.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_api  # noqa: E402 - the shared seeding

STATS_SQL = """
UPDATE cases SET
  harm_setting = (ARRAY['family','school','community','online','workplace','other'])[1 + id % 6],
  perpetrator_relation = (ARRAY['parent','neighbour','teacher','stranger','unknown'])[1 + id % 5],
  special_group = (ARRAY['none','none','none','disabled','orphan','sexually_abused'])[1 + id % 6],
  closure_outcome = CASE WHEN closed_at IS NULL THEN NULL
                         WHEN closure_reason LIKE 'Tin báo không%%' THEN 'unfounded'
                         ELSE (ARRAY['safe_at_home','alternative_care','transferred','other'])[1 + id % 4] END,
  services = CASE WHEN closed_at IS NOT NULL AND closure_reason NOT LIKE 'Tin báo không%%'
                  THEN '["medical_care", "psychological_therapy"]'::json END;
UPDATE children SET
  ethnicity = (ARRAY['kinh','kinh','kinh','tay','nung','hmong','dao'])[1 + id % 7],
  disability = (ARRAY['none','none','none','none','physical','intellectual'])[1 + id % 6],
  age_at_receipt = COALESCE(estimated_age, (id % 16));
"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def count_all() -> float:
    """Seconds of the baseline: a plain count of every case, through the app's own session."""
    from sqlalchemy import func, select

    from caseflow.extensions import db
    from caseflow.models import Case

    t0 = time.perf_counter()
    db.session.scalar(select(func.count()).select_from(Case))
    db.session.rollback()
    return time.perf_counter() - t0


def timed(client, url: str, token: str, n: int) -> tuple[float, float, float, float, int]:
    """p50 and p95 (ms) of `url`, and the p50 and p95 of its ratio to the baseline timed just
    before each sample: the machine's load moves both alike, so the ratio survives it."""
    durations, ratios, size = [], [], 0
    for _ in range(n):
        base = count_all()
        t0 = time.perf_counter()
        resp = client.get(url, headers={"Authorization": f"Bearer {token}"})
        durations.append(time.perf_counter() - t0)
        ratios.append(durations[-1] / base)
        assert resp.status_code == 200, (url, resp.status_code, resp.get_data()[:300])
        size = len(resp.data)
    return (
        percentile(durations, 50) * 1000,
        percentile(durations, 95) * 1000,
        percentile(ratios, 50),
        percentile(ratios, 95),
        size,
    )


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--communes", type=int, default=200)
    parser.add_argument("--districts", type=int, default=10)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--url", help="reuse a database seeded by bench_api.py --keep")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--lists-only", action="store_true", help="time the case lists only")
    args = parser.parse_args()

    import psycopg

    name = None
    if args.url:
        url = args.url
        w = bench_api.world_from_json(json.loads(bench_api.world_file(url).read_text()))
        bench_api.migrate(url)  # a kept database gets this branch's migrations (indexes) first
    else:
        name, url = bench_api.create_database()
        t0 = time.perf_counter()
        bench_api.migrate(url)
        with psycopg.connect(url) as conn:
            w = bench_api.seed_reference(conn, args.communes, args.districts)
            bench_api.seed_cases(conn, w, args.cases)
        print(f"seeded {args.cases} cases in {time.perf_counter() - t0:.0f}s")
        bench_api.RESULTS.mkdir(parents=True, exist_ok=True)
        bench_api.world_file(url).write_text(json.dumps(bench_api.world_json(w)))
    try:
        with psycopg.connect(url) as conn:
            # Once per database: rewriting every row on each rerun would bloat a kept one.
            filled = conn.execute("SELECT EXISTS (SELECT 1 FROM cases WHERE harm_setting IS NOT NULL)")
            if not filled.fetchone()[0]:
                conn.execute(STATS_SQL)
            conn.commit()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            province = conn.execute("SELECT code FROM org_units WHERE id = %s", (w.province_id,)).fetchone()[
                0
            ]
            total = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
        from caseflow import create_app

        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "MAIL_SERVER": None})
        token = w.tokens[w.supervisor_province]
        today = datetime.now(UTC).date()
        period = f"from={(today - timedelta(days=364)).isoformat()}&to={today.isoformat()}"
        report = f"/api/v1/reports/periodic?org_unit={province}&{period}"
        with app.app_context():
            client = app.test_client()
            print(f"{total} cases; the province supervisor; load average {load()}")
            bases = [count_all() for _ in range(args.samples * 5 + 2)][2:]  # two to warm up
            print(f"{'':28s} {'p50 ms':>8s} {'p95 ms':>8s}   {'p50 ×':>6s} {'p95 ×':>6s}   (× the baseline)")
            print(
                f"  {'baseline: SELECT count(*)':26s} {percentile(bases, 50) * 1000:8.1f}"
                f" {percentile(bases, 95) * 1000:8.1f}"
            )
            for label, path, n in (
                ("GET /me", "/api/v1/me", args.samples * 5),
                ("annual report, JSON", report, args.samples),
                ("annual report, XLSX", report + "&format=xlsx", max(args.samples // 2, 5)),
                ("annual report, CSV", report + "&format=csv", max(args.samples // 2, 5)),
                ("case list, page 1", "/api/v1/cases?per_page=50", args.samples * 5),
                ("case list, page 2", "/api/v1/cases?per_page=50&page=2", args.samples * 5),
                ("case list, overdue", "/api/v1/cases?per_page=50&overdue=true", args.samples * 2),
                ("overdue dashboard", "/api/v1/dashboard/overdue", args.samples * 2),
            ):
                if args.lists_only and "reports" in path:
                    continue
                timed(client, path, token, 2)  # warm up: caches, compiled statements
                p50, p95, r50, r95, size = timed(client, path, token, n)
                print(f"  {label:26s} {p50:8.1f} {p95:8.1f}   {r50:6.1f} {r95:6.1f}   ({size} bytes)")
            print(f"load average at the end {load()}")
    finally:
        if name and not args.keep:
            bench_api.drop_database(name)
        elif name:
            print(f"kept: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
