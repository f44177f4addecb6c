"""The cost of encryption at rest and of the audit chain, on a transition and on case detail.

Usage: .venv/bin/python bench/bench_crypto.py [--n 200] [--pg postgresql://postgres@127.0.0.1:5432/test]

One process, one fresh PostgreSQL database: the same `verify` transition and the same case
detail through the API's in-process client, interleaved one request each with encryption and
chaining ON (as shipped) and OFF (the column types pass values through, events are not
sealed). Each figure is the median of process CPU and of wall time per request; the ratio
ON/OFF is the cost. Wall time includes the chain's two extra statements (the per-case lock
and the head read); CPU is this process's only (PostgreSQL's own work is in wall time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextmanager
def protections(on: bool):  # noqa: ANN201
    """Encryption and chaining as shipped (on), or switched off for the comparison."""
    from caseflow.models import types
    from caseflow.services import audit_chain

    if on:
        yield
        return
    saved = (
        types.EncryptedText.process_bind_param,
        types.EncryptedJSON.process_bind_param,
        types.EncryptedDate.process_bind_param,
        audit_chain.seal_rows,
    )
    types.EncryptedText.process_bind_param = lambda self, value, dialect: value
    types.EncryptedJSON.process_bind_param = lambda self, value, dialect: value
    types.EncryptedDate.process_bind_param = lambda self, value, dialect: (
        None if value is None else value.isoformat()
    )
    audit_chain.seal_rows = lambda session, rows: None
    try:
        yield
    finally:
        (
            types.EncryptedText.process_bind_param,
            types.EncryptedJSON.process_bind_param,
            types.EncryptedDate.process_bind_param,
            audit_chain.seal_rows,
        ) = saved


def _seed(n_cases: int) -> tuple[str, list[int]]:
    from caseflow.extensions import db
    from caseflow.models import Agency, User
    from caseflow.models.orgs import AGENCY_KINDS
    from caseflow.services import intake
    from caseflow.services.reference import add_org_unit

    province = add_org_unit("P", "Tỉnh", "province", None, abbrev="TB")
    commune = add_org_unit("A", "Xã A", "commune", province)
    for kind in AGENCY_KINDS:
        db.session.add(
            Agency(code=f"A-{kind}", name=kind, kind=kind, org_unit=commune, email=f"{kind}@a.test")
        )
    officer = User(email="officer@a.test", name="Cán bộ", role="officer", org_unit=commune)
    officer.set_password("bench-password-long-enough")
    db.session.add(officer)
    db.session.commit()
    ids = []
    for i in range(n_cases):
        # Half the cases are opened with the protections off, so each mode transitions its own.
        with protections(on=i % 2 == 0):
            case = intake.open_case(
                officer,
                {
                    "incident_commune": "A",
                    "channel": "hotline_111",
                    "harm_types": ["violence"],
                    "summary": f"Hàng xóm báo cháu Nguyễn Văn {i} bị đánh ở nhà",
                    "child": {
                        "full_name": f"Nguyễn Văn {i}",
                        "date_of_birth": "2015-05-01",
                        "sex": "male",
                        "address": f"Thôn {i}, xã A",
                        "family": "Bố mẹ làm nông",
                    },
                    "informant": {"name": "Người báo", "phone": "0900000000", "consent": True},
                },
            )
        ids.append(case.id)
    return officer.email, ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="requests per mode and operation")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    import psycopg

    name = f"caseflow_bench_crypto_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = args.pg.rsplit("/", 1)[0] + f"/{name}"
    try:
        return _run(url, args.n)
    finally:
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(url: str, n: int) -> int:
    import os

    os.environ["CASEFLOW_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="bench-crypto-")
    from flask_migrate import upgrade

    from caseflow import create_app
    from caseflow.extensions import db
    from caseflow.seed_calendar import seed_calendar

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "MAIL_SUPPRESS_SEND": True,
            "CASEFLOW_LOG_REQUESTS": False,
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed_calendar()
        email, ids = _seed(2 * n + 20)
        client = app.test_client()
        token = client.post(
            "/api/v1/auth/token", json={"email": email, "password": "bench-password-long-enough"}
        ).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        by_mode = {
            True: [i for k, i in enumerate(ids) if k % 2 == 0],
            False: [i for k, i in enumerate(ids) if k % 2],
        }
        samples: dict[tuple[str, bool], list[tuple[float, float]]] = {}

        def timed(key: tuple[str, bool], call) -> None:  # noqa: ANN001
            cpu, wall = time.process_time(), time.perf_counter()
            resp = call()
            samples.setdefault(key, []).append((time.process_time() - cpu, time.perf_counter() - wall))
            assert resp.status_code == 200, resp.get_data()[:300]

        verify = {
            "risk_level": "high",
            "serious_harm": True,
            "caregiver_is_abuser": False,
            "findings": "Đã gặp cháu",
        }
        for step in range(n + 10):
            for on in (True, False):
                case_id = by_mode[on][step]
                with protections(on):
                    if step >= 10:  # the first ten warm caches and statements
                        timed(
                            ("detail", on),
                            lambda c=case_id: client.get(f"/api/v1/cases/{c}", headers=headers),
                        )
                    detail = client.get(f"/api/v1/cases/{case_id}", headers=headers)
                    body = {"trigger": "verify", "version": detail.get_json()["version"], "data": verify}
                    if step >= 10:
                        timed(
                            ("transition", on),
                            lambda c=case_id, b=body: client.post(
                                f"/api/v1/cases/{c}/transitions", json=b, headers=headers
                            ),
                        )
                    else:
                        client.post(f"/api/v1/cases/{case_id}/transitions", json=body, headers=headers)
        from caseflow.services.audit_chain import verify as verify_chains

        broken = [b for b in verify_chains(db.session) if b.seq is not None]
        db.session.remove()
        db.engine.dispose()

    print(f"bench_crypto: {n} requests per operation and mode, PostgreSQL, one process")
    print(
        f"{'operation':<12} {'cpu ms on':>10} {'cpu ms off':>11} {'cpu ratio':>10} {'wall ms on':>11} {'wall ms off':>12} {'wall ratio':>11}"
    )
    for op in ("transition", "detail"):
        on_cpu = statistics.median(c for c, _ in samples[(op, True)]) * 1000
        off_cpu = statistics.median(c for c, _ in samples[(op, False)]) * 1000
        on_wall = statistics.median(w for _, w in samples[(op, True)]) * 1000
        off_wall = statistics.median(w for _, w in samples[(op, False)]) * 1000
        print(
            f"{op:<12} {on_cpu:>10.2f} {off_cpu:>11.2f} {on_cpu / off_cpu:>10.2f} "
            f"{on_wall:>11.2f} {off_wall:>12.2f} {on_wall / off_wall:>11.2f}"
        )
    print(f"chains of the protected cases intact: {not broken}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
