"""The case page's diagram tells the path (templates/pages/_pathway.html), in words, without script."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta


def _marks(html: str) -> dict[str, str]:
    """State label -> the status the page says in words, from the diagram's list."""
    section = html[html.index('class="card pathway"') :]
    section = section[: section.index("</ol>")]
    items = re.findall(
        r'<li class="([^"]*)"[^>]*>.*?<span class="name">([^<]+)</span>\s*<span class="state-status">\(([^)]+)\)',
        section,
        re.S,
    )
    return {name: status for _, name, status in items}


def test_a_dismissed_case_page_shows_the_plan_states_as_not_reached(web, open_case, fire):
    case = fire(open_case(), "dismiss", "officer_a@test.vn", {"reason": "unfounded"})
    html = web("officer_a").text(f"/cases/{case['id']}")
    assert _marks(html) == {
        "Đã tiếp nhận": "đã xong",
        "Đã xác minh, đánh giá": "không qua bước này",
        "Chờ phê duyệt kế hoạch": "không qua bước này",
        "Đang can thiệp, hỗ trợ": "không qua bước này",
        "Theo dõi, rà soát": "không qua bước này",
        "Đã kết thúc": "bước hiện tại",
    }
    assert (
        'aria-current="step"' in html
        and "<script" not in html.split('class="card pathway"')[1].split("</section>")[0]
    )


def test_a_sent_back_plan_shows_the_back_edge_and_its_reason(web, open_case, fire):
    verify = {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "seen"}
    case = fire(open_case(), "verify", "officer_a@test.vn", verify)
    due = (datetime.now(UTC) + timedelta(days=9)).isoformat()
    case = fire(
        case,
        "submit_plan",
        "officer_a@test.vn",
        {"plan": "p", "measures": [{"agency": "A-health", "description": "d", "due_at": due}]},
    )
    case = fire(case, "reject_plan", "chair_a@test.vn", {"reason": "thiếu nhà trường"})
    html = web("chair_a").text(f"/cases/{case['id']}")
    assert _marks(html)["Chờ phê duyệt kế hoạch"] == "cần làm lại"
    assert _marks(html)["Đã xác minh, đánh giá"] == "bước hiện tại"
    path = html[html.index('class="path"') :]
    path = path[: path.index("</ol>")]
    assert re.search(
        r'<li class="back">.*Quay lại bước trước.*Trả lại kế hoạch.*thiếu nhà trường', path, re.S
    )
    assert path.count("<li") == 4  # recorded, verify, submit, reject
    assert "reject_plan" not in path and "planned" not in path  # labels, not code names
