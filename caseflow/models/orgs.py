"""Jurisdictions (a tree that changes over time) and the agencies that work in them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseflow.extensions import db

LEVELS = ("province", "district", "commune")
AGENCY_KINDS = (
    "commune_committee",
    "police",
    "health",
    "education",
    "social_services",
    "justice",
    "hotline",
    "mass_org",
    "other",
)


class OrgUnit(db.Model):
    """A province, district or commune. `path` holds the codes from the root so a
    jurisdiction subtree is one indexed prefix match."""

    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(10))
    # Provinces only: the prefix of case references, "LS" in LS-2026-000123.
    abbrev: Mapped[str | None] = mapped_column(String(8))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    path: Mapped[str] = mapped_column(String(400), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    # A merged commune points at the unit that took it over; its cases keep the old code.
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    successor: Mapped[OrgUnit | None] = relationship(remote_side=[id], foreign_keys=[successor_id])

    def is_within(self, other: OrgUnit) -> bool:
        return self.path.startswith(other.path)

    def ancestors(self) -> list[OrgUnit]:
        """Nearest first, up to the province."""
        chain, unit = [], self.parent
        while unit is not None:
            chain.append(unit)
            unit = unit.parent
        return chain

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "parent": self.parent.code if self.parent else None,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "successor": self.successor.code if self.successor else None,
        }


class Agency(db.Model):
    """A body that owns tasks: the commune committee, police post, health station, school..."""

    __tablename__ = "agencies"
    __table_args__ = (Index("ix_agencies_unit_kind", "org_unit_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    # The unit it served before a merger moved it here: the unit's own agencies are routed first.
    # A plain id (no foreign key): SQLite could add the column to a populated table only by rebuilding it.
    moved_from_id: Mapped[int | None] = mapped_column(Integer)

    org_unit: Mapped[OrgUnit] = relationship()

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "org_unit": self.org_unit.code,
            "email": self.email,
        }
