"""Checking untrusted input field by field, so every error names the field it is about."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from caseflow.services.errors import Invalid, Why


class Fields:
    """Collects field errors; `raise_if_any` turns them into one 422."""

    def __init__(self, data: Any, prefix: str = "") -> None:
        if not isinstance(data, dict):
            raise Invalid({prefix.rstrip(".") or "body": Why("not_object")})
        self.data = data
        self.prefix = prefix
        self.errors: dict[str, str] = {}

    def error(self, name: str, why: Why) -> None:
        self.errors.setdefault(self.prefix + name, why)

    def raise_if_any(self) -> None:
        if self.errors:
            raise Invalid(self.errors)

    def _get(self, name: str, required: bool) -> Any:
        value = self.data.get(name)
        if value is None and required:
            self.error(name, Why("required"))
        return value

    def string(self, name: str, *, required: bool = False, max_length: int = 200) -> str | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(name, Why("not_string"))
            return None
        value = value.strip()
        if required and not value:
            self.error(name, Why("empty"))
            return None
        if len(value) > max_length:
            self.error(name, Why("too_long", max=max_length))
            return None
        return value

    def boolean(self, name: str, *, required: bool = False) -> bool | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.error(name, Why("not_bool"))
            return None
        return value

    def choice(self, name: str, choices: tuple[str, ...], *, required: bool = False) -> str | None:
        value = self._get(name, required)
        if value is None:
            return None
        if value not in choices:
            self.error(name, Why("not_choice", choices=", ".join(choices)))
            return None
        return value

    def choices(self, name: str, choices: tuple[str, ...], *, required: bool = False) -> list[str] | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, list) or not value or any(v not in choices for v in value):
            self.error(name, Why("not_choices", choices=", ".join(choices)))
            return None
        return list(dict.fromkeys(value))

    def integer(self, name: str, *, required: bool = False, low: int = 0, high: int = 10**9) -> int | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.error(name, Why("not_integer", low=low, high=high))
            return None
        return value

    def moment(self, name: str, *, required: bool = False) -> datetime | None:
        value = self._get(name, required)
        if value is None:
            return None
        parsed = parse_moment(value)
        if parsed is None:
            self.error(name, Why("not_moment"))
        return parsed

    def day(self, name: str, *, required: bool = False) -> date | None:
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, str):  # anything else (a number, a list) is as wrong as a bad string
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.error(name, Why("not_date"))
        return None


def parse_moment(value: Any) -> datetime | None:
    """An aware datetime from ISO 8601 text with an offset (or Z); None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    # Years far from ours are typing mistakes, and at the edges of datetime's range the
    # offset or a deadline added to them overflows: refuse them here, not with a 500 later.
    if parsed.tzinfo is None or not 1900 <= parsed.year <= 2200:
        return None
    return parsed.astimezone(UTC)
