"""Write docs/settings.md from config.py: every environment variable CaseFlow reads, its default
and the comment above it. Run after changing config.py; tests/ops/test_docs.py checks it is current.

    .venv/bin/python scripts/settings_table.py          # rewrite docs/settings.md
    .venv/bin/python scripts/settings_table.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.py"
OUTPUT = ROOT / "docs" / "settings.md"


def _env_reads(node: ast.AST) -> list[tuple[str, str]]:
    """(variable, default) for each os.environ.get / _bool call inside an assignment's value."""
    found = []
    for call in ast.walk(node):
        if not isinstance(call, ast.Call) or not call.args or not isinstance(call.args[0], ast.Constant):
            continue
        func = call.func
        is_get = (
            isinstance(func, ast.Attribute) and func.attr == "get" and ast.unparse(func.value) == "os.environ"
        )
        is_bool = isinstance(func, ast.Name) and func.id == "_bool"
        if is_get or is_bool:
            default = ast.unparse(call.args[1]) if len(call.args) > 1 else ("False" if is_bool else "unset")
            found.append((call.args[0].value, default.strip("'\"")))
    return found


def settings() -> list[tuple[str, str, str]]:
    source = CONFIG.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    config = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Config")
    rows = []
    for statement in config.body:
        if not isinstance(statement, ast.Assign | ast.AnnAssign):
            continue
        comment = []
        line = statement.lineno - 2
        while line >= 0 and lines[line].strip().startswith("#"):
            comment.insert(0, lines[line].strip().lstrip("# "))
            line -= 1
        for text in lines[statement.lineno - 1 : statement.end_lineno]:
            if "  # " in text:
                comment.append(text.split("  # ", 1)[1])
        for name, default in _env_reads(statement.value):
            rows.append((name, default, " ".join(comment)))
    return rows


def render() -> str:
    out = [
        "# Settings",
        "",
        "Generated from `config.py` by `scripts/settings_table.py`; do not edit by hand.",
        "Every setting is an environment variable; unset ones take the default shown.",
        "",
        "| variable | default | what it is for |",
        "|---|---|---|",
    ]
    seen = set()
    for name, default, comment in settings():
        if name in seen:
            continue
        seen.add(name)
        out.append(f"| `{name}` | `{default}` | {comment.replace('|', '/')} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if OUTPUT.is_file() and OUTPUT.read_text() == text else 1)
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text)
