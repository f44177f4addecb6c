"""The outside anchor finds what the chain alone cannot: a tail rewritten consistently in SQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, text

from caseflow.extensions import db
from caseflow.models import CaseEvent
from caseflow.services import audit_chain


@pytest.fixture
def app_config(tmp_path) -> dict:
    return {
        "CASEFLOW_ANCHOR_DIR": str(tmp_path / "anchors"),
        "CASEFLOW_ANCHOR_KEY": "an-anchor-key-for-the-tests",
    }


@pytest.fixture
def anchor_file(app) -> Path:
    return Path(app.config["CASEFLOW_ANCHOR_DIR"]) / "audit-anchors.jsonl"


def _anchor(runner):
    result = runner.invoke(args=["caseflow", "audit-anchor"])
    assert result.exit_code == 0, result.output
    return result


def _verify(runner, anchor=None):
    args = ["caseflow", "verify-audit"] + (["--anchor", str(anchor)] if anchor else [])
    return runner.invoke(args=args)


def _events(case_id: int) -> list[CaseEvent]:
    return list(
        db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq))
    )


def _as_attacker(backend: str) -> None:
    if backend == "postgres":
        audit_chain.allow_rewrite(db.session)  # someone with the database's owner rights


def _rewrite_tail_consistently(backend: str, case_id: int, event_id: int) -> None:
    """Change one event in SQL and recompute the hash of it and of every event after it, as
    someone who read audit_chain.py would."""
    _as_attacker(backend)
    db.session.execute(
        text("UPDATE case_events SET actor_label = 'someone else' WHERE id = :id"), {"id": event_id}
    )
    table = CaseEvent.__table__
    fields = ("case_id", "seq", "at", "actor_id", "actor_label", "kind", "from_state", "to_state")
    rows = db.session.execute(
        select(table.c.id, *(table.c[name] for name in fields), table.c.data)
        .where(table.c.case_id == case_id)
        .order_by(table.c.seq)
    ).mappings()
    prev = None
    for row in list(rows):
        digest = audit_chain.event_hash(dict(row), prev)
        db.session.execute(
            text("UPDATE case_events SET prev_hash = :p, hash = :h WHERE id = :id"),
            {"p": prev, "h": digest, "id": row["id"]},
        )
        prev = digest
    db.session.commit()


def test_a_tail_rewritten_consistently_passes_the_chain_but_not_the_anchor(
    app, runner, backend, identity_case, anchor_file
):
    _anchor(runner)
    events = _events(identity_case["id"])
    _rewrite_tail_consistently(backend, identity_case["id"], events[1].id)
    db.session.expire_all()
    assert _events(identity_case["id"])[1].actor_label == "someone else"
    alone = _verify(runner)
    assert alone.exit_code == 0, alone.output  # the chain alone cannot tell
    anchored = _verify(runner, anchor_file)
    assert anchored.exit_code == 1
    head = events[-1]
    assert (
        f"case {identity_case['reference']}: event #{head.seq} (id {head.id}) was the head anchored at"
        in anchored.output
    )
    assert "the first: case " + identity_case["reference"] in anchored.output


def test_a_tail_cut_off_consistently_loses_its_anchored_head(
    app, runner, backend, identity_case, anchor_file
):
    _anchor(runner)
    head_id = _events(identity_case["id"])[-1].id
    _as_attacker(backend)
    db.session.execute(text("DELETE FROM case_events WHERE id = :id"), {"id": head_id})
    db.session.commit()
    assert _verify(runner).exit_code == 0  # a shorter chain is still a chain
    result = _verify(runner, anchor_file)
    assert result.exit_code == 1 and f"(id {head_id}) was the head anchored" in result.output


def test_work_after_an_anchor_keeps_it_valid_and_the_next_line_names_only_what_moved(
    app, runner, api, world, identity_case, anchor_file
):
    from tests.conftest import new_case_payload

    other = api.post("/api/v1/cases", "officer_a@test.vn", json=new_case_payload("A")).get_json()
    first = _anchor(runner)
    assert "2 case trail(s), 2 moved" in first.output
    resp = api.post(
        f"/api/v1/cases/{identity_case['id']}/notes", "officer_a@test.vn", json={"text": "Gọi lại"}
    )
    assert resp.status_code == 201
    ok = _verify(runner, anchor_file)
    assert ok.exit_code == 0, ok.output
    assert "Every head of the 1 anchor(s)" in ok.output
    second = _anchor(runner)
    assert "2 case trail(s), 1 moved" in second.output
    lines = [json.loads(raw) for raw in anchor_file.read_text().splitlines()]
    assert list(lines[1]["changed"]) == [str(identity_case["id"])]
    assert str(other["id"]) in lines[0]["changed"]
    assert lines[1]["prev"] == lines[0]["mac"]
    # No identity, no free text: ids, counts and hashes only.
    assert "Hoàng" not in anchor_file.read_text()
    assert _verify(runner, anchor_file).exit_code == 0


def test_an_edited_or_shortened_anchor_file_or_another_key_is_refused(
    app, runner, identity_case, anchor_file
):
    for _ in range(3):
        _anchor(runner)
    original = anchor_file.read_text()
    lines = original.splitlines()

    edited = json.loads(lines[0])
    case_id = next(iter(edited["changed"]))
    edited["changed"][case_id][2] = "0" * 64
    anchor_file.write_text("\n".join([json.dumps(edited), *lines[1:]]) + "\n")
    result = _verify(runner, anchor_file)
    assert result.exit_code == 1 and "line 1 was changed after it was signed" in result.output

    anchor_file.write_text("\n".join([lines[0], lines[2]]) + "\n")
    result = _verify(runner, anchor_file)
    assert result.exit_code == 1 and "line 2 does not follow the line before it" in result.output

    anchor_file.write_text(original)
    assert _verify(runner, anchor_file).exit_code == 0
    app.config["CASEFLOW_ANCHOR_KEY"] = "someone-else-s-anchor-key"
    result = _verify(runner, anchor_file)
    assert result.exit_code == 1 and "signed with anchor key" in result.output
    # Nor does anchoring sign on after lines it cannot check.
    refused = runner.invoke(args=["caseflow", "audit-anchor"])
    assert refused.exit_code != 0 and "signed with anchor key" in refused.output


def test_the_key_file_is_made_by_the_first_anchor_and_a_verifier_without_it_fails(
    app, runner, identity_case, anchor_file
):
    app.config["CASEFLOW_ANCHOR_KEY"] = None
    key = Path(app.instance_path) / "anchor_key"
    assert not key.exists()
    _anchor(runner)
    assert key.is_file() and oct(key.stat().st_mode & 0o777) == "0o600"
    assert _verify(runner, anchor_file).exit_code == 0
    key.unlink()
    result = _verify(runner, anchor_file)
    assert result.exit_code == 1 and "no anchor key" in result.output
    assert not key.exists()  # verifying never makes a key of its own
