"""The floor: the bare SQL a `verify` must write, in plain Flask + SQLAlchemy Core.

No token, no ORM, no Machine, no checks: the statements alone, with the reference data (agencies,
each commune's province and supervisors, the task templates) read once at start-up. It writes
everything the law asks of a verification, as the API does: the case and its task, the Mẫu 02
record, the new tasks (police, health, evidence on a serious case) and their mails, the ad-hoc
report of a serious case and its mails, and the trail, encrypted and hash-chained. So the ratio
API / floor is the cost of CaseFlow's layers, not of work only one side does.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta

from api.seed import definition, naive, workflow_version

# audit_chain.ADVISORY_CLASS; the floor takes the same lock the app does, so both serialise alike.
CHAIN_LOCK = 5601


def floor_app(url: str, pool_size: int, keyring, forms):  # noqa: ANN001, ANN201
    """`keyring`: the app's data keys (the floor encrypts what the app encrypts); `forms`: the
    app's form catalog (which form verify records, with which of its fields)."""
    from flask import Flask, abort, jsonify, request
    from sqlalchemy import create_engine, text

    from caseflow.models.types import utcnow
    from caseflow.seed_calendar import shipped_days
    from caseflow.services.audit_chain import event_hash
    from caseflow.workflow.clock import WorkingCalendar, compute_due

    flow = definition()
    verify_def = flow.transitions["verify"]
    done_kinds = set(verify_def.completes)
    draft = flow.tasks[flow.states[verify_def.dest].tasks[0]]
    serious_tasks = [
        flow.tasks[spawn.task] for spawn in verify_def.creates if "serious_harm" in spawn.when_any
    ]
    adhoc_rule = flow.lists.reports.adhoc
    form_spec = forms.by_trigger["verify"]
    form_code = form_spec.form
    form_fields = forms.forms[form_code]
    identity_fields = set(form_fields.identity_fields)
    version = workflow_version()

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
        agency_email = {aid: email for aid, _, email in agencies.values()}
        paths = dict(conn.execute(text("SELECT id, path FROM org_units")).all())
        province_of_path = {
            path: uid for uid, path in paths.items() if path.count("/") == 2
        }  # '/20/' is a province
        supervisors = {}
        for unit, email in conn.execute(
            text("SELECT org_unit_id, email FROM users WHERE role = 'supervisor' AND active")
        ):
            supervisors.setdefault(unit, []).append(email)
        calendar = WorkingCalendar({d: kind for d, (kind, _) in shipped_days().items()})

    def province(commune_id: int) -> int:
        return province_of_path["/" + paths[commune_id].strip("/").split("/")[0] + "/"]

    def sealed(value: object, purpose: str) -> str:
        return keyring.encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")), purpose)

    app = Flask("floor")

    @app.get("/ping")
    def ping():  # noqa: ANN202
        return jsonify({"ok": True})

    @app.post("/cases/<int:case_id>/verify")
    def verify(case_id: int):  # noqa: ANN202
        body = request.get_json()
        v, data, actor = body["version"], body["data"], body["actor"]
        now = utcnow()
        nnow = naive(now)
        serious = bool(data.get("serious_harm") or data.get("caregiver_is_abuser"))
        with engine.begin() as conn:
            row = conn.execute(
                text(
                    "SELECT id, version, state, incident_commune_id, residence_commune_id, received_at, "
                    "harm_types, reported_by_agency_id FROM cases WHERE id = :id"
                ),
                {"id": case_id},
            ).one_or_none()
            if row is None:
                abort(404)
            if row.version != v or row.state != "received":
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
                    "findings": keyring.encrypt(data["findings"], "cases.findings"),
                    "now": nnow,
                    "id": case_id,
                    "v": v,
                },
            )
            if updated.rowcount != 1:
                abort(409)
            events = [("transition", "received", "verified", {"trigger": "verify", **data})]
            for task_id, kind in conn.execute(
                text("SELECT id, kind FROM tasks WHERE case_id = :id AND status = 'open'"), {"id": case_id}
            ):
                if kind in done_kinds:
                    conn.execute(
                        text(
                            "UPDATE tasks SET status = 'done', completed_at = :now, completed_by_id = :actor, "
                            "outcome = 'by verify', row_version = row_version + 1 WHERE id = :tid"
                        ),
                        {"now": nnow, "actor": actor, "tid": task_id},
                    )
                    events.append(("task_completed", None, None, {"task_id": task_id, "kind": kind}))
            # The assessment form (Mẫu 02): its next revision, what was written on it kept.
            latest = conn.execute(
                text(
                    "SELECT revision, data, identity FROM form_records WHERE case_id = :id AND code = :code "
                    "ORDER BY revision DESC LIMIT 1"
                ),
                {"id": case_id, "code": form_code},
            ).first()
            values = {}
            if latest is not None:
                for stored, purpose in ((latest.data, "data"), (latest.identity, "identity")):
                    if isinstance(stored, str):
                        values.update(json.loads(keyring.decrypt(stored, f"form_records.{purpose}")))
            values.update({target: data[source] for target, source in form_spec.fields if source in data})
            values.setdefault("assessed_at", now.isoformat())
            revision = latest.revision + 1 if latest else 1
            conn.execute(
                text(
                    "INSERT INTO form_records (case_id, code, revision, data, identity, recorded_at, "
                    "recorded_by_id, recorded_with) VALUES (:id, :code, :rev, :data, :identity, :now, :actor, "
                    "'verify')"
                ),
                {
                    "id": case_id,
                    "code": form_code,
                    "rev": revision,
                    "data": json.dumps(
                        sealed(
                            {k: x for k, x in values.items() if k not in identity_fields}, "form_records.data"
                        )
                    ),
                    "identity": json.dumps(
                        sealed(
                            {k: x for k, x in values.items() if k in identity_fields}, "form_records.identity"
                        )
                    ),
                    "now": nnow,
                    "actor": actor,
                },
            )
            events.append(("form_recorded", None, None, {"code": form_code, "revision": revision}))
            received = row.received_at.replace(tzinfo=UTC)

            def due(template):  # noqa: ANN001, ANN202
                rule = template.deadline
                start = received if rule.anchor == "received_at" else now
                if rule.hours is not None:
                    return start + timedelta(hours=rule.hours)
                return compute_due(start, calendar, working_days=rule.working_days)

            communes = {"incident": row.incident_commune_id, "residence": row.residence_commune_id}
            new = [draft, *(serious_tasks if serious else [])]
            new = [(t, communes[t.commune], due(t)) for t in new]
            notes = []
            for template, unit, due in new:
                aid, code, email = agencies[(unit, template.agency_kind)]
                tid = conn.execute(
                    text(
                        "INSERT INTO tasks (case_id, kind, template, agency_id, status, due_at, rule, legal_basis, "
                        "workflow_version, created_at, escalation_level, row_version, incident_commune_id, "
                        "residence_commune_id, case_received_at) VALUES (:case, :kind, :template, :agency, 'open', "
                        ":due, :rule, :basis, :wv, :now, 0, 1, :incident, :residence, :received) RETURNING id"
                    ),
                    {
                        "case": case_id,
                        "kind": template.kind,
                        "template": template.id,
                        "agency": aid,
                        "due": naive(due),
                        "rule": template.deadline.describe(),
                        "basis": template.basis,
                        "wv": version,
                        "now": nnow,
                        "incident": row.incident_commune_id,
                        "residence": row.residence_commune_id,
                        "received": row.received_at,
                    },
                ).scalar_one()
                events.append(
                    (
                        "task_created",
                        None,
                        None,
                        {"task_id": tid, "kind": template.kind, "agency": code, "due_at": due.isoformat()},
                    )
                )
                notes.append(
                    {
                        "key": f"task_created:{case_id}:{tid}:0:{email}",
                        "kind": "task_created",
                        "task": tid,
                        "email": email,
                    }
                )
            # The ad-hoc report of a serious case, once per case, and its mails to the province.
            harms = row.harm_types or []
            reasons = [n for n in adhoc_rule.when_any if data.get(n) is True]
            reasons += [h for h in adhoc_rule.harm_types if h in harms]
            if reasons:
                prov = province(row.incident_commune_id)
                reported = conn.execute(
                    text(
                        "INSERT INTO adhoc_reports (case_id, province_id, commune_id, reasons, harm_types, "
                        "created_at) SELECT :id, :prov, :commune, :reasons, :harms, :now WHERE NOT EXISTS "
                        "(SELECT 1 FROM adhoc_reports WHERE case_id = :id) RETURNING id"
                    ),
                    {
                        "id": case_id,
                        "prov": prov,
                        "commune": row.incident_commune_id,
                        "reasons": json.dumps(reasons),
                        "harms": json.dumps(harms),
                        "now": nnow,
                    },
                ).first()
                if reported is not None:
                    emails = supervisors.get(province(row.residence_commune_id), [])
                    notes += [
                        {
                            "key": f"adhoc_report:{case_id}:{e}",
                            "kind": "adhoc_report",
                            "task": None,
                            "email": e,
                        }
                        for e in emails
                    ]
                    events.append(("adhoc_report", None, None, {"reasons": reasons, "recipients": emails}))
            if row.reported_by_agency_id is not None:  # case_status: the reporting agency hears
                email = agency_email[row.reported_by_agency_id]
                notes.append(
                    {
                        "key": f"case_status:{case_id}:-:0:{email}:v{v + 1}",
                        "kind": "case_status",
                        "task": None,
                        "email": email,
                    }
                )
            # The trail: the case's chain locked, its head read, each event hashed onto it.
            conn.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": CHAIN_LOCK, "k": case_id})
            head = conn.execute(
                text(
                    "SELECT seq, hash FROM case_events WHERE case_id = :id AND seq IS NOT NULL "
                    "ORDER BY seq DESC LIMIT 1"
                ),
                {"id": case_id},
            ).first()
            seq, prev = (head.seq, head.hash) if head else (0, None)
            rows = []
            for kind, frm, to, event_data in events:
                seq += 1
                chained = {
                    "case_id": case_id,
                    "seq": seq,
                    "at": now,
                    "actor_id": actor,
                    "actor_label": None,
                    "kind": kind,
                    "from_state": frm,
                    "to_state": to,
                    "data": event_data,
                }
                digest = event_hash(chained, prev)
                rows.append(
                    {
                        **chained,
                        "at": nnow,
                        "data": json.dumps(sealed(event_data, "case_events.data")),
                        "prev": prev,
                        "hash": digest,
                    }
                )
                prev = digest
            conn.execute(
                text(
                    "INSERT INTO case_events (case_id, at, actor_id, kind, from_state, to_state, data, seq, "
                    "prev_hash, hash) VALUES (:case_id, :at, :actor_id, :kind, :from_state, :to_state, :data, "
                    ":seq, :prev, :hash)"
                ),
                rows,
            )
            conn.execute(
                text(
                    "INSERT INTO notifications (dedupe_key, kind, case_id, task_id, level, recipient, locale, "
                    "context, status, attempts, created_at) VALUES (:key, :kind, :case, :task, 0, :email, "
                    "'vi', '{}', 'pending', 0, :now)"
                ),
                [{**note, "case": case_id, "now": nnow} for note in notes],
            )
        return jsonify({"id": case_id, "state": "verified", "version": v + 1})

    @app.get("/cases/<int:case_id>")
    def detail(case_id: int):  # noqa: ANN202
        """A case with its tasks and child, and the read in its trail (chained, as the app's):
        the SQL of a detail view."""
        now = utcnow()
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
            conn.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": CHAIN_LOCK, "k": case_id})
            head = conn.execute(
                text(
                    "SELECT seq, hash FROM case_events WHERE case_id = :id AND seq IS NOT NULL "
                    "ORDER BY seq DESC LIMIT 1"
                ),
                {"id": case_id},
            ).first()
            seq, prev = (head.seq + 1, head.hash) if head else (1, None)
            event_data = {"identity_shown": True}
            event = {
                "case_id": case_id,
                "seq": seq,
                "at": now,
                "actor_id": None,
                "actor_label": None,
                "kind": "read",
                "from_state": None,
                "to_state": None,
                "data": event_data,
            }
            conn.execute(
                text(
                    "INSERT INTO case_events (case_id, at, actor_id, kind, data, seq, prev_hash, hash) "
                    "VALUES (:id, :now, NULL, 'read', :data, :seq, :prev, :hash)"
                ),
                {
                    "id": case_id,
                    "now": naive(now),
                    "data": json.dumps(sealed(event_data, "case_events.data")),
                    "seq": seq,
                    "prev": prev,
                    "hash": event_hash(event, prev),
                },
            )

        def shown(value: object, purpose: str) -> str:
            if isinstance(value, str) and value.startswith("cf1$"):
                return keyring.decrypt(value, purpose)
            return str(value)

        return jsonify(
            {
                "case": {k: shown(x, f"cases.{k}") for k, x in case.items()},
                "tasks": [{k: str(x) for k, x in t.items()} for t in tasks],
                "child": {k: shown(x, f"children.{k}") for k, x in child.items()},
            }
        )

    return app
