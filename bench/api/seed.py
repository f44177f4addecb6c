"""Seeding the bench's province: communes, agencies, users and tokens, then cases by COPY.

The task kinds, legal bases and the workflow version come from the workflow file the app
loads (`CASEFLOW_WORKFLOW`), so a seeded register looks like one the app itself wrote.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from caseflow.models.orgs import AGENCY_KINDS

ROOT = Path(__file__).resolve().parent.parent.parent
PG_ADMIN_URL = os.environ.get("CASEFLOW_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
RESULTS = ROOT / "bench" / "results"
PASSWORD = "bench-password-2026"
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


@functools.cache
def definition():  # noqa: ANN201 - the loaded WorkflowDefinition
    """The workflow file the app loads, as the app loads it."""
    import caseflow.services.effects  # noqa: F401 - registers the effects the file names
    from caseflow.workflow.engine import engine_for

    path = os.environ.get("CASEFLOW_WORKFLOW", str(ROOT / "workflows" / "decree56.yaml"))
    return engine_for(path).definition


def template_of(template: str):  # noqa: ANN201 - a TaskTemplate
    return definition().tasks[template]


def workflow_version() -> str:
    return f"{definition().name}/{definition().version}"


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
                workflow_version(),
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
            rule = template_of(template).deadline.describe()
            status = status or ("done" if done_at else "open")
            overdue = status == "open" and due < now
            out["tasks"].append(
                (
                    self.task_id,
                    case_id,
                    template_of(template).kind,
                    template,
                    description,
                    agency,
                    status,
                    naive(due),
                    rule,
                    template_of(template).basis,
                    workflow_version(),
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
                    naive(received),
                )
            )
            event(
                created,
                "task_created",
                officer,
                {"task_id": self.task_id, "kind": template_of(template).kind},
            )

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
    "warned_at, row_version, incident_commune_id, residence_commune_id, case_received_at",
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
