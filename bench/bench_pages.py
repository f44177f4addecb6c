"""p50/p95 of every main web page as each person sees it, on the demo data or a large register.

Usage: .venv/bin/python bench/bench_pages.py [--extra-rounds 10] [--runs 40] [--data FILE]
       .venv/bin/python bench/bench_pages.py --cases 200000 [--keep | --url URL] [--runs 20]

Without --cases (or --url): a fresh SQLite file migrated with Flask-Migrate, `seed-demo` (30
cases), then the demo's case mix `--extra-rounds` times more (30 cases each, every state, some
overdue); --data keeps the file to rerun quickly.

With --cases N: a PostgreSQL database of its own (dropped at the end unless --keep), seeded by
bench_api.py's bulk loader (a province of 200 communes, N cases in every state, about a fifth
of the open work overdue); --url reuses one kept by this script, bench_api.py or
bench_reports.py with --keep.

Either way it signs in through the login form as an officer, a chair, police and health staff of
one commune, the province supervisor and the administrator, and times each page with the Flask
test client (the whole request: routing, session, CSRF, services, SQL, templates). Every
case-page view writes its read into the trail, as in production. Each page's requests alternate
with requests for the app's cheapest response (the favicon, same client): that baseline is taken
under the same load at the same moment, so the ratios survive a busy machine where the
milliseconds do not. Goal: every page under 300 ms at p95. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

GOAL_MS = 300
BASELINE = "/favicon.ico"  # routing, session and a response, no SQL and no template
# Streamed downloads, timed to their first chunk; each whole download's times are kept here.
DOWNLOADS: dict[str, list[float]] = {"/cases/export.csv": []}
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Cast:
    """Who signs in (e-mail per role), with what password, and which case each looks at."""

    password: str
    emails: dict[str, str]
    case_id: int  # the commune's people and the supervisor
    reference: str
    agency_case: dict[str, int]  # police and health staff: a case with a task of their agency


def demo_app(folder: Path, extra_rounds: int, data: Path | None = None):
    """The app on a seeded SQLite file: `data` if it already exists (to rerun quickly), else a new one."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from caseflow import demo
    from caseflow.extensions import db
    from caseflow.models import Case, OrgUnit, User

    target = data or folder / "bench.db"
    seeded = target.exists()
    app = _app(f"sqlite:///{target}", target.with_name(target.name + ".instance"))
    with app.app_context():
        if not seeded:
            started = time.perf_counter()
            upgrade(directory=str(ROOT / "migrations"))
            for _ in demo.seed():
                pass
            users = {u.email: u for u in db.session.scalars(select(User))}
            communes = [
                (db.session.scalar(select(OrgUnit).where(OrgUnit.code == code)), slug)
                for code, _, slug in demo.COMMUNES
            ]
            for _ in range(extra_rounds):
                demo._seed_cases(communes, users)
            count = db.session.scalar(select(func.count()).select_from(Case))
            print(f"seeded {count} cases in {time.perf_counter() - started:.1f} s", flush=True)
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == demo.COMMUNES[0][0]))
        cast = _cast(
            demo.DEMO_PASSWORD,
            {
                role: f"{prefix}.dongkinh@demo.caseflow.vn"
                for role, prefix in (("officer", "canbo"), ("chair", "chutich"), ("police", "congan"))
            }
            | {
                "health": "yte.dongkinh@demo.caseflow.vn",
                "supervisor": "giamsat@demo.caseflow.vn",
                "admin": "admin@demo.caseflow.vn",
            },
            unit.id,
        )
    return app, cast


def _seeding():  # noqa: ANN202 - a module
    """bench_api.py's seeding: bench/api/seed.py once bench_api is split into parts, else bench_api
    itself (the same names either way)."""
    try:
        from api import seed
    except ImportError:
        import bench_api as seed
    return seed


def register_app(n_cases: int, url: str | None, keep: bool):
    """The app on a PostgreSQL register of `n_cases`, seeded by bench_api.py (or reused from `url`).
    Returns the app, the cast, and the database to drop at the end (None when kept or reused)."""
    import psycopg

    seed = _seeding()

    name = None
    if url:
        w = seed.world_from_json(json.loads(seed.world_file(url).read_text()))
        seed.migrate(url)  # a kept register gets this checkout's migrations first
    else:
        name, url = seed.create_database()
        started = time.perf_counter()
        seed.migrate(url)
        with psycopg.connect(url) as conn:
            w = seed.seed_reference(conn, 200, 10)
            seed.seed_cases(conn, w, n_cases)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        seed.RESULTS.mkdir(parents=True, exist_ok=True)
        seed.world_file(url).write_text(json.dumps(seed.world_json(w)))
        print(f"seeded {n_cases} cases in {time.perf_counter() - started:.0f} s", flush=True)
        if keep:
            print(f"kept: {url}", flush=True)
            name = None
    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    # The commune with the most open cases: the busiest officer's page, not an average one.
    with psycopg.connect(url) as conn:
        commune = conn.execute(
            "SELECT incident_commune_id FROM cases WHERE closed_at IS NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
    code = w.commune_code[commune]
    print(f"{total} cases; the people of commune {code}, the province supervisor", flush=True)
    app = _app(url, seed.RESULTS / f"instance-{url.rsplit('/', 1)[1]}")
    with app.app_context():
        cast = _cast(
            seed.PASSWORD,
            {
                "officer": f"canbo.{code}@bench.vn",
                "chair": f"chutich.{code}@bench.vn",
                "police": f"police.{code}@bench.vn",
                "health": f"health.{code}@bench.vn",
                "supervisor": "giamsat@bench.vn",
                "admin": "admin@bench.vn",
            },
            commune,
        )
    return app, cast, name


def _app(url: str, instance: Path):
    """The app, its instance folder (with the data key the register's rows are encrypted with)
    kept beside the data so that a rerun reads them."""
    from caseflow import create_app

    os.environ["CASEFLOW_INSTANCE_PATH"] = str(instance)
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "MAIL_SERVER": None, "REDIS_URL": None, "SECRET_KEY": "bench"}
    )


def _cast(password: str, emails: dict[str, str], commune_id: int) -> Cast:
    """The case the commune's people look at: its newest case under way (a plan, measures, a
    trail); agency staff see only cases with a task of theirs, so each gets its newest one."""
    from sqlalchemy import select

    from caseflow.extensions import db
    from caseflow.models import Case, Task, User

    case_id, reference = db.session.execute(
        select(Case.id, Case.reference)
        .where(Case.incident_commune_id == commune_id, Case.state == "intervention")
        .order_by(Case.id.desc())
        .limit(1)
    ).one()
    agency_case = {}
    for role in ("police", "health"):
        agency = db.session.scalar(select(User.agency_id).where(User.email == emails[role]))
        agency_case[role] = db.session.scalar(
            select(Task.case_id).where(Task.agency_id == agency).order_by(Task.case_id.desc()).limit(1)
        )
    return Cast(password, emails, case_id, reference, agency_case)


def sign_in(app, email: str, password: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = _TOKEN.search(page).group(1)
    resp = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert resp.status_code == 302, (email, resp.status_code)
    return client


def _timed(client, url: str) -> tuple[float, float, int]:
    """Wall time and this thread's CPU time of one request (ms): on a loaded machine the first
    includes waiting for a core, the second only the app's own work (not the database's).
    A download (DOWNLOADS) is timed to its first chunk, when the browser starts saving it: a
    streamed export of the whole register takes as long as its rows, which `downloads` prints."""
    started, cpu = time.perf_counter(), time.thread_time()
    if url in DOWNLOADS:
        resp = client.get(url, buffered=False)
        chunks = iter(resp.response)
        next(chunks, b"")
        elapsed, used = (time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000
        for _ in chunks:
            pass
        DOWNLOADS[url].append((time.perf_counter() - started) * 1000)
        resp.close()
        return elapsed, used, resp.status_code
    resp = client.get(url)
    resp.get_data()
    return (time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000, resp.status_code


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def measure(client, url: str, runs: int, baseline: list[float]) -> tuple[int, list[float], list[float]]:
    """The page's wall and CPU timings, its requests alternating with the baseline's (whose wall
    times go into `baseline`)."""
    for _ in range(3):  # warm caches and the template compiler
        client.get(url).get_data()
        client.get(BASELINE).get_data()
    times, cpu, status = [], [], 0
    for _ in range(runs):
        elapsed, used, status = _timed(client, url)
        times.append(elapsed)
        cpu.append(used)
        baseline.append(_timed(client, BASELINE)[0])
    return status, times, cpu


def pages(app, cast: Cast) -> list[tuple[str, object, str]]:
    from caseflow.workflow import current_forms

    with app.app_context():
        form_codes = list(current_forms().forms)[:2]
    who = {role: sign_in(app, email, cast.password) for role, email in cast.emails.items()}
    officer, chair, police, health = who["officer"], who["chair"], who["police"], who["health"]
    supervisor, admin = who["supervisor"], who["admin"]
    case = f"/cases/{cast.case_id}"
    return [
        ("sign-in page", app.test_client(), "/login"),
        ("my work (officer)", officer, "/tasks"),
        ("my work (chair)", chair, "/tasks"),
        ("my work (police)", police, "/tasks"),
        ("my work (supervisor)", supervisor, "/tasks"),
        ("intake form", officer, "/cases/new"),
        ("case page (officer)", officer, case),
        ("case page (chair)", chair, case),
        ("case page (police)", police, f"/cases/{cast.agency_case['police']}"),
        ("case page (health)", health, f"/cases/{cast.agency_case['health']}"),
        ("case page (supervisor)", supervisor, case),
        *((f"form {code} (officer)", officer, f"{case}/forms/{code}") for code in form_codes),
        ("case list (officer)", officer, "/cases"),
        ("case list (supervisor)", supervisor, "/cases"),
        ("case list overdue (supervisor)", supervisor, "/cases?overdue=y"),
        ("case search by reference", supervisor, f"/cases?reference={cast.reference}"),
        ("dashboard (supervisor)", supervisor, "/supervision"),
        ("dashboard (officer)", officer, "/supervision"),
        ("dashboard (police)", police, "/supervision"),
        ("reports page (supervisor)", supervisor, "/reports/periodic"),
        ("reports owed (supervisor)", supervisor, "/supervision/reports"),
        ("ad-hoc reports (supervisor)", supervisor, "/supervision/adhoc"),
        ("CSV export 1st byte (supervisor)", supervisor, "/cases/export.csv"),
        ("admin users", admin, "/admin/users"),
        ("admin units", admin, "/admin/org-units"),
        ("admin agencies", admin, "/admin/agencies"),
        ("admin calendar", admin, "/admin/calendar"),
        ("admin failed mail", admin, "/admin/notifications"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra-rounds", type=int, default=10, help="demo: extra rounds of 30 cases")
    parser.add_argument("--data", type=Path, help="demo: keep the seeded SQLite file here and reuse it")
    parser.add_argument("--cases", type=int, help="a PostgreSQL register of this many cases instead")
    parser.add_argument("--url", help="reuse a PostgreSQL register kept with --keep")
    parser.add_argument("--keep", action="store_true", help="keep the register's database (prints its URL)")
    parser.add_argument("--runs", type=int, default=40, help="timed requests per page")
    parser.add_argument("--only", help="time only the pages whose name contains one of these (commas)")
    args = parser.parse_args()
    drop = None
    with tempfile.TemporaryDirectory(prefix="caseflow-bench-pages-") as tmp:
        if args.cases or args.url:
            app, cast, drop = register_app(args.cases or 0, args.url, args.keep)
        else:
            app, cast = demo_app(Path(tmp), args.extra_rounds, args.data)
        try:
            print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.runs} runs a page")
            baseline: list[float] = []
            rows = []
            for name, client, url in pages(app, cast):
                if not args.only or any(part in name for part in args.only.split(",")):
                    rows.append((name, *measure(client, url, args.runs, baseline)))
            # Ratios against the baseline pooled over the whole run: its requests were spread
            # between every page's, so it saw the same load; a page's own few are too noisy.
            base50, base95 = statistics.median(baseline), p95(baseline)
            print(
                f"{'page':32} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'p50 x base':>10} {'p95 x base':>10}"
                f" {'app CPU p50':>11}"
            )
            for name, status, times, cpu in rows:
                flag = "" if p95(times) < GOAL_MS else "  <-- over goal"
                flag += "" if status == 200 else "  <-- not a page"
                print(
                    f"{name:32} {status:>6} {statistics.median(times):8.1f} {p95(times):8.1f} "
                    f"{statistics.median(times) / base50:10.1f} {p95(times) / base95:10.1f}"
                    f" {statistics.median(cpu):11.1f}{flag}"
                )
            print(f"baseline {BASELINE}: p50 {base50:.2f} ms, p95 {base95:.2f} ms")
            for url, whole in DOWNLOADS.items():
                if whole:
                    print(
                        f"download {url} whole: p50 {statistics.median(whole):.0f} ms, p95 {p95(whole):.0f} ms"
                    )
            print(f"load average {os.getloadavg()[0]:.1f}")
            name, _, times, _ = max(rows, key=lambda r: p95(r[2]))
            failed = [r[0] for r in rows if r[1] != 200]
            verdict = "OK" if p95(times) < GOAL_MS and not failed else "MISSED"
            if failed:
                print(f"not shown (status other than 200): {', '.join(failed)}")
            print(f"worst p95 {p95(times):.1f} ms ({name}; goal < {GOAL_MS} ms): {verdict}")
        finally:
            if drop:
                _seeding().drop_database(drop)


if __name__ == "__main__":
    main()
