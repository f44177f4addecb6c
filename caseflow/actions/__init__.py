"""Email actions: a partner agency acknowledges or completes its task from a link, without an account."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from caseflow.actions.routes import bp
    from caseflow.extensions import csrf

    # The signed single-use token in the URL is the secret a forged cross-site POST would
    # need; there is no session to protect, so the session-bound CSRF token adds nothing.
    csrf.exempt(bp)
    app.register_blueprint(bp)
