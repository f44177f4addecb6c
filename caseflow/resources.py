"""Where the files CaseFlow reads at run time live: in the source tree, or inside the installed package.

The project keeps `config.py`, `templates/`, `workflows/` and `migrations/` at the top of the
repository, where people look for them. A wheel cannot carry top-level folders, so the build
(`setup.py`) copies them into `caseflow/_bundle/`; this module is the one place that knows both
layouts, so `flask --app caseflow ...` works from any folder after a plain `pip install`.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLE_DIR = PACKAGE_DIR / "_bundle"
SOURCE_ROOT = PACKAGE_DIR.parent


def resource_root() -> Path:
    """The folder holding config.py, templates/, workflows/ and migrations/."""
    return BUNDLE_DIR if (BUNDLE_DIR / "config.py").is_file() else SOURCE_ROOT


def default_instance_path() -> str | None:
    """instance/ in a source checkout; None (Flask's default) for an installed package."""
    if resource_root() == SOURCE_ROOT:
        return str(SOURCE_ROOT / "instance")
    return None


def resource_dir(name: str) -> Path:
    return resource_root() / name


@cache
def load_config_class() -> type:
    """`Config` from config.py, loaded by path: a `config.py` in whatever folder the command runs
    from must never be taken for CaseFlow's own."""
    path = resource_root() / "config.py"
    spec = importlib.util.spec_from_file_location("caseflow_config", path)
    if spec is None or spec.loader is None:  # pragma: no cover - the file ships with the package
        raise RuntimeError(f"CaseFlow settings not found at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Config


def compile_catalogs(translations: Path, only_stale: bool = False) -> list[Path]:
    """Compile each .po beside it as .mo (what `pybabel compile` does); return those written.

    The build hook compiles into the wheel; a source checkout compiles stale ones at start-up,
    so pages are never silently English because someone forgot `pybabel compile`. Each file is
    written under a temporary name and renamed, so processes starting together never read half.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po_path in sorted(Path(translations).glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if only_stale and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name)
        fd, temporary = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as fh:
            write_mo(fh, catalog)
        os.replace(temporary, mo_path)
        written.append(mo_path)
    return written
