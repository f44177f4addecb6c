"""Does the database agree with the loaded workflow file? States and task templates in use.

A province's variant that renames or drops a state would otherwise leave cases the engine
cannot move (a 500 on every page that shows them). At start-up and in `flask caseflow
check-workflow` the states of cases and the templates of open tasks are compared with the
definition; a name the file maps in `renamed: {old: new}` can be moved with `--apply-renames`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError

from caseflow.extensions import db
from caseflow.models import Case, Task
from caseflow.workflow.definition import WorkflowDefinition

log = logging.getLogger("caseflow.workflow_check")


@dataclass(frozen=True)
class Mismatch:
    """Rows that name something the definition does not have."""

    what: str  # "state" (of cases) | "task template" (of open tasks)
    name: str
    rows: int
    renamed_to: str | None  # where the file's `renamed:` says it went

    def describe(self, path: str) -> str:
        holders = ("case is", "cases are") if self.what == "state" else ("open task is", "open tasks are")
        text = f"{self.rows} {holders[self.rows != 1]} in {self.what} {self.name!r}, which {path} does not define"
        if self.renamed_to:
            return f"{text}; it renames it to {self.renamed_to!r}: run `flask caseflow check-workflow --apply-renames`"
        return f"{text}; add `renamed: {{{self.name}: <new name>}}` to the file, or keep the {self.what}"


def check(definition: WorkflowDefinition) -> list[Mismatch]:
    """Every state held by a case and every template of an open task the definition lacks."""
    found = []
    states = db.session.execute(select(Case.state, func.count()).group_by(Case.state)).all()
    for name, rows in states:
        if name not in definition.states:
            found.append(Mismatch("state", name, rows, definition.renamed.get(name)))
    templates = db.session.execute(
        select(Task.template, func.count()).where(Task.status == "open").group_by(Task.template)
    ).all()
    for name, rows in templates:
        if name not in definition.tasks:
            found.append(Mismatch("task template", name, rows, definition.renamed.get(name)))
    return sorted(found, key=lambda m: (m.what, m.name))


def apply_renames(definition: WorkflowDefinition) -> dict[str, int]:
    """Move cases and tasks from each old name of `renamed:` to its new one, in one transaction.
    A moved case's version goes up, so a form opened on the old state cannot be submitted."""
    moved: dict[str, int] = {}
    for old, new in definition.renamed.items():
        if new in definition.states:
            result = db.session.execute(
                update(Case)
                .where(Case.state == old)
                .values(state=new, version=Case.version + 1)
                .execution_options(synchronize_session=False)
            )
            moved[f"state {old} -> {new}"] = result.rowcount
        if new in definition.tasks:
            result = db.session.execute(
                update(Task)
                .where(Task.template == old)
                .values(template=new, row_version=Task.row_version + 1)
                .execution_options(synchronize_session=False)
            )
            moved[f"task template {old} -> {new}"] = result.rowcount
    db.session.commit()
    return moved


def check_at_start(definition: WorkflowDefinition) -> list[Mismatch] | None:
    """`check`, or None when there is no schema yet to check (before `init-db`)."""
    try:
        return check(definition)
    except SQLAlchemyError:
        db.session.rollback()
        return None
    finally:
        db.session.remove()


__all__ = ["Mismatch", "apply_renames", "check", "check_at_start"]
