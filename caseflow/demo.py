"""Demo data for trying CaseFlow: Lạng Sơn province, a historic Chi Lăng district, agencies,
a user per role, and cases that tell the README's tour (an overdue emergency, a plan awaiting
approval, a dismissed report...) with about thirty more in every state, their times consistent."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from caseflow.extensions import db
from caseflow.models import Agency, Case, CaseEvent, OrgUnit, Task, User
from caseflow.models.orgs import AGENCY_KINDS
from caseflow.models.types import utcnow
from caseflow.seed_calendar import seed_calendar
from caseflow.services import audit_chain, intake, mergers, tasks, transition
from caseflow.services.calendar import load_calendar
from caseflow.services.reference import add_org_unit
from caseflow.workflow import current_engine
from caseflow.workflow.clock import compute_due

DEMO_PASSWORD = "caseflow-demo-2026"  # noqa: S105 - printed for demo users by design
MERGER_DAY = date(2025, 7, 1)  # two-level local government (Decree 147/2025)

COMMUNES = [  # (code, name, slug) valid since the 2025 merger, directly under the province
    ("06202", "Phường Đông Kinh", "dongkinh"),
    ("06253", "Xã Chi Lăng", "chilang"),
    ("06277", "Xã Quan Sơn", "quanson"),
]
# Communes of the old Chi Lăng district (until 30/6/2025), each with the commune that took it over.
HISTORIC_COMMUNES = [
    ("06256", "Thị trấn Đồng Mỏ", "dongmo", "06253"),
    ("06259", "Xã Chi Lăng (cũ)", "chilangcu", "06253"),
    ("06280", "Xã Hữu Kiên", "huukien", "06277"),
    ("06283", "Xã Quan Sơn (cũ)", "quansoncu", "06277"),
]
KIND_NAMES = {
    "commune_committee": "UBND",
    "police": "Công an",
    "health": "Trạm Y tế",
    "education": "Trường THCS",
    "social_services": "Cán bộ xã hội",
    "justice": "Tư pháp",
    "hotline": "Điểm tiếp nhận tin báo",
    "mass_org": "Hội Liên hiệp Phụ nữ",
    "other": "Đoàn Thanh niên",
}
# Who works in each commune: (e-mail prefix, title, role, the agency kind of staff).
COMMUNE_PEOPLE = [
    ("canbo", "Cán bộ BVTE", "officer", None),
    ("chutich", "Chủ tịch UBND", "chair", None),
    ("congan", "Công an", "agency_staff", "police"),
    ("yte", "Trạm Y tế", "agency_staff", "health"),
    ("truonghoc", "Trường học", "agency_staff", "education"),
]
FIRST_NAMES = [
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Minh Châu",
    "Phạm Thu Dung",
    "Hoàng Văn Em",
    "Vi Thị Hoa",
    "Lộc Văn Khánh",
    "Nông Thị Lan",
    "Hà Minh Long",
    "Lăng Thị Mai",
]


def agency_code(slug: str, kind: str) -> str:
    """Codes people read on the admin pages: words joined by hyphens, not the kind's own code."""
    return f"{slug}-{kind.replace('_', '-')}"


def _add_agencies(unit: OrgUnit, slug: str, kinds: tuple[str, ...]) -> None:
    for kind in kinds:
        db.session.add(
            Agency(
                code=agency_code(slug, kind),
                name=f"{KIND_NAMES[kind]} {unit.name}",
                kind=kind,
                org_unit=unit,
                email=f"{kind.replace('_', '.')}.{slug}@langson.example",
            )
        )


def seed() -> Iterator[str]:
    if db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "20")):
        yield "Demo data already present; nothing to do."
        return
    seed_calendar()
    province = add_org_unit("20", "Tỉnh Lạng Sơn", "province", None, abbrev="LS")
    # Closed (valid_to) once its communes are merged, in _seed_reform.
    district = add_org_unit("186", "Huyện Chi Lăng (đến 30/6/2025)", "district", province)
    db.session.add(
        Agency(
            code="LS-111",
            name="Tổng đài 111 - Lạng Sơn",
            kind="hotline",
            org_unit=province,
            email="tongdai111@langson.example",
        )
    )
    communes = []
    for code, name, slug in COMMUNES:
        unit = add_org_unit(code, name, "commune", province, valid_from=MERGER_DAY)
        communes.append((unit, slug))
        _add_agencies(unit, slug, AGENCY_KINDS)
    db.session.flush()

    users = [
        ("admin@demo.caseflow.vn", "Lương Thị Hằng (quản trị)", "admin", province, None),
        ("giamsat@demo.caseflow.vn", "Giám sát tỉnh", "supervisor", province, None),
        ("tongdai111@demo.caseflow.vn", "Tư vấn viên 111", "agency_staff", province, "LS-111"),
    ]
    for unit, slug in communes:
        users += [
            (
                f"{prefix}.{slug}@demo.caseflow.vn",
                f"{title} {unit.name}",
                role,
                unit,
                kind and f"{slug}-{kind}",
            )
            for prefix, title, role, kind in COMMUNE_PEOPLE
        ]
    by_email = {}
    for email, name, role, unit, staff_of in users:
        agency = db.session.scalar(select(Agency).where(Agency.code == staff_of)) if staff_of else None
        user = User(email=email, name=name, role=role, org_unit=unit, agency=agency)
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        by_email[email] = user
    db.session.commit()
    yield f"Demo users (password for all: {DEMO_PASSWORD}):"
    for email, _, role, unit, _ in users:
        yield f"  {role:13} {email}  ({unit.name})"

    count = _seed_cases(communes, by_email)
    yield f"{count} demo cases created."
    yield from _seed_reform(district, by_email)


def _seed_reform(district: OrgUnit, users: dict) -> Iterator[str]:
    """Post-reform Lạng Sơn: the old Chi Lăng district's communes, with reports recorded there
    before 1 July 2025, merged into their successors (services/mergers.py), as an administrator
    would with `flask caseflow merge-unit`. One report per commune was dismissed before the
    merger and stays there for history; the open ones moved, and the new officer carries on."""
    rng = random.Random(147)
    engine = current_engine()
    hotline = users["tongdai111@demo.caseflow.vn"]
    admin = users["admin@demo.caseflow.vn"]
    yield "Communes of the old Chi Lăng district, merged on 01/07/2025:"
    for n, (code, name, slug, into) in enumerate(HISTORIC_COMMUNES):
        unit = add_org_unit(code, name, "commune", district)
        _add_agencies(unit, slug, ("commune_committee", "police", "health"))
        officer = User(
            email=f"canbo.{slug}@demo.caseflow.vn", name=f"Cán bộ BVTE {name}", role="officer", org_unit=unit
        )
        officer.set_password(DEMO_PASSWORD)
        db.session.add(officer)
        db.session.commit()
        cases = []
        for k in range(2):
            received = datetime.combine(MERGER_DAY - timedelta(days=20 - 3 * n - k), time(9), tzinfo=UTC)
            # Opened now, then its whole history moved back to the day it came in (as the stories
            # are): receipt, deadlines and trail agree.
            cases.append(
                intake.open_case(
                    hotline,
                    {
                        "incident_commune": code,
                        "channel": "hotline_111",
                        "harm_types": rng.sample(["violence", "neglect", "exploitation"], 1),
                        "summary": "Tin báo trước sáp nhập (dữ liệu giả).",
                        "child": {
                            "full_name": rng.choice(FIRST_NAMES),
                            "estimated_age": rng.randint(4, 15),
                            "sex": rng.choice(["female", "male"]),
                        },
                    },
                )
            )
            _travel(cases[-1], utcnow() - received)
        cases = [db.session.get(Case, c.id) for c in cases]
        transition.fire(
            engine, cases[1], officer, "dismiss", cases[1].version, {"reason": "Tin báo không có cơ sở."}
        )
        result = mergers.merge_unit(code, {"into": into, "on": MERGER_DAY.isoformat()}, admin)
        new_officer = db.session.scalar(
            select(User).where(User.email == f"canbo.{_slug_of(into)}@demo.caseflow.vn")
        )
        moved = db.session.get(Case, cases[0].id)
        transition.fire(
            engine,
            moved,
            new_officer,
            "verify",
            moved.version,
            {
                "risk_level": "medium",
                "serious_harm": False,
                "caregiver_is_abuser": False,
                "findings": "Đã xác minh sau sáp nhập.",
            },
        )
        yield f"  {name} -> {result.into.name}: {result.cases} open case(s) moved, officer {officer.email} moved"
    district.valid_to = MERGER_DAY - timedelta(days=1)
    db.session.commit()


def _slug_of(code: str) -> str:
    return next(slug for c, _, slug in COMMUNES if c == code)


@dataclass
class Story:
    """One demo case: received `ago` before the seed runs, then each step `after` its receipt.

    The steps run now and the case's whole history (receipt, tasks, deadlines, trail) is moved back
    by the same amount before each next step, so that every time the pages show agrees: a deadline
    is its rule applied to the moment it counts from, never before the report arrived."""

    commune: str  # slug
    ago: timedelta
    steps: list[tuple[timedelta, str, dict]] = field(default_factory=list)
    harm: tuple[str, ...] = ("violence",)
    channel: str = "hotline_111"
    summary: str = "Tin báo mẫu cho bản trình diễn (dữ liệu giả)."
    note: str | None = None


H, D = timedelta(hours=1), timedelta(days=1)
SERIOUS = {"risk_level": "high", "serious_harm": True, "caregiver_is_abuser": True}
ROUTINE = {"risk_level": "medium", "serious_harm": False, "caregiver_is_abuser": False}
FINDINGS = {"findings": "Đã xác minh tại gia đình và nhà trường."}
CLOSE = {"no_longer_at_risk": True, "stable": True, "summary": "Trẻ đã an toàn, ổn định; gia đình hợp tác."}


def _way(
    *at: timedelta, verify: dict = ROUTINE, plan: dict | None = None
) -> list[tuple[timedelta, str, dict]]:
    """The usual way through the procedure, as far as `at` goes, each step `at` its time after
    receipt: verification (with `verify`'s findings), the plan submitted (`plan`, else the tour's)
    and approved, its measures done, the follow-up, the closure."""
    steps = [
        ("verify", {**verify, **FINDINGS}),
        ("submit_plan", plan or TOUR_PLAN),
        ("approve_plan", {}),
        ("complete_measures", {}),
        ("start_follow_up", {}),
        ("close", CLOSE),
    ]
    return [(after, step, data) for after, (step, data) in zip(at, steps, strict=False)]


def _plan(measures: list[tuple[str, str, timedelta]]) -> dict:
    """A plan whose measures are due `after` the moment it is submitted (see `_run`)."""
    return {"plan": "Hỗ trợ tâm lý, khám sức khỏe và theo dõi việc học của trẻ.", "measures": measures}


TOUR_PLAN = _plan(
    [("health", "Khám sức khỏe, điều trị vết thương", 10 * D), ("education", "Theo dõi việc học", 20 * D)]
)

# The stories the README's tour walks through, in Phường Đông Kinh (others may append their own:
# a separation, a merged commune's case).
STORIES: list[Story] = [
    # An emergency whose 12-hour police and health deadlines passed 8 hours ago.
    Story(
        "dongkinh",
        20 * H,
        _way(1 * H, verify=SERIOUS),
        harm=("violence",),
        summary="Hàng xóm báo trẻ bị cha dượng đánh, có vết bầm.",
    ),
    # A plan the chair has to approve.
    Story(
        "dongkinh",
        6 * D,
        _way(5 * H, 3 * D),
        harm=("neglect",),
        channel="school",
    ),
    # A report verification found unfounded.
    Story(
        "dongkinh",
        4 * D,
        [(6 * H, "dismiss", {"reason": "Đã xác minh: trẻ được chăm sóc đầy đủ, tin báo không có cơ sở."})],
        harm=("neglect",),
        channel="community",
    ),
    # A report received two hours ago: verification is due in ten.
    Story("dongkinh", 2 * H, harm=("sexual_abuse",), channel="police"),
    # A crime referred to the police while the protection work goes on.
    Story(
        "dongkinh",
        3 * D,
        _way(4 * H, verify={**ROUTINE, "criminal_referral": True, "police_case_number": "CA-LS-2026-0312"}),
        harm=("exploitation",),
        channel="police",
    ),
    # A plan under way, one of its measures overdue.
    Story(
        "dongkinh",
        16 * D,
        _way(
            3 * H,
            3 * D,
            4 * D,
            plan=_plan([("health", "Khám sức khỏe định kỳ", 5 * D), ("education", "Hỗ trợ học tập", 30 * D)]),
        ),
        harm=("violence", "neglect"),
    ),
    # Follow-up after every measure was done.
    Story(
        "dongkinh",
        40 * D,
        _way(3 * H, 4 * D, 5 * D, 20 * D, 21 * D),
        harm=("abandonment",),
    ),
    # A case closed once the child was safe and stable.
    Story(
        "dongkinh",
        60 * D,
        _way(2 * H, 4 * D, 6 * D, 25 * D, 26 * D, 50 * D),
        harm=("violence",),
    ),
    # The child moved: the plan's commune hands the case to the new one.
    Story(
        "dongkinh",
        9 * D,
        [*_way(4 * H), (2 * D, "handover", {"residence_commune": "06253"})],
        harm=("neglect",),
    ),
]
# Round after round (the benchmark seeds more): every state, on every commune, some overdue.
ROUND = [
    [],
    _way(2 * H),
    _way(2 * H, verify=SERIOUS),
    _way(2 * H, 2 * D),
    _way(2 * H, 2 * D, 3 * D),
    _way(2 * H, 2 * D, 3 * D, 6 * D, 7 * D),
    [(3 * H, "dismiss", {"reason": "Tin báo không có cơ sở."})],
]
AGES = [5 * H, 1 * D, 3 * D, 8 * D, 15 * D, 30 * D]


def _seed_cases(communes: list, users: dict) -> int:
    """The tour's stories once (first call), then a round of cases in every state on each commune."""
    rng = random.Random(56 + db.session.scalar(select(func.count()).select_from(Case)))
    stories = [] if db.session.scalar(select(func.count()).select_from(Case)) else list(STORIES)
    slugs = [slug for _, slug in communes]
    for n in range(30 - len(stories)):
        steps = ROUND[n % len(ROUND)]
        last = max((after for after, _, _ in steps), default=timedelta(0))
        ago = max(rng.choice(AGES), last + 2 * H)
        stories.append(
            Story(
                slugs[n % len(slugs)],
                ago,
                steps,
                harm=tuple(
                    rng.sample(["violence", "neglect", "sexual_abuse", "exploitation", "abandonment"], 2)
                ),
                channel=rng.choice(["hotline_111", "police", "school", "community"]),
            )
        )
    units = {slug: unit for unit, slug in communes}
    for n, story in enumerate(stories):
        _run(story, units, users, rng, n)
    db.session.commit()
    return len(stories)


def _run(story: Story, units: dict, users: dict, rng: random.Random, n: int) -> Case:
    engine = current_engine()
    unit = units[story.commune]
    officer = users[f"canbo.{story.commune}@demo.caseflow.vn"]
    chair = users[f"chutich.{story.commune}@demo.caseflow.vn"]
    case = intake.open_case(
        officer,
        {
            "incident_commune": unit.code,
            "channel": story.channel,
            "received_at": utcnow().isoformat(),
            "harm_types": list(story.harm),
            "summary": story.summary,
            "child": {
                "full_name": rng.choice(FIRST_NAMES),
                "estimated_age": rng.randint(3, 15),
                "sex": rng.choice(["female", "male"]),
                "address": f"Thôn {n + 1}, {unit.name}",
                "family": "Sống cùng mẹ và cha dượng." if n % 3 == 0 else None,
            },
            "informant": {"name": "Người báo tin", "phone": "0912000000", "consent": n % 2 == 0},
        },
    )
    done = timedelta(0)  # how far into the story the case stands
    for after, step, data in story.steps:
        _travel(case, after - done)
        done = after
        _step(engine, case, step, data, officer, chair)
    _travel(case, story.ago - done)
    _settle_deadlines(engine, case)
    return case


def _step(engine, case: Case, step: str, data: dict, officer: User, chair: User) -> None:  # noqa: ANN001
    if step == "complete_measures":
        # The agencies report their measures done (as they would from My work or the mailed link).
        for task in case.tasks:
            if task.status == "open" and task.kind == "measure":
                staff = db.session.scalar(
                    select(User).where(User.agency_id == task.agency_id, User.role == "agency_staff")
                )
                outcome = {"outcome": "Đã thực hiện theo kế hoạch.", "note": None}
                tasks.complete_task(engine, staff, task, outcome, None if staff else task.agency.name)
        return
    if step == "submit_plan":
        now = utcnow()
        slug = next(s for code, _, s in COMMUNES if code == case.residence_commune.code)
        data = {
            "plan": data["plan"],
            "measures": [
                {"agency": agency_code(slug, kind), "description": text, "due_at": (now + due).isoformat()}
                for kind, text, due in data["measures"]
            ],
        }
    actor = chair if "officer" not in engine.definition.transitions[step].roles else officer
    transition.fire(engine, case, actor, step, case.version, data)


def _travel(case: Case, delta: timedelta) -> None:
    """Move everything the case has so far `delta` into the past, in SQL: events are append-only
    for users, and the demo rewrites only its own fake history."""
    if delta <= timedelta(0):
        return
    db.session.flush()
    cases, task_rows, events = Case.__table__, Task.__table__, CaseEvent.__table__
    row = db.session.execute(select(cases).where(cases.c.id == case.id)).one()
    db.session.execute(
        cases.update()
        .where(cases.c.id == case.id)
        .values(
            **_earlier(
                row, delta, "received_at", "state_entered_at", "created_at", "closed_at", "reopened_at"
            ),
            plan=_shift_plan(row.plan, delta),
        )
    )
    for t in db.session.execute(select(task_rows).where(task_rows.c.case_id == case.id)).all():
        db.session.execute(
            task_rows.update()
            .where(task_rows.c.id == t.id)
            .values(**_earlier(t, delta, "created_at", "due_at", "completed_at", "case_received_at"))
        )
    # Events are append-only for users; the demo rewrites its own fake history once, in SQL,
    # and seals the case's chain again over the new times.
    audit_chain.allow_rewrite(db.session)
    for e in db.session.execute(select(events).where(events.c.case_id == case.id)).all():
        db.session.execute(
            events.update()
            .where(events.c.id == e.id)
            .values(at=e.at - delta, data=_shift_data(e.data, delta))
        )
    audit_chain.reseal_case(db.session, case.id)
    db.session.commit()
    db.session.expire_all()


def _earlier(row: object, delta: timedelta, *columns: str) -> dict[str, datetime | None]:
    """The row's time `columns`, each `delta` earlier (one not set stays unset)."""
    return {c: getattr(row, c) - delta if getattr(row, c) else None for c in columns}


def _shift_iso(value: str, delta: timedelta) -> str:
    return (datetime.fromisoformat(value) - delta).isoformat()


def _shift_data(data: dict | None, delta: timedelta) -> dict | None:
    if not data or not isinstance(data.get("due_at"), str):
        return data
    return {**data, "due_at": _shift_iso(data["due_at"], delta)}


def _shift_plan(plan: dict | None, delta: timedelta) -> dict | None:
    if not plan or not isinstance(plan.get("measures"), list):
        return plan
    measures = [
        {**m, "due_at": _shift_iso(m["due_at"], delta)} if isinstance(m.get("due_at"), str) else m
        for m in plan["measures"]
    ]
    return {**plan, "measures": measures}


def _settle_deadlines(engine, case: Case) -> None:  # noqa: ANN001
    """A working-day deadline moved back by calendar days may land on a weekend: set it again from
    the moment it counts from, by the same function the engine uses, and say so in the trail."""
    calendar = load_calendar()
    events = CaseEvent.__table__
    created = {
        (e.data or {}).get("task_id"): e
        for e in db.session.execute(
            select(events).where(events.c.case_id == case.id, events.c.kind == "task_created")
        ).all()
    }
    for task in db.session.scalars(select(Task).where(Task.case_id == case.id)):
        template = engine.definition.tasks.get(task.template)
        if template is None or template.deadline.working_days is None:
            continue
        start = task.created_at if template.deadline.anchor != "received_at" else case.received_at
        due = compute_due(start, calendar, working_days=template.deadline.working_days)
        if due == task.due_at:
            continue
        task.due_at = due
        event = created.get(task.id)
        if event is not None:
            audit_chain.allow_rewrite(db.session)
            db.session.execute(
                events.update()
                .where(events.c.id == event.id)
                .values(data={**event.data, "due_at": due.isoformat()})
            )
            audit_chain.reseal_case(db.session, case.id)
    db.session.commit()
