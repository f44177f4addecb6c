"""Sizes the input may have and who counts as a child: one place for the API, the pages and the services.

The API refuses a longer value with a 422 naming the field; the pages' forms use the same
numbers for their Length validators, so a page never accepts what the service would refuse.
"""

from __future__ import annotations

from datetime import date

# Law on Children 2016, Art. 1: a child is a person under 16.
CHILD_AGE_LIMIT = 16

NAME_CHARS = 200  # a person's or a unit's name, a one-line trigger field (`type: string`)
SHORT_TEXT_CHARS = 2000  # an outcome, a measure's description, a family's situation
LONG_TEXT_CHARS = 10_000  # findings, a plan, a note (`type: text`)
ADDRESS_CHARS = 500
PHONE_CHARS = 40
RELATION_CHARS = 100
EMAIL_CHARS = 254  # RFC 5321
CODE_CHARS = 20  # a commune or unit code
AGENCY_CODE_CHARS = 40
MAX_MEASURES = 50  # measures in one plan


def age_on(born: date, today: date) -> int:
    """Whole years from `born` to `today` (a birthday not yet reached this year does not count)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def is_child(born: date, today: date) -> bool:
    return age_on(born, today) < CHILD_AGE_LIMIT
