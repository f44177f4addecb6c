"""p50/p95 of every main web page on the Lạng Sơn demo data plus extra cases, in a temporary SQLite file.

Usage: .venv/bin/python bench/bench_pages.py [--extra-rounds 10] [--runs 40]

It migrates a fresh SQLite database with Flask-Migrate, runs `seed-demo` (30 cases), then
repeats the demo's case mix `--extra-rounds` times (30 cases each, across every state, some
overdue), signs in through the login form as each role and times each page with the Flask
test client (the whole request: routing, session, CSRF, services, SQL, templates). Every
case-page view writes its read into the audit trail, as in production. Goal: p95 < 300 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_MS = 300
DEMO_PASSWORD = "caseflow-demo-2026"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def build(folder: Path, extra_rounds: int, data: Path | None = None):
    """The app on a seeded SQLite file: `data` if it already exists (to rerun quickly), else a new one."""
    os.environ["CASEFLOW_INSTANCE_PATH"] = str(folder / "instance")
    target = data or folder / "bench.db"
    seeded = target.exists()
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from caseflow import create_app, demo
    from caseflow.extensions import db
    from caseflow.models import Case, OrgUnit, User

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{target}",
            "MAIL_SERVER": None,
            "REDIS_URL": None,
            "SECRET_KEY": "bench",
        }
    )
    if seeded:
        return app
    with app.app_context():
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
    return app


def sign_in(app, email: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = _TOKEN.search(page).group(1)
    resp = client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, (email, resp.status_code)
    return client


def measure(client, url: str, runs: int) -> tuple[float, float, int]:
    for _ in range(3):  # warm caches and the template compiler
        status = client.get(url).status_code
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        resp = client.get(url)
        resp.get_data()
        times.append((time.perf_counter() - started) * 1000)
        status = resp.status_code
    quantiles = statistics.quantiles(times, n=20)
    return statistics.median(times), quantiles[18], status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--extra-rounds", type=int, default=10, help="extra rounds of 30 demo cases")
    parser.add_argument("--runs", type=int, default=40, help="timed requests per page")
    parser.add_argument("--data", type=Path, help="keep the seeded SQLite file here and reuse it next time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="caseflow-bench-pages-") as tmp:
        app = build(Path(tmp), args.extra_rounds, args.data)
        with app.app_context():
            from sqlalchemy import select

            from caseflow.extensions import db
            from caseflow.models import Case, OrgUnit

            unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "06202"))
            officer_case = db.session.scalar(
                select(Case.id).where(Case.incident_commune_id == unit.id, Case.state == "intervention")
            )
            ref = db.session.scalar(select(Case.reference).where(Case.id == officer_case))
        officer = sign_in(app, "canbo.dongkinh@demo.caseflow.vn")
        police = sign_in(app, "congan.dongkinh@demo.caseflow.vn")
        health = sign_in(app, "yte.dongkinh@demo.caseflow.vn")
        chair = sign_in(app, "chutich.dongkinh@demo.caseflow.vn")
        supervisor = sign_in(app, "giamsat@demo.caseflow.vn")
        admin = sign_in(app, "admin@demo.caseflow.vn")
        anonymous = app.test_client()
        pages = [
            ("login", anonymous, "/login"),
            ("my work (officer)", officer, "/tasks"),
            ("my work (police)", police, "/tasks"),
            ("my work (chair)", chair, "/tasks"),
            ("my work (supervisor)", supervisor, "/tasks"),
            ("intake form", officer, "/cases/new"),
            ("case page (officer)", officer, f"/cases/{officer_case}"),
            ("case page (chair)", chair, f"/cases/{officer_case}"),
            ("case page (health staff)", health, f"/cases/{officer_case}"),
            ("case page (supervisor)", supervisor, f"/cases/{officer_case}"),
            ("case list (supervisor)", supervisor, "/cases"),
            ("case list overdue", supervisor, "/cases?overdue=y"),
            ("case search by reference", supervisor, f"/cases?reference={ref}"),
            ("overview (supervisor)", supervisor, "/supervision"),
            ("overview (officer)", officer, "/supervision"),
            ("CSV export (supervisor)", supervisor, "/cases/export.csv"),
            ("admin users", admin, "/admin/users"),
            ("admin units", admin, "/admin/org-units"),
            ("admin agencies", admin, "/admin/agencies"),
            ("admin calendar", admin, "/admin/calendar"),
            ("admin failed mail", admin, "/admin/notifications"),
        ]
        print(f"{'page':28} {'status':>6} {'p50 ms':>8} {'p95 ms':>8}")
        worst = 0.0
        for name, client, url in pages:
            p50, p95, status = measure(client, url, args.runs)
            worst = max(worst, p95)
            flag = "" if p95 < GOAL_MS else "  <-- over goal"
            print(f"{name:28} {status:>6} {p50:8.1f} {p95:8.1f}{flag}", flush=True)
        print(f"worst p95 {worst:.1f} ms (goal < {GOAL_MS} ms): {'OK' if worst < GOAL_MS else 'MISSED'}")


if __name__ == "__main__":
    main()
