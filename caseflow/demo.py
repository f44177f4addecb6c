"""Demo data for trying CaseFlow: Lạng Sơn province, a historic Chi Lăng district, agencies,
a user per role and about thirty cases in every state, some of them overdue."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import Agency, Case, CaseEvent, OrgUnit, Task, User
from caseflow.models.orgs import AGENCY_KINDS
from caseflow.models.types import utcnow
from caseflow.seed_calendar import seed_calendar
from caseflow.services import audit_chain, intake, mergers, transition
from caseflow.services.reference import add_org_unit
from caseflow.workflow import current_engine

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
# Target state -> the triggers (after intake) that bring a case there.
PATHS = {
    "received": [],
    "verified": ["verify"],
    "planned": ["verify", "submit_plan"],
    "intervention": ["verify", "submit_plan", "approve_plan"],
    "follow_up": ["verify", "submit_plan", "approve_plan", "complete_measures", "start_follow_up"],
    "closed": ["verify", "submit_plan", "approve_plan", "complete_measures", "start_follow_up", "close"],
    "dismissed": ["dismiss"],
}
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
        for kind in AGENCY_KINDS:
            db.session.add(
                Agency(
                    code=f"{slug}-{kind}",
                    name=f"{KIND_NAMES[kind]} {name}",
                    kind=kind,
                    org_unit=unit,
                    email=f"{kind}.{slug}@langson.example",
                )
            )
    db.session.flush()

    users = [
        ("admin@demo.caseflow.vn", "Quản trị hệ thống", "admin", province, None),
        ("giamsat@demo.caseflow.vn", "Giám sát tỉnh", "supervisor", province, None),
        ("tongdai111@demo.caseflow.vn", "Tư vấn viên 111", "agency_staff", province, "LS-111"),
    ]
    for unit, slug in communes:
        users += [
            (f"canbo.{slug}@demo.caseflow.vn", f"Cán bộ BVTE {unit.name}", "officer", unit, None),
            (f"chutich.{slug}@demo.caseflow.vn", f"Chủ tịch UBND {unit.name}", "chair", unit, None),
            (
                f"congan.{slug}@demo.caseflow.vn",
                f"Công an {unit.name}",
                "agency_staff",
                unit,
                f"{slug}-police",
            ),
            (
                f"yte.{slug}@demo.caseflow.vn",
                f"Trạm Y tế {unit.name}",
                "agency_staff",
                unit,
                f"{slug}-health",
            ),
            (
                f"truonghoc.{slug}@demo.caseflow.vn",
                f"Trường học {unit.name}",
                "agency_staff",
                unit,
                f"{slug}-education",
            ),
        ]
    by_email = {}
    for email, name, role, unit, agency_code in users:
        agency = db.session.scalar(select(Agency).where(Agency.code == agency_code)) if agency_code else None
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
        for kind in ("commune_committee", "police", "health"):
            db.session.add(
                Agency(
                    code=f"{slug}-{kind}",
                    name=f"{KIND_NAMES[kind]} {name}",
                    kind=kind,
                    org_unit=unit,
                    email=f"{kind}.{slug}@langson.example",
                )
            )
        officer = User(
            email=f"canbo.{slug}@demo.caseflow.vn", name=f"Cán bộ BVTE {name}", role="officer", org_unit=unit
        )
        officer.set_password(DEMO_PASSWORD)
        db.session.add(officer)
        db.session.commit()
        cases = []
        for k in range(2):
            received = datetime.combine(MERGER_DAY - timedelta(days=20 - 3 * n - k), time(9), tzinfo=UTC)
            cases.append(
                intake.open_case(
                    hotline,
                    {
                        "incident_commune": code,
                        "channel": "hotline_111",
                        "received_at": received.isoformat(),
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


def _seed_cases(communes: list, users: dict) -> int:
    rng = random.Random(56)
    engine = current_engine()
    targets = [state for state in PATHS for _ in range(4)] + ["received", "verified"]
    for n, target in enumerate(targets):
        unit, slug = communes[n % len(communes)]
        officer = users[f"canbo.{slug}@demo.caseflow.vn"]
        chair = users[f"chutich.{slug}@demo.caseflow.vn"]
        age_days = rng.choice([0, 1, 3, 8, 15, 30])
        received = utcnow() - timedelta(days=age_days, hours=rng.randint(1, 10))
        case = intake.open_case(
            officer,
            {
                "incident_commune": unit.code,
                "channel": rng.choice(["hotline_111", "police", "school", "community"]),
                "received_at": received.isoformat(),
                "harm_types": rng.sample(
                    ["violence", "neglect", "sexual_abuse", "exploitation", "abandonment"], 2
                ),
                "summary": "Tin báo mẫu cho bản trình diễn (dữ liệu giả).",
                "child": {
                    "full_name": rng.choice(FIRST_NAMES),
                    "estimated_age": rng.randint(3, 15),
                    "sex": rng.choice(["female", "male"]),
                    "address": f"Thôn {n + 1}, {unit.name}",
                },
                "informant": {"name": "Người báo tin", "phone": "0912000000", "consent": n % 2 == 0},
            },
        )
        for step in PATHS[target]:
            _step(engine, case, step, officer, chair, rng)
        _age(case, age_days)
    db.session.commit()
    return len(targets)


def _step(engine, case: Case, step: str, officer: User, chair: User, rng: random.Random) -> None:  # noqa: ANN001
    if step == "complete_measures":
        for task in case.tasks:
            if task.status == "open" and task.kind == "measure":
                task.status, task.completed_at, task.outcome = "done", utcnow(), "Đã thực hiện"
        db.session.commit()
        return
    data = {
        "verify": {
            "risk_level": rng.choice(["low", "medium", "high"]),
            "serious_harm": rng.random() < 0.5,
            "caregiver_is_abuser": rng.random() < 0.2,
            "findings": "Đã xác minh tại gia đình.",
        },
        "dismiss": {"reason": "Tin báo không có cơ sở."},
        "submit_plan": {
            "plan": "Kế hoạch hỗ trợ, can thiệp.",
            "measures": [
                {
                    "agency": f"{_slug(case)}-health",
                    "description": "Khám sức khỏe",
                    "due_at": (utcnow() + timedelta(days=10)).isoformat(),
                },
                {
                    "agency": f"{_slug(case)}-education",
                    "description": "Theo dõi việc học",
                    "due_at": (utcnow() + timedelta(days=20)).isoformat(),
                },
            ],
        },
        "close": {"no_longer_at_risk": True, "stable": True, "summary": "Trẻ đã an toàn, ổn định."},
    }.get(step, {})
    actor = chair if step in ("approve_plan", "close") else officer
    transition.fire(engine, case, actor, step, case.version, data)


def _slug(case: Case) -> str:
    return next(slug for code, _, slug in COMMUNES if code == case.residence_commune.code)


def _age(case: Case, days: int) -> None:
    """Move a demo case back in time so some of its work is overdue, as in real life."""
    if days == 0:
        return
    shift = timedelta(days=days)
    case.state_entered_at -= shift
    for task in db.session.scalars(select(Task).where(Task.case_id == case.id)):
        task.created_at -= shift
        if task.kind != "measure":
            task.due_at -= shift
        if task.completed_at:
            task.completed_at -= shift
    if case.closed_at:
        case.closed_at -= shift
    db.session.flush()
    # Events are append-only for users; the demo rewrites its own fake history once, in SQL,
    # and seals the case's chain again over the new times.
    audit_chain.allow_rewrite(db.session)
    table = CaseEvent.__table__
    for event_id, at in db.session.execute(select(table.c.id, table.c.at).where(table.c.case_id == case.id)):
        db.session.execute(table.update().where(table.c.id == event_id).values(at=at - shift))
    audit_chain.reseal_case(db.session, case.id)
