"""Column types shared by the models: times in UTC that come back aware, and encrypted values."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import JSON, DateTime, Text
from sqlalchemy.types import TypeDecorator

from caseflow import crypto


class UTCDateTime(TypeDecorator):
    """SQLite keeps no offset; store naive UTC everywhere and hand back aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class EncryptedText(TypeDecorator):
    """Text kept encrypted at rest (caseflow.crypto); the column's name is the associated data.

    A column of this type cannot be searched or sorted in SQL: equality goes through a blind
    index column next to it (children.name_index)."""

    impl = Text
    cache_ok = True

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value: str | None, dialect) -> str | None:  # noqa: ANN001
        if value is None:
            return None
        return crypto.keyring().encrypt(value, self.purpose)

    def process_result_value(self, value: str | None, dialect) -> str | None:  # noqa: ANN001
        if value is None:
            return None
        return crypto.keyring().decrypt(value, self.purpose)


class EncryptedDate(EncryptedText):
    """A date kept encrypted (the child's birth date); ages for statistics are kept apart, plain."""

    cache_ok = True

    def process_bind_param(self, value: date | None, dialect) -> str | None:  # noqa: ANN001
        return None if value is None else super().process_bind_param(value.isoformat(), dialect)

    def process_result_value(self, value: str | None, dialect) -> date | None:  # noqa: ANN001
        text = super().process_result_value(value, dialect)
        return None if text is None else date.fromisoformat(text)


class EncryptedJSON(EncryptedText):
    """A JSON value kept encrypted (the trail's data, the plan): its free text names people.

    The column stays JSON and holds the ciphertext as a JSON string, so no column changes
    type; a value written before encryption reads back as it was."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: object, dialect) -> str | None:  # noqa: ANN001
        if value is None:
            return None
        return super().process_bind_param(
            json.dumps(value, ensure_ascii=False, separators=(",", ":")), dialect
        )

    def process_result_value(self, value: object, dialect) -> object:  # noqa: ANN001
        if not isinstance(value, str):  # None, or a value written before encryption
            return value
        return json.loads(super().process_result_value(value, dialect))
