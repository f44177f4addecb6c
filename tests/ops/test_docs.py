"""The project's own documentation stays true: the settings table matches config.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_settings_table_is_generated_from_the_current_config():
    check = subprocess.run([sys.executable, str(ROOT / "scripts" / "settings_table.py"), "--check"])
    assert check.returncode == 0, "docs/settings.md is stale: run scripts/settings_table.py"


def test_every_setting_read_from_the_environment_is_in_the_table():
    table = (ROOT / "docs" / "settings.md").read_text()
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "MAIL_SERVER",
        "SECRET_KEY",
        "CASEFLOW_BASE_URL",
        "CASEFLOW_BACKUP_DIR",
    ):
        assert f"`{name}`" in table


def test_the_readme_links_to_the_projects_own_docs_and_not_outside_the_clone():
    readme = (ROOT / "README.md").read_text()
    assert "../shared" not in readme
    for page in ("docs/api.md", "docs/procedure.md", "docs/quickstart.md", "docs/settings.md"):
        assert page in readme and (ROOT / page).is_file()
