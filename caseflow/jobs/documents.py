"""Jobs on the documents queue: lay out a case's printed documents before anyone asks for them."""

from __future__ import annotations

import logging

from caseflow.jobs.queue import job

log = logging.getLogger("caseflow.jobs.documents")


@job
def prerender_documents(case_id: int) -> dict[str, int]:
    """Render the case's dossier and the forms saved since the job was scheduled into the
    document cache (caseflow.services.documents.prerender). The set of saved forms is taken
    and emptied in one step as the job starts: a save after that schedules the next job."""
    from flask import current_app

    from caseflow.extensions import db
    from caseflow.jobs.queue import prerender_key, redis_connection
    from caseflow.models import Case
    from caseflow.services import documents

    pipe = redis_connection(current_app).pipeline(transaction=True)
    key = prerender_key(current_app, case_id)
    pipe.smembers(key)
    pipe.delete(key)
    codes, _deleted = pipe.execute()
    case = db.session.get(Case, case_id)
    if case is None:
        return {"rendered": 0, "cached": 0}
    done = documents.prerender(case, sorted(c.decode() if isinstance(c, bytes) else c for c in codes))
    db.session.rollback()  # read only: nothing of the case is written
    log.info("prerendered case %s: %s rendered, %s already cached", case_id, done["rendered"], done["cached"])
    return done
