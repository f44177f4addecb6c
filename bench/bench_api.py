"""Load test of the CaseFlow JSON API on a large PostgreSQL dataset, next to a bare-Flask floor.

Usage: .venv/bin/python bench/bench_api.py [--cases 200000] [--clients 8] [--seconds 10]
       [--workers 2 --threads 4 | --workers 0 --threads 8] [--keep | --url URL]

It creates a database of its own on the local PostgreSQL server (dropped at the end),
migrates it with Flask-Migrate, bulk-loads a province of ~200 communes with COPY, then
serves the real app as the README deploys it (gunicorn, 2 processes x 4 threads; or one
waitress process with --workers 0) in a subprocess. In the same processes a bare
Flask app under /floor does the same SQL writes as a `verify` transition without the
CaseFlow layers (no token, no ORM, no Machine): it is the floor the API is measured
against, in the same run, so the ratios hold on a noisy shared machine.

Figures: transitions per second under concurrent clients (API vs floor), p50/p95 of
case detail, case list (first page, overdue=true) and the overdue dashboard for a
province supervisor and a commune officer, and the web worker's peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from caseflow.models.orgs import AGENCY_KINDS  # noqa: E402 - the project root goes on the path first

PG_ADMIN_URL = os.environ.get("CASEFLOW_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
RESULTS = ROOT / "bench" / "results"
PASSWORD = "bench-password-2026"
WORKFLOW_VERSION = "decree56/2017.1"
BASIS = {
    "verify_report": "Nghị định 56/2017/NĐ-CP, Điều 25.2, 26.2",
    "emergency_police": "Nghị định 56/2017/NĐ-CP, Điều 26.3, 31",
    "emergency_health": "Nghị định 56/2017/NĐ-CP, Điều 26.3, 31",
    "draft_plan": "Nghị định 56/2017/NĐ-CP, Điều 28.1",
    "approve_plan": "Nghị định 56/2017/NĐ-CP, Điều 28.2",
    "plan_measure": "Luật Trẻ em 2016, Điều 52",
    "review": "Nghị định 56/2017/NĐ-CP, Điều 30.1",
}
KIND_OF = {
    "verify_report": "verify",
    "emergency_police": "emergency_protection",
    "emergency_health": "emergency_protection",
    "draft_plan": "draft_plan",
    "approve_plan": "approve_plan",
    "plan_measure": "measure",
    "review": "review",
}
# Share of cases per state: a province's register after a few years of use, with more cases
# waiting for verification than a register would hold: each throughput phase verifies
# thousands, and a phase that runs out of cases ends early.
STATE_MIX = [
    ("received", 0.15),
    ("verified", 0.10),
    ("planned", 0.05),
    ("intervention", 0.15),
    ("follow_up", 0.10),
    ("closed", 0.45),
]
HARMS = ["violence", "sexual_abuse", "exploitation", "trafficking", "abandonment", "neglect", "other"]
CHANNELS = ["hotline_111", "police", "school", "health", "commune", "community", "self", "other"]


# ---------------------------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------------------------


def naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def create_database() -> tuple[str, str]:
    import psycopg

    name = f"caseflow_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    from caseflow import create_app
    from caseflow.extensions import db
    from caseflow.seed_calendar import seed_calendar

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "MAIL_SERVER": None})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed_calendar()
        db.engine.dispose()


class World:
    """What the seed made and the clients need: ids, codes and tokens."""

    def __init__(self) -> None:
        self.province_id = 0
        self.communes: list[int] = []
        self.commune_code: dict[int, str] = {}
        self.agency: dict[tuple[int, str], int] = {}
        self.officer: dict[int, int] = {}  # commune id -> user id
        self.chair: dict[int, int] = {}
        self.supervisor_province = 0
        self.tokens: dict[int, str] = {}  # user id -> bearer token


def seed_reference(conn, n_communes: int, n_districts: int) -> World:
    """Province, districts, communes with every agency kind, a user per role, API tokens."""
    from werkzeug.security import generate_password_hash

    w = World()
    cur = conn.cursor()
    pwd = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    now = naive(datetime.now(UTC))
    w.province_id = cur.execute(
        "INSERT INTO org_units (code, name, level, abbrev, path) VALUES ('20', 'Tỉnh Lạng Sơn', "
        "'province', 'LS', '/20/') RETURNING id"
    ).fetchone()[0]
    district_ids = []
    for d in range(n_districts):
        code = f"{180 + d}"
        district_ids.append(
            (
                cur.execute(
                    "INSERT INTO org_units (code, name, level, parent_id, path) VALUES (%s, %s, 'district', %s, %s) "
                    "RETURNING id",
                    (code, f"Huyện {code}", w.province_id, f"/20/{code}/"),
                ).fetchone()[0],
                code,
            )
        )
    for c in range(n_communes):
        district_id, dcode = district_ids[c % n_districts]
        code = f"{6000 + c:05d}"
        cid = cur.execute(
            "INSERT INTO org_units (code, name, level, parent_id, path) VALUES (%s, %s, 'commune', %s, %s) "
            "RETURNING id",
            (code, f"Xã {code}", district_id, f"/20/{dcode}/{code}/"),
        ).fetchone()[0]
        w.communes.append(cid)
        w.commune_code[cid] = code
    rows = [("LS-111", "Tổng đài 111", "hotline", w.province_id, "111@bench.example")]
    for cid in w.communes:
        code = w.commune_code[cid]
        rows += [
            (f"{code}-{kind}", f"{kind} {code}", kind, cid, f"{kind}.{code}@bench.example")
            for kind in AGENCY_KINDS
        ]
    cur.executemany(
        "INSERT INTO agencies (code, name, kind, org_unit_id, email, locale) "
        "VALUES (%s, %s, %s, %s, %s, 'vi')",
        rows,
    )
    for aid, kind, unit in cur.execute("SELECT id, kind, org_unit_id FROM agencies").fetchall():
        w.agency[(unit, kind)] = aid

    def user(email: str, role: str, unit: int, agency: int | None = None) -> int:
        return cur.execute(
            "INSERT INTO users (email, name, password_hash, role, org_unit_id, agency_id, active, locale, "
            "daily_digest, failed_logins, session_token, created_at) VALUES (%s, %s, %s, %s, %s, %s, true, "
            "'vi', false, 0, %s, %s) RETURNING id",
            (email, email.split("@")[0], pwd, role, unit, agency, uuid.uuid4().hex, now),
        ).fetchone()[0]

    user("admin@bench.vn", "admin", w.province_id)
    w.supervisor_province = user("giamsat@bench.vn", "supervisor", w.province_id)
    for district_id, dcode in district_ids:
        user(f"giamsat.{dcode}@bench.vn", "supervisor", district_id)
    user("tongdai@bench.vn", "agency_staff", w.province_id, w.agency[(w.province_id, "hotline")])
    for cid in w.communes:
        code = w.commune_code[cid]
        w.officer[cid] = user(f"canbo.{code}@bench.vn", "officer", cid)
        w.chair[cid] = user(f"chutich.{code}@bench.vn", "chair", cid)
        for kind in ("police", "health", "education"):
            user(f"{kind}.{code}@bench.vn", "agency_staff", cid, w.agency[(cid, kind)])
    # Tokens go straight into the table (only their hash is stored, as the app does).
    expires = now + timedelta(days=1)
    token_rows = []
    for uid in [w.supervisor_province, *w.officer.values(), *w.chair.values()]:
        token = f"bench-{uid}-{uuid.uuid4().hex}"
        w.tokens[uid] = token
        token_rows.append((hashlib.sha256(token.encode()).hexdigest(), uid, expires, now))
    cur.executemany(
        "INSERT INTO api_tokens (token_hash, user_id, expires_at, created_at) VALUES (%s, %s, %s, %s)",
        token_rows,
    )
    conn.commit()
    return w


class CaseMaker:
    """Makes one case with its child, informant, tasks and events as plain rows for COPY."""

    def __init__(self, w: World, rng: random.Random, now: datetime) -> None:
        from caseflow.seed_calendar import shipped_days
        from caseflow.workflow.clock import WorkingCalendar

        self.w, self.rng, self.now = w, rng, now
        self.calendar = WorkingCalendar({d: kind for d, (kind, _) in shipped_days().items()})
        self.task_id = 0
        self.event_id = 0
        states, weights = zip(*STATE_MIX, strict=True)
        self.states, self.weights = states, weights
        self.due_cache: dict[tuple[date, int], datetime] = {}

    def working_due(self, start: datetime, n: int) -> datetime:
        from caseflow.workflow.clock import compute_due

        key = (start.date(), n)
        if key not in self.due_cache:
            self.due_cache[key] = compute_due(start, self.calendar, working_days=n)
        return self.due_cache[key]

    def plan(self, n: int) -> list[tuple[datetime, str]]:
        """(received_at, state) of every case, oldest first: ids follow receipt, as at intake,
        so the table's physical order follows time as it does in production."""
        rng, now = self.rng, self.now
        cases = []
        for _ in range(n):
            state = rng.choices(self.states, self.weights)[0]
            # Closed cases spread over three years. An open case entered its state recently
            # enough that about a fifth of the open work is overdue, as in a busy province.
            if state == "received":
                hours = rng.uniform(0.2, 12) if rng.random() < 0.8 else rng.uniform(12, 96)
                received = now - timedelta(hours=hours)
            elif state == "closed":
                received = now - timedelta(days=rng.uniform(20, 3 * 365))
            else:
                received = now - timedelta(days=rng.uniform(40, 200))
            cases.append((received, state))
        cases.sort(key=lambda c: c[0])
        return cases

    def make(self, case_id: int, received: datetime, state: str, out: dict[str, list]) -> None:
        rng, w, now = self.rng, self.w, self.now
        incident = rng.choice(w.communes)
        residence = incident if rng.random() < 0.92 else rng.choice(w.communes)
        officer, chair = w.officer[incident], w.chair[residence]
        in_state_days = {"verified": 9, "planned": 4, "intervention": 30, "follow_up": 34}.get(state)
        serious = rng.random() < 0.3
        abuser = rng.random() < 0.1
        steps = {"received": 0, "verified": 1, "planned": 2, "intervention": 3, "follow_up": 4, "closed": 5}[
            state
        ]
        dismissed = state == "closed" and rng.random() < 0.25
        if dismissed:
            steps = 0
        # Moments of each step, spread between receipt and now.
        last = now - timedelta(days=rng.uniform(0, in_state_days)) if in_state_days else now
        span = (last - received).total_seconds()
        cuts = sorted(rng.uniform(0.02, 0.98) for _ in range(6))
        moments = [received + timedelta(seconds=span * c) for c in cuts]
        if in_state_days:
            moments[steps] = last
        entered = moments[steps] if (steps or dismissed) else received
        closed_at = entered if state == "closed" else None
        reference = f"LS-{received.year}-{case_id:06d}"
        harm = rng.sample(HARMS, rng.choice([1, 1, 2]))
        verified = steps >= 1
        plan = None
        measures = []
        if steps >= 2:
            measures = [
                (
                    w.agency[(residence, kind)],
                    f"Biện pháp {kind}",
                    moments[3] + timedelta(days=rng.uniform(5, 60))
                    if steps > 3
                    else now + timedelta(days=rng.uniform(-8, 50)),
                )
                for kind in rng.sample(["health", "education", "social_services", "justice"], 2)
            ]
            plan = json.dumps(
                {
                    "text": "Kế hoạch hỗ trợ",
                    "measures": [
                        {
                            "agency": f"{w.commune_code[residence]}-x",
                            "description": d,
                            "due_at": due.isoformat(),
                        }
                        for _, d, due in measures
                    ],
                }
            )
        out["cases"].append(
            (
                case_id,
                reference,
                state,
                1 + steps + (1 if dismissed else 0),
                WORKFLOW_VERSION,
                rng.choice(["low", "medium", "high"]) if verified else None,
                json.dumps(harm),
                incident,
                residence,
                rng.choice(CHANNELS),
                "Tin báo: trẻ em có dấu hiệu bị xâm hại, cần xác minh (dữ liệu giả lập).",
                naive(received),
                naive(entered),
                naive(closed_at) if closed_at else None,
                None,
                ("Tin báo không có cơ sở." if dismissed else "Trẻ đã an toàn, ổn định.")
                if closed_at
                else None,
                serious if verified else False,
                abuser if verified else False,
                "Đã xác minh tại gia đình." if verified else None,
                plan,
                False,
                None,
                officer,
                None,
                naive(received),
                naive(entered),
            )
        )
        out["children"].append(
            (
                case_id,
                case_id,
                f"Trẻ {case_id}",
                date(2012 + case_id % 12, 1 + case_id % 12, 1),
                None,
                rng.choice(["female", "male"]),
                f"Thôn {case_id % 30}",
                None,
                None,
            )
        )
        consent = rng.random() < 0.5
        out["informants"].append(
            (
                case_id,
                case_id,
                consent,
                "Người báo tin" if consent else None,
                "0912000000" if consent else None,
                None,
            )
        )

        def event(
            at: datetime,
            kind: str,
            actor: int | None,
            data: dict,
            frm: str | None = None,
            to: str | None = None,
        ) -> None:
            self.event_id += 1
            out["case_events"].append(
                (self.event_id, case_id, naive(at), actor, None, kind, frm, to, json.dumps(data))
            )

        def task(
            template: str,
            agency: int,
            due: datetime,
            created: datetime,
            done_at: datetime | None,
            status: str | None = None,
            description: str | None = None,
        ) -> None:
            self.task_id += 1
            rule = (
                "date set in the plan"
                if template == "plan_measure"
                else "hours: 12 from received_at"
                if template in ("verify_report", "emergency_police", "emergency_health")
                else "working_days"
            )
            status = status or ("done" if done_at else "open")
            overdue = status == "open" and due < now
            out["tasks"].append(
                (
                    self.task_id,
                    case_id,
                    KIND_OF[template],
                    template,
                    description,
                    agency,
                    status,
                    naive(due),
                    rule,
                    BASIS[template],
                    WORKFLOW_VERSION,
                    naive(created),
                    naive(done_at) if done_at else None,
                    officer if done_at else None,
                    "Đã thực hiện" if status == "done" else None,
                    None,
                    rng.choice([1, 1, 2, 3]) if overdue else 0,
                    None,
                    1,
                    incident,
                    residence,
                )
            )
            event(created, "task_created", officer, {"task_id": self.task_id, "kind": KIND_OF[template]})

        event(received, "created", officer, {"channel": "hotline_111", "harm_types": harm}, to="received")
        task(
            "verify_report",
            w.agency[(incident, "commune_committee")],
            received + timedelta(hours=12),
            received,
            moments[0] if (verified or dismissed) else None,
            status="cancelled" if dismissed else None,
        )
        if dismissed:
            event(moments[0], "transition", officer, {"trigger": "dismiss"}, "received", "closed")
            return
        if not verified:
            return
        event(moments[1], "transition", officer, {"trigger": "verify"}, "received", "verified")
        if serious or abuser:
            late = rng.random() < 0.15
            for template, kind in (("emergency_police", "police"), ("emergency_health", "health")):
                open_now = steps == 1 and late
                task(
                    template,
                    w.agency[(incident, kind)],
                    received + timedelta(hours=12),
                    moments[1],
                    None if open_now else moments[1] + timedelta(hours=rng.uniform(1, 11)),
                )
        task(
            "draft_plan",
            w.agency[(residence, "commune_committee")],
            self.working_due(moments[1], 5),
            moments[1],
            moments[2] if steps >= 2 else None,
        )
        if steps < 2:
            return
        event(moments[2], "transition", officer, {"trigger": "submit_plan"}, "verified", "planned")
        task(
            "approve_plan",
            w.agency[(residence, "commune_committee")],
            self.working_due(moments[2], 2),
            moments[2],
            moments[3] if steps >= 3 else None,
        )
        if steps < 3:
            return
        event(moments[3], "transition", chair, {"trigger": "approve_plan"}, "planned", "intervention")
        for agency, description, due in measures:
            done = steps >= 4 or rng.random() < 0.4
            task(
                "plan_measure", agency, due, moments[3], moments[4] if done else None, description=description
            )
        if steps < 4:
            return
        event(moments[4], "transition", officer, {"trigger": "start_follow_up"}, "intervention", "follow_up")
        task(
            "review",
            w.agency[(residence, "commune_committee")],
            self.working_due(moments[4], 20),
            moments[4],
            moments[5] if steps >= 5 else None,
        )
        if steps >= 5:
            event(moments[5], "transition", chair, {"trigger": "close"}, "follow_up", "closed")


COPY_COLUMNS = {
    "cases": "id, reference, state, version, workflow_version, risk_level, harm_types, incident_commune_id, "
    "residence_commune_id, channel, summary, received_at, state_entered_at, closed_at, reopened_at, "
    "closure_reason, serious_harm, caregiver_is_abuser, findings, plan, criminal_referral, "
    "police_case_number, created_by_id, reported_by_agency_id, created_at, updated_at",
    "children": "id, case_id, full_name, date_of_birth, estimated_age, sex, address, school, family",
    "informants": "id, case_id, consent, name, phone, relation",
    "tasks": "id, case_id, kind, template, description, agency_id, status, due_at, rule, legal_basis, "
    "workflow_version, created_at, completed_at, completed_by_id, outcome, note, escalation_level, "
    "warned_at, row_version, incident_commune_id, residence_commune_id",
    "case_events": "id, case_id, at, actor_id, actor_label, kind, from_state, to_state, data",
}


def seed_cases(conn, w: World, n_cases: int, chunk: int = 20_000) -> dict[str, int]:
    rng = random.Random(2017)
    maker = CaseMaker(w, rng, datetime.now(UTC))
    counts: dict[str, int] = defaultdict(int)
    planned = maker.plan(n_cases)
    # Secondary indexes are built once after the load (the migration's own definitions).
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s) "
        "AND indexdef NOT LIKE 'CREATE UNIQUE%%'",
        (list(COPY_COLUMNS),),
    ).fetchall()
    for index, _ in indexes:
        conn.execute(f'DROP INDEX "{index}"')
    for start in range(1, n_cases + 1, chunk):
        out: dict[str, list] = {table: [] for table in COPY_COLUMNS}
        for case_id in range(start, min(start + chunk, n_cases + 1)):
            maker.make(case_id, *planned[case_id - 1], out)
        with conn.cursor() as cur:
            for table, columns in COPY_COLUMNS.items():
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in out[table]:
                        copy.write_row(row)
                counts[table] += len(out[table])
        conn.commit()
    with conn.cursor() as cur:
        for table in COPY_COLUMNS:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        for _, definition in indexes:
            cur.execute(definition)
        # The open-case counters, as the migration fills them from existing cases.
        cur.execute(
            "INSERT INTO open_case_counts (incident_commune_id, residence_commune_id, open_cases) "
            "SELECT incident_commune_id, residence_commune_id, count(*) FROM cases "
            "WHERE closed_at IS NULL GROUP BY incident_commune_id, residence_commune_id"
        )
    conn.commit()
    return counts


# ---------------------------------------------------------------------------------------------
# The server: CaseFlow and the floor in the same processes (gunicorn, or one waitress process)
# ---------------------------------------------------------------------------------------------


def floor_app(url: str, pool_size: int):  # noqa: ANN201
    """The same SQL a `verify` does, in plain Flask + SQLAlchemy Core: the best the API could do."""
    from flask import Flask, abort, jsonify, request
    from sqlalchemy import create_engine, text

    from caseflow.models.types import utcnow
    from caseflow.seed_calendar import shipped_days
    from caseflow.workflow.clock import WorkingCalendar, compute_due

    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://"), pool_size=pool_size, max_overflow=4
    )
    with engine.connect() as conn:
        agencies = {
            (unit, kind): (aid, code, email)
            for aid, unit, kind, code, email in conn.execute(
                text("SELECT id, org_unit_id, kind, code, email FROM agencies")
            )
        }
        calendar = WorkingCalendar({d: kind for d, (kind, _) in shipped_days().items()})
    app = Flask("floor")

    @app.get("/ping")
    def ping():  # noqa: ANN202
        return jsonify({"ok": True})

    @app.post("/cases/<int:case_id>/verify")
    def verify(case_id: int):  # noqa: ANN202
        body = request.get_json()
        version, data, actor = body["version"], body["data"], body["actor"]
        now = utcnow()
        nnow = naive(now)
        with engine.begin() as conn:
            row = conn.execute(
                text(
                    "SELECT id, version, state, incident_commune_id, residence_commune_id, received_at "
                    "FROM cases WHERE id = :id"
                ),
                {"id": case_id},
            ).one_or_none()
            if row is None:
                abort(404)
            if row.version != version or row.state != "received":
                abort(409)
            updated = conn.execute(
                text(
                    "UPDATE cases SET state = 'verified', version = version + 1, risk_level = :risk, "
                    "serious_harm = :serious, caregiver_is_abuser = :abuser, findings = :findings, "
                    "state_entered_at = :now, closed_at = NULL, updated_at = :now WHERE id = :id AND version = :v"
                ),
                {
                    "risk": data["risk_level"],
                    "serious": data["serious_harm"],
                    "abuser": data["caregiver_is_abuser"],
                    "findings": data["findings"],
                    "now": nnow,
                    "id": case_id,
                    "v": version,
                },
            )
            if updated.rowcount != 1:
                abort(409)
            events = []
            for task_id, kind in conn.execute(
                text("SELECT id, kind FROM tasks WHERE case_id = :id AND status = 'open'"), {"id": case_id}
            ):
                if kind == "verify":
                    conn.execute(
                        text(
                            "UPDATE tasks SET status = 'done', completed_at = :now, completed_by_id = :actor, "
                            "outcome = 'by verify', row_version = row_version + 1 WHERE id = :tid"
                        ),
                        {"now": nnow, "actor": actor, "tid": task_id},
                    )
                    events.append(("task_completed", None, None, {"task_id": task_id, "kind": kind}))
            events.insert(0, ("transition", "received", "verified", {"trigger": "verify", **data}))
            received = row.received_at.replace(tzinfo=UTC)
            new = [
                (
                    "draft_plan",
                    "draft_plan",
                    row.residence_commune_id,
                    "commune_committee",
                    compute_due(now, calendar, working_days=5),
                    "working_days: 5 from entered",
                )
            ]
            if data["serious_harm"] or data["caregiver_is_abuser"]:
                for template, kind in (("emergency_police", "police"), ("emergency_health", "health")):
                    new.append(
                        (
                            template,
                            "emergency_protection",
                            row.incident_commune_id,
                            kind,
                            received + timedelta(hours=12),
                            "hours: 12 from received_at",
                        )
                    )
            notes = []
            for template, kind, unit, agency_kind, due, rule in new:
                aid, code, email = agencies[(unit, agency_kind)]
                tid = conn.execute(
                    text(
                        "INSERT INTO tasks (case_id, kind, template, agency_id, status, due_at, rule, legal_basis, "
                        "workflow_version, created_at, escalation_level, row_version, incident_commune_id, "
                        "residence_commune_id) VALUES (:case, :kind, :template, :agency, 'open', :due, :rule, :basis, "
                        ":wv, :now, 0, 1, :incident, :residence) RETURNING id"
                    ),
                    {
                        "case": case_id,
                        "kind": kind,
                        "template": template,
                        "agency": aid,
                        "due": naive(due),
                        "rule": rule,
                        "basis": BASIS[template],
                        "wv": WORKFLOW_VERSION,
                        "now": nnow,
                        "incident": row.incident_commune_id,
                        "residence": row.residence_commune_id,
                    },
                ).scalar_one()
                events.append(
                    (
                        "task_created",
                        None,
                        None,
                        {"task_id": tid, "kind": kind, "agency": code, "due_at": due.isoformat()},
                    )
                )
                notes.append(
                    {
                        "key": f"task_created:{case_id}:{tid}:0:{email}",
                        "case": case_id,
                        "task": tid,
                        "email": email,
                        "now": nnow,
                    }
                )
            conn.execute(
                text(
                    "INSERT INTO case_events (case_id, at, actor_id, kind, from_state, to_state, data) "
                    "VALUES (:case, :now, :actor, :kind, :frm, :to, :data)"
                ),
                [
                    {
                        "case": case_id,
                        "now": nnow,
                        "actor": actor,
                        "kind": k,
                        "frm": f,
                        "to": t,
                        "data": json.dumps(d),
                    }
                    for k, f, t, d in events
                ],
            )
            conn.execute(
                text(
                    "INSERT INTO notifications (dedupe_key, kind, case_id, task_id, level, recipient, locale, "
                    "context, status, attempts, created_at) VALUES (:key, 'task_created', :case, :task, 0, :email, "
                    "'vi', '{}', 'pending', 0, :now)"
                ),
                notes,
            )
        return jsonify({"id": case_id, "state": "verified", "version": version + 1})

    @app.get("/cases/<int:case_id>")
    def detail(case_id: int):  # noqa: ANN202
        """A case with its tasks and child, and the read in its trail: the SQL of a detail view."""
        with engine.begin() as conn:
            case = conn.execute(text("SELECT * FROM cases WHERE id = :id"), {"id": case_id}).mappings().one()
            tasks = (
                conn.execute(
                    text(
                        "SELECT t.*, a.code AS agency_code FROM tasks t JOIN agencies a ON a.id = t.agency_id "
                        "WHERE t.case_id = :id ORDER BY t.id"
                    ),
                    {"id": case_id},
                )
                .mappings()
                .all()
            )
            child = (
                conn.execute(text("SELECT * FROM children WHERE case_id = :id"), {"id": case_id})
                .mappings()
                .one()
            )
            conn.execute(
                text(
                    "INSERT INTO case_events (case_id, at, actor_id, kind, data) "
                    "VALUES (:id, :now, NULL, 'read', '{}')"
                ),
                {"id": case_id, "now": naive(utcnow())},
            )
        return jsonify(
            {
                "case": {k: str(v) for k, v in case.items()},
                "tasks": [{k: str(v) for k, v in t.items()} for t in tasks],
                "child": {k: str(v) for k, v in child.items()},
            }
        )

    return app


def wsgi_app(
    url: str | None = None,
    threads: int | None = None,
    redis_url: str | None = None,
    queue_prefix: str | None = None,
):  # noqa: ANN201
    """CaseFlow with the floor mounted at /floor; gunicorn calls it with the settings in the environment."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from caseflow import create_app

    if url is None:  # called by gunicorn: the settings come through the environment
        url, threads = os.environ["BENCH_DB_URL"], int(os.environ["BENCH_THREADS"])
        redis_url, queue_prefix = os.environ.get("BENCH_REDIS") or None, os.environ["BENCH_QUEUE_PREFIX"]
    # As deployed on PostgreSQL: mail leaves through RQ (jobs on a queue of this run that no
    # worker reads), so the web worker's figures are its own, not the mail server's.
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "REDIS_URL": redis_url,
            "MAIL_SERVER": None,
            "CASEFLOW_QUEUE_PREFIX": queue_prefix,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": threads + 2, "max_overflow": 4},
        }
    )
    return DispatcherMiddleware(app, {"/floor": floor_app(url, threads + 2)})


def serve(url: str, port: int, threads: int, redis_url: str | None, queue_prefix: str) -> None:
    from waitress import create_server

    wsgi = wsgi_app(url, threads, redis_url, queue_prefix)
    server = create_server(
        wsgi,
        host="127.0.0.1",
        port=port,
        threads=threads,
        connection_limit=200,
        channel_timeout=120,
        asyncore_use_poll=True,
    )
    print(f"READY {os.getpid()}", flush=True)
    server.run()


# ---------------------------------------------------------------------------------------------
# The clients
# ---------------------------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP connection with a bearer token."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw and raw[:1] in b"{[" else None)
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def verify_data(case_id: int) -> dict:
    return {
        "risk_level": "medium",
        "serious_harm": case_id % 2 == 0,
        "caregiver_is_abuser": False,
        "findings": "Đã xác minh tại gia đình; trẻ cần hỗ trợ.",
    }


def run_transitions(
    port: int, w: World, pools: dict[int, list[tuple[int, int]]], clients: int, seconds: float, floor: bool
) -> dict:
    """Each client fires `verify` on cases of its own communes until time is up."""
    communes = sorted(pools)
    stop_at = time.perf_counter() + seconds
    results = {"ok": 0, "conflict": 0, "error": 0, "latencies": []}
    lock = threading.Lock()

    def worker(k: int) -> None:
        mine = [c for i, c in enumerate(communes) if i % clients == k]
        http_clients = {c: Client(port, None if floor else w.tokens[w.officer[c]]) for c in mine}
        ok = conflict = error = 0
        lat = []
        i = 0
        while time.perf_counter() < stop_at and any(pools[c] for c in mine):
            commune = mine[i % len(mine)]
            i += 1
            if not pools[commune]:
                continue
            case_id, version = pools[commune].pop()
            t0 = time.perf_counter()
            if floor:
                status, body = http_clients[commune].request(
                    "POST",
                    f"/floor/cases/{case_id}/verify",
                    {"version": version, "data": verify_data(case_id), "actor": w.officer[commune]},
                )
            else:
                status, body = http_clients[commune].request(
                    "POST",
                    f"/api/v1/cases/{case_id}/transitions",
                    {"trigger": "verify", "version": version, "data": verify_data(case_id)},
                )
            lat.append(time.perf_counter() - t0)
            if status == 200 and body and body.get("version") == version + 1:
                ok += 1
            elif status == 409:
                conflict += 1
            else:
                error += 1
                if error <= 3:
                    print(f"  unexpected {status}: {str(body)[:300]}", file=sys.stderr)
        with lock:
            results["ok"] += ok
            results["conflict"] += conflict
            results["error"] += error
            results["latencies"] += lat

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results["elapsed"] = time.perf_counter() - t0
    return results


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure(client: Client, paths: list[str], n: int, budget: float) -> dict:
    """Sequential requests (one client, no other load): p50/p95 in ms."""
    lat = []
    started = time.perf_counter()
    for i in range(n):
        path = paths[i % len(paths)]
        t0 = time.perf_counter()
        status, body = client.request("GET", path)
        lat.append(time.perf_counter() - t0)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {str(body)[:300]}")
        if time.perf_counter() - started > budget and len(lat) >= 20:
            break
    return {"n": len(lat), "p50": percentile(lat, 50) * 1000, "p95": percentile(lat, 95) * 1000}


def peak_rss_kb(pid: int) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmHWM"].split()[0]), int(fields["VmRSS"].split()[0])


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--communes", type=int, default=200)
    parser.add_argument("--districts", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    # The deployment the README recommends: gunicorn, 2 processes x 4 threads.
    parser.add_argument("--threads", type=int, default=4, help="threads per web worker process")
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn worker processes (gthread); 0: one waitress process"
    )
    parser.add_argument("--seconds", type=float, default=10, help="length of each throughput phase")
    parser.add_argument("--rounds", type=int, default=3, help="floor/API phase pairs, interleaved")
    parser.add_argument("--samples", type=int, default=100, help="requests per latency figure")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    parser.add_argument("--url", help="reuse a seeded database (from --keep) instead of making one")
    parser.add_argument(
        "--redis",
        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="Redis for the mail queue; 'none' delivers mail in-process, in the request",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--queue-prefix", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    redis_url = None if args.redis.lower() == "none" else args.redis
    if args.serve:
        serve(args.url, args.port, args.threads, redis_url, args.queue_prefix)
        return 0
    queue_prefix = f"bench-{uuid.uuid4().hex[:8]}"
    if redis_url and not redis_up(redis_url):
        print(f"Redis not reachable at {redis_url}: mail is delivered in-process, inside each request")
        redis_url = None

    import psycopg

    started = time.perf_counter()
    name = None
    if args.url:
        url = args.url
    else:
        name, url = create_database()
        print(f"database {name}")
    server = None
    try:
        if not args.url:
            t0 = time.perf_counter()
            migrate(url)
            with psycopg.connect(url) as conn:
                w = seed_reference(conn, args.communes, args.districts)
                counts = seed_cases(conn, w, args.cases)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            print(
                f"seeded in {time.perf_counter() - t0:.0f}s: "
                + ", ".join(f"{v} {k}" for k, v in counts.items())
            )
            Path(RESULTS).mkdir(parents=True, exist_ok=True)
            world_file(url).write_text(json.dumps(world_json(w)))
        else:
            w = world_from_json(json.loads(world_file(url).read_text()))
        with psycopg.connect(url) as conn:
            overdue = conn.execute(
                "SELECT count(*) FROM tasks WHERE status = 'open' AND due_at < now() AT TIME ZONE 'UTC'"
            ).fetchone()[0]
            open_tasks = conn.execute("SELECT count(*) FROM tasks WHERE status = 'open'").fetchone()[0]
            received = conn.execute(
                "SELECT id, version, incident_commune_id FROM cases WHERE state = 'received' "
                "AND incident_commune_id = residence_commune_id ORDER BY id"
            ).fetchall()
        print(f"{open_tasks} open tasks, {overdue} overdue; {len(received)} received cases for transitions")

        port = args.port or _free_port()
        RESULTS.mkdir(parents=True, exist_ok=True)
        log = open(RESULTS / "server.log", "w")  # noqa: SIM115 - kept open for the subprocess
        if args.workers:
            # gunicorn: N worker processes with threads each, as a deployment would run it.
            env = {
                **os.environ,
                "BENCH_DB_URL": url,
                "BENCH_THREADS": str(args.threads),
                "BENCH_REDIS": redis_url or "",
                "BENCH_QUEUE_PREFIX": queue_prefix,
            }
            server = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "gunicorn"),
                    "--chdir",
                    str(ROOT / "bench"),
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(args.workers),
                    "--threads",
                    str(args.threads),
                    "--worker-class",
                    "gthread",
                    "--timeout",
                    "120",
                    "--log-level",
                    "warning",
                    "bench_api:wsgi_app()",
                ],
                stdout=log,
                stderr=log,
                env=env,
                cwd=str(ROOT),
            )
            wait_until_up(port, server)
            pids = worker_pids(server.pid, args.workers)
        else:
            server = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--serve",
                    "--url",
                    url,
                    "--port",
                    str(port),
                    "--threads",
                    str(args.threads),
                    "--redis",
                    redis_url or "none",
                    "--queue-prefix",
                    queue_prefix,
                ],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                cwd=str(ROOT),
            )
            line = server.stdout.readline()
            if not line.startswith("READY"):
                raise RuntimeError(f"server did not start: {line!r}; see {RESULTS / 'server.log'}")
            pids = [int(line.split()[1])]
        rss_idle = max(peak_rss_kb(p)[1] for p in pids)

        # Two disjoint halves of the received cases: one for the floor, one for the API.
        api_pool: dict[int, list] = defaultdict(list)
        floor_pool: dict[int, list] = defaultdict(list)
        for i, (case_id, version, commune) in enumerate(received):
            (api_pool if i % 2 else floor_pool)[commune].append((case_id, version))
        for pool in (api_pool, floor_pool):
            for cases in pool.values():
                random.Random(7).shuffle(cases)
        # Warm up both paths (imports, pools, caches) with a few requests each.
        run_transitions(
            port,
            w,
            {c: [api_pool[c].pop()] for c in list(api_pool)[: args.clients]},
            args.clients,
            30,
            floor=False,
        )
        run_transitions(
            port,
            w,
            {c: [floor_pool[c].pop()] for c in list(floor_pool)[: args.clients]},
            args.clients,
            30,
            floor=True,
        )

        phases = {"floor": [], "api": []}
        for _ in range(args.rounds):
            for kind in ("floor", "api"):
                r = run_transitions(
                    port,
                    w,
                    floor_pool if kind == "floor" else api_pool,
                    args.clients,
                    args.seconds,
                    floor=kind == "floor",
                )
                phases[kind].append(r)
                print(
                    f"  {kind:5}: {r['ok']} ok, {r['conflict']} conflicts, {r['error']} errors "
                    f"in {r['elapsed']:.1f}s = {r['ok'] / r['elapsed']:.1f}/s"
                )

        def rate(kind: str) -> tuple[float, float, float]:
            ok = sum(r["ok"] for r in phases[kind])
            elapsed = sum(r["elapsed"] for r in phases[kind])
            lat = [x for r in phases[kind] for x in r["latencies"]]
            return ok / elapsed, percentile(lat, 50) * 1000, percentile(lat, 95) * 1000

        floor_rate, floor_p50, floor_p95 = rate("floor")
        api_rate, api_p50, api_p95 = rate("api")

        # Latency of reads, one client at a time.
        rng = random.Random(11)
        officer_commune = w.communes[len(w.communes) // 2]
        with psycopg.connect(url) as conn:
            own_cases = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM cases WHERE incident_commune_id = %s AND state <> 'received' ORDER BY id",
                    (officer_commune,),
                ).fetchall()
            ]
        detail_paths = [
            f"/api/v1/cases/{c}" for c in rng.sample(own_cases, min(len(own_cases), args.samples))
        ]
        officer = Client(port, w.tokens[w.officer[officer_commune]])
        supervisor = Client(port, w.tokens[w.supervisor_province])
        bare = Client(port)
        budget = 25.0
        reads = [
            ("floor: GET /floor/ping (HTTP + Flask only)", bare, ["/floor/ping"], None),
            (
                "floor: case detail, plain SQL",
                bare,
                [p.replace("/api/v1", "/floor") for p in detail_paths],
                None,
            ),
            ("GET case detail (officer)", officer, detail_paths, "floor: case detail, plain SQL"),
            ("GET case list p1 (officer)", officer, ["/api/v1/cases"], None),
            ("GET case list p1 overdue (officer)", officer, ["/api/v1/cases?overdue=true"], None),
            ("GET case list p1 (province supervisor)", supervisor, ["/api/v1/cases"], None),
            ("GET case list p1 overdue (prov. supervisor)", supervisor, ["/api/v1/cases?overdue=true"], None),
            ("GET dashboard/overdue (officer)", officer, ["/api/v1/dashboard/overdue"], None),
            ("GET dashboard/overdue (province supervisor)", supervisor, ["/api/v1/dashboard/overdue"], None),
        ]
        read_results = {}
        for label, client, paths, _ in reads:
            client.request("GET", paths[0])  # warm
            read_results[label] = measure(client, paths, args.samples, budget)
        peak_kb, rss_kb = (max(v) for v in zip(*(peak_rss_kb(p) for p in pids), strict=True))

        # ---- the table ----
        print()
        server_kind = (
            f"gunicorn {args.workers} workers x {args.threads} threads"
            if args.workers
            else f"waitress 1 process x {args.threads} threads"
        )
        print(
            f"CaseFlow API bench: {args.cases} cases, {len(w.communes)} communes, {args.clients} clients, "
            f"{server_kind}, {os.cpu_count()} CPUs, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        )
        print(
            f"mail: {'RQ queue on ' + redis_url if redis_url else 'delivered in-process, inside the request'}; "
            f"load average at the end: {os.getloadavg()[0]:.1f}"
        )
        print(f"{'':46} {'value':>12} {'p50 ms':>9} {'p95 ms':>9} {'vs floor':>9}")
        print(
            f"{'floor: verify, plain SQL (tx/s)':46} {floor_rate:12.1f} {floor_p50:9.1f} {floor_p95:9.1f} "
            f"{'1.00':>9}"
        )
        ratio = api_rate / floor_rate if floor_rate else float("nan")
        goal = "OK" if ratio >= 0.5 else "MISSED"
        print(
            f"{'API: POST transitions verify (tx/s)':46} {api_rate:12.1f} {api_p50:9.1f} {api_p95:9.1f} "
            f"{ratio:9.2f}  goal >= 0.50 {goal}"
        )
        for label, _, _, floor_label in reads:
            r = read_results[label]
            vs = ""
            if floor_label:
                vs = f"{r['p95'] / read_results[floor_label]['p95']:8.1f}x"
            note = ""
            if "dashboard" in label:
                note = "  goal p95 < 100 ms " + ("OK" if r["p95"] < 100 else "MISSED")
            print(f"{label:46} {'n=' + str(r['n']):>12} {r['p50']:9.1f} {r['p95']:9.1f} {vs:>9}{note}")
        print(
            f"{'web worker max RSS after start / peak (MB)':46} {rss_idle / 1024:8.0f} / {peak_kb / 1024:.0f}"
            f"   (now {rss_kb / 1024:.0f})"
        )
        print(f"total bench time {time.perf_counter() - started:.0f}s")
        summary = {
            "at": datetime.now(UTC).isoformat(),
            "cases": args.cases,
            "clients": args.clients,
            "floor_tps": floor_rate,
            "api_tps": api_rate,
            "ratio": ratio,
            "api_transition_ms": [api_p50, api_p95],
            "floor_transition_ms": [floor_p50, floor_p95],
            "reads": read_results,
            "rss_peak_mb": peak_kb / 1024,
            "rss_start_mb": rss_idle / 1024,
        }
        with open(RESULTS / "history.jsonl", "a") as fh:
            fh.write(json.dumps(summary) + "\n")
        return 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        if redis_url:
            clear_queues(redis_url, queue_prefix)
        if name and not args.keep:
            drop_database(name)
        elif name:
            print(f"kept database: {url}")


def world_file(url: str) -> Path:
    """Ids and tokens of a seeded database, kept beside the results for --keep/--url reruns."""
    return RESULTS / f"world-{url.rsplit('/', 1)[1]}.json"


def world_json(w: World) -> dict:
    return {
        "province_id": w.province_id,
        "communes": w.communes,
        "commune_code": w.commune_code,
        "officer": w.officer,
        "chair": w.chair,
        "supervisor_province": w.supervisor_province,
        "tokens": w.tokens,
    }


def world_from_json(data: dict) -> World:
    w = World()
    w.province_id = data["province_id"]
    w.communes = data["communes"]
    w.commune_code = {int(k): v for k, v in data["commune_code"].items()}
    w.officer = {int(k): v for k, v in data["officer"].items()}
    w.chair = {int(k): v for k, v in data["chair"].items()}
    w.supervisor_province = data["supervisor_province"]
    w.tokens = {int(k): v for k, v in data["tokens"].items()}
    return w


def wait_until_up(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}; see {RESULTS / 'server.log'}")
        try:
            if Client(port).request("GET", "/floor/ping")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not answer in time")


def worker_pids(master: int, expected: int) -> list[int]:
    """gunicorn's worker processes (the children of its master)."""
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if len(children) >= expected:
            return [int(c) for c in children]
        time.sleep(0.1)
    raise RuntimeError("gunicorn workers did not start")


def redis_up(url: str) -> bool:
    from redis import Redis

    try:
        return bool(Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:
        return False


def clear_queues(url: str, prefix: str) -> None:
    """Drop this run's queued mail jobs: nobody reads these queues."""
    from redis import Redis

    r = Redis.from_url(url)
    for key in list(r.scan_iter(f"rq:*{prefix}*")):
        kind = r.type(key)
        ids = r.lrange(key, 0, -1) if kind == b"list" else r.zrange(key, 0, -1) if kind == b"zset" else []
        for job_id in ids:
            r.delete(b"rq:job:" + job_id)
        r.delete(key)
    for name in r.smembers("rq:queues"):  # RQ's registry of queue names
        if prefix.encode() in name:
            r.srem("rq:queues", name)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
