"""What every request passes through for security: proxy headers, security headers, limits."""

from __future__ import annotations

from flask import Flask, Response, request


def _headers(response: Response) -> Response:
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    from caseflow import security_cli  # noqa: F401 - registers the commands on the caseflow group

    app.after_request(_headers)
