"""A serious case tells the province's supervisors when it is verified: the provincial plan's ad-hoc
report (serious harm, sexual abuse, trafficking), without waiting for any deadline."""

from __future__ import annotations

import pytest

VERIFY = {"risk_level": "high", "serious_harm": False, "caregiver_is_abuser": False, "findings": "seen"}


@pytest.fixture
def app_config(inprocess_mail):
    return inprocess_mail


def _ad_hoc(smtp_server, since: int) -> list[tuple[list[str], object]]:
    return [(r, m) for r, m in smtp_server.messages[since:] if "Báo cáo đột xuất" in m["Subject"]]


@pytest.mark.parametrize(
    ("commune", "harm_types", "serious_harm", "reported"),
    [
        ("A", ["violence"], True, True),
        ("C", ["sexual_abuse"], False, True),  # under a historic district: still the province's
        ("B", ["neglect", "trafficking"], False, True),
        ("A", ["violence", "neglect"], False, False),
    ],
)
def test_a_verified_serious_case_reaches_the_province_at_once(
    open_case, fire, world, smtp_server, commune, harm_types, serious_harm, reported
):
    case = open_case(commune, harm_types=harm_types)
    seen = len(smtp_server.messages)
    fire(case, "verify", f"officer_{commune.lower()}@test.vn", {**VERIFY, "serious_harm": serious_harm})
    sent = _ad_hoc(smtp_server, seen)
    if not reported:
        assert sent == []
        return
    [(recipients, mail)] = sent
    assert recipients == ["supervisor_p@test.vn"]
    assert mail["Subject"] == f"[{case['reference']}] Báo cáo đột xuất: vụ việc nghiêm trọng"
    assert "Bé Thử Nghiệm" not in smtp_server.text(mail) and "Thôn 1" not in smtp_server.text(mail)
