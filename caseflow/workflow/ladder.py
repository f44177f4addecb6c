"""The overdue ladder of each clock, as the workflow file declares it, checked with file:line errors.

A deadline on the wall clock (the 12-hour emergency rules) and one in working days fail in
different ways: a missed emergency must reach the chair and the province at once and keep
ringing, a missed plan can wait for the next working morning. Each clock has its own ladder.
The moments are computed here (pure functions of the deadline, the calendar and the office
hours), so the scan, the tests and any page that shows "escalates on ..." agree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any

from caseflow.workflow.clock import LOCAL_TZ, WorkingCalendar

CLOCKS = ("hours", "working_days")
# Who a rung notifies. The commune is the one that holds the work: a task's (see
# TaskTemplate.commune), or the commune that owes a report; "commune_staff" are its officers and
# chair, "supervisors" those of every unit above it (a historic district, then the province).
# "agency" is the task's own agency: a report has none, so the reports' ladder may not name it.
RECIPIENTS = (
    "agency",
    "commune_staff",
    "commune_chair",
    "district_supervisors",
    "province_supervisors",
    "supervisors",
)


@dataclass(frozen=True)
class HoursLadder:
    """Wall-clock deadlines: warn before, tell everyone at the breach, repeat until done."""

    warn_before_hours: float = 3
    warn: tuple[str, ...] = ("agency", "commune_chair")
    on_breach: tuple[str, ...] = ("agency", "commune_chair", "province_supervisors")
    repeat_every_hours: float = 4
    repeat: tuple[str, ...] = ("agency", "commune_chair")

    def step_due(self, due_at: datetime, step: int) -> datetime:
        """Step 1 is the breach, step k the (k-1)-th repeat."""
        return due_at + timedelta(hours=self.repeat_every_hours) * (step - 1)

    def reached(self, due_at: datetime, now: datetime) -> int:
        """The highest step whose moment has come (0: the deadline has not passed)."""
        if now < due_at:
            return 0
        if self.repeat_every_hours <= 0:
            return 1
        return 1 + int((now - due_at) / timedelta(hours=self.repeat_every_hours))

    def recipients(self, step: int) -> tuple[str, ...]:
        return self.on_breach if step == 1 else self.repeat


@dataclass(frozen=True)
class Level:
    after: int  # working days after the deadline's day
    notify: tuple[str, ...]


@dataclass(frozen=True)
class WorkingDaysLadder:
    """Working-day deadlines: each level some working days after the deadline, in office hours."""

    levels: tuple[Level, ...] = (
        Level(0, ("agency",)),
        Level(1, ("commune_chair",)),
        Level(3, ("supervisors",)),
    )
    office_start: time = time(7, 0)
    office_end: time = time(17, 0)
    digest: bool = True
    warning_fraction: float = 0.25
    warn: tuple[str, ...] = ("agency",)

    def in_office_hours(self, moment: datetime, calendar: WorkingCalendar) -> bool:
        local = moment.astimezone(LOCAL_TZ)
        return calendar.is_working_day(local.date()) and self.office_start <= local.time() < self.office_end

    def next_office_moment(self, moment: datetime, calendar: WorkingCalendar) -> datetime:
        """`moment` if it falls in office hours on a working day, else the next opening."""
        local = moment.astimezone(LOCAL_TZ)
        day = local.date()
        if calendar.is_working_day(day) and local.time() < self.office_end:
            if local.time() >= self.office_start:
                return moment
            return datetime.combine(day, self.office_start, tzinfo=LOCAL_TZ)
        return datetime.combine(calendar.add_working_days(day, 1), self.office_start, tzinfo=LOCAL_TZ)

    def step_due(self, due_at: datetime, step: int, calendar: WorkingCalendar) -> datetime:
        """Level `step` (1-based): the first office moment, not before the deadline has passed, on
        or after the start of the `after`-th working day following the deadline's day."""
        level = self.levels[step - 1]
        due_day = due_at.astimezone(LOCAL_TZ).date()
        day = calendar.add_working_days(due_day, level.after) if level.after else due_day
        opening = datetime.combine(day, self.office_start, tzinfo=LOCAL_TZ)
        return self.next_office_moment(max(due_at, opening), calendar)

    def reached(self, due_at: datetime, now: datetime, calendar: WorkingCalendar) -> int:
        step = 0
        for k in range(1, len(self.levels) + 1):
            if self.step_due(due_at, k, calendar) > now:
                break
            step = k
        return step

    def recipients(self, step: int) -> tuple[str, ...]:
        return self.levels[step - 1].notify


@dataclass(frozen=True)
class Climb:
    """What one scan does with one deadline: the level to record, the levels to send now, and
    when the next one falls due (None: the top of the ladder)."""

    target: int
    steps: tuple[int, ...]
    next_at: datetime | None


@dataclass(frozen=True)
class EscalationRules:
    hours: HoursLadder = HoursLadder()
    working_days: WorkingDaysLadder = WorkingDaysLadder()

    def warn(self, clock: str) -> tuple[str, ...]:
        return self.hours.warn if clock == "hours" else self.working_days.warn

    def recipients(self, clock: str, step: int) -> tuple[str, ...]:
        return self.hours.recipients(step) if clock == "hours" else self.working_days.recipients(step)

    def climb(
        self, clock: str, due_at: datetime, seen: int, now: datetime, calendar: WorkingCalendar
    ) -> Climb:
        """The levels a deadline on `clock` has reached at `now`, `seen` of them already sent.
        Tasks and the reports communes owe climb through this one function."""
        if clock == "hours":
            ladder = self.hours
            reached = ladder.reached(due_at, now)
            target = max(seen, reached)
            # Found several repeats late (the scan was down): one mail says it, not a burst of them.
            steps = () if reached <= seen else (1,) if seen == 0 else (reached,)
            repeats = ladder.repeat_every_hours > 0 or target == 0
            return Climb(target, steps, ladder.step_due(due_at, target + 1) if repeats else None)
        days = self.working_days
        reached = days.reached(due_at, now, calendar)
        target = max(seen, reached)
        steps = tuple(range(seen + 1, reached + 1))  # each level has its own audience: all of them
        next_at = days.step_due(due_at, target + 1, calendar) if target < len(days.levels) else None
        if steps and not days.in_office_hours(now, calendar):
            # Due while the scan was not running (an evening, a holiday): wait for the next opening.
            return Climb(seen, (), days.next_office_moment(now, calendar))
        return Climb(target, steps, next_at)

    def with_settings(self, config: Any) -> EscalationRules:
        """Settings win over the file's numbers (None or "" leaves the file's)."""

        def number(name: str) -> float | None:
            value = config.get(name)
            return None if value in (None, "") else float(value)

        hours, days = self.hours, self.working_days
        if (value := number("ESCALATION_REPEAT_HOURS")) is not None:
            hours = replace(hours, repeat_every_hours=value)
        if (value := number("ESCALATION_WARN_BEFORE_HOURS")) is not None:
            hours = replace(hours, warn_before_hours=value)
        if (value := number("WARNING_FRACTION")) is not None:
            days = replace(days, warning_fraction=value)
        if config.get("ESCALATION_LEVEL_DAYS") not in (None, ""):
            afters = [int(x) for x in str(config["ESCALATION_LEVEL_DAYS"]).split(",")]
            levels = (
                tuple(Level(after, level.notify) for after, level in zip(afters, days.levels, strict=False))
                + days.levels[len(afters) :]
            )
            days = replace(days, levels=levels)
        if config.get("OFFICE_HOURS") not in (None, ""):
            start, end = _office_hours(str(config["OFFICE_HOURS"]))
            days = replace(days, office_start=start, office_end=end)
        return EscalationRules(hours, days)


class LadderError(ValueError):
    """A fault in the escalation block; `line` is where it is."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _office_hours(text: str) -> tuple[time, time]:
    try:
        start_text, end_text = text.split("-")
        start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
    except ValueError:
        raise ValueError(f"office_hours must look like 07:00-17:00, not {text!r}") from None
    if start >= end:
        raise ValueError("office_hours must end after they start")
    return start, end


def _line(node: Any, default: int) -> int:
    return getattr(node, "line", 0) or default


def _number(node: dict, key: str, default: float, line: int, *, whole: bool = False) -> float:
    value = node.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise LadderError(line, f"escalation {key} must be a number >= 0")
    if whole and value != int(value):
        raise LadderError(line, f"escalation {key} must be a whole number")
    return value


def _recipients(
    node: dict, key: str, default: tuple[str, ...], line: int, allowed: tuple[str, ...] = RECIPIENTS
) -> tuple[str, ...]:
    value = node.get(key, list(default))
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise LadderError(line, f"escalation {key} must be a list of recipients")
    for who in value:
        if who not in allowed:
            raise LadderError(
                line, f"escalation {key}: unknown recipient {who!r}; one of {', '.join(allowed)}"
            )
    return tuple(value)


def _known_keys(node: dict, allowed: tuple[str, ...], where: str, line: int) -> None:
    for key in node:
        if key not in allowed:
            raise LadderError(line, f"escalation {where}: unknown key {key!r}; one of {', '.join(allowed)}")


def parse_escalation(
    raw: Any,
    line: int,
    defaults: EscalationRules = EscalationRules(),  # noqa: B008 (frozen: one shared value is fine)
    allowed: tuple[str, ...] = RECIPIENTS,
) -> EscalationRules:
    """An `escalation:` block (the tasks', or the reports' under `reports:`): one mapping per
    clock, each optional, a missing key taking its value from `defaults`; only `allowed`
    recipients may be named."""
    if raw is None:
        return defaults
    if not isinstance(raw, dict):
        raise LadderError(line, "escalation must be a mapping")
    line = _line(raw, line)
    _known_keys(raw, CLOCKS, "", line)
    hours_raw, days_raw = raw.get("hours") or {}, raw.get("working_days") or {}
    for name, node in (("hours", hours_raw), ("working_days", days_raw)):
        if not isinstance(node, dict):
            raise LadderError(line, f"escalation {name} must be a mapping")
    h_line, d_line = _line(hours_raw, line), _line(days_raw, line)
    _known_keys(
        hours_raw, ("warn_before_hours", "warn", "on_breach", "repeat_every_hours", "repeat"), "hours", h_line
    )
    base_h = defaults.hours
    hours = HoursLadder(
        warn_before_hours=_number(hours_raw, "warn_before_hours", base_h.warn_before_hours, h_line),
        warn=_recipients(hours_raw, "warn", base_h.warn, h_line, allowed),
        on_breach=_recipients(hours_raw, "on_breach", base_h.on_breach, h_line, allowed),
        repeat_every_hours=_number(hours_raw, "repeat_every_hours", base_h.repeat_every_hours, h_line),
        repeat=_recipients(hours_raw, "repeat", base_h.repeat, h_line, allowed),
    )
    _known_keys(
        days_raw, ("levels", "office_hours", "digest", "warning_fraction", "warn"), "working_days", d_line
    )
    base_d = defaults.working_days
    levels = base_d.levels
    if "levels" in days_raw:
        items = days_raw["levels"]
        if not isinstance(items, list) or not items:
            raise LadderError(d_line, "escalation working_days levels must be a non-empty list")
        item_lines = getattr(items, "item_lines", ())
        parsed, previous = [], -1
        for i, item in enumerate(items):
            where = item_lines[i] if i < len(item_lines) else d_line
            if not isinstance(item, dict) or set(item) - {"after", "notify"} or "after" not in item:
                raise LadderError(where, "each escalation level is {after: N, notify: [...]}")
            after = int(_number(item, "after", 0, where, whole=True))
            if after < previous:
                raise LadderError(where, "escalation levels must come in order of 'after'")
            previous = after
            parsed.append(Level(after, _recipients(item, "notify", (), where, allowed)))
        levels = tuple(parsed)
    office = days_raw.get("office_hours", f"{base_d.office_start:%H:%M}-{base_d.office_end:%H:%M}")
    try:
        start, end = _office_hours(str(office))
    except ValueError as exc:
        raise LadderError(d_line, f"escalation working_days {exc}") from None
    digest = days_raw.get("digest", base_d.digest)
    if not isinstance(digest, bool):
        raise LadderError(d_line, "escalation working_days digest must be true or false")
    fraction = _number(days_raw, "warning_fraction", base_d.warning_fraction, d_line)
    if fraction > 1:
        raise LadderError(d_line, "escalation warning_fraction must be between 0 and 1")
    days = WorkingDaysLadder(
        levels=levels,
        office_start=start,
        office_end=end,
        digest=digest,
        warning_fraction=fraction,
        warn=_recipients(days_raw, "warn", base_d.warn, d_line, allowed),
    )
    return EscalationRules(hours, days)
