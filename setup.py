"""Build hook: carry the top-level config.py, templates/, workflows/ and migrations/ into the
package, and compile the message catalogs, so a wheel holds everything the app reads.

The metadata is in pyproject.toml; this file only adds the build step setuptools has no
declarative form for. `caseflow.resources` finds the copies at run time.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("templates", "workflows", "migrations")


def compile_catalogs(translations: Path) -> None:
    """caseflow/resources.py's compiler, loaded by path: the package itself cannot be imported
    while it is being built (its dependencies need not be there)."""
    spec = importlib.util.spec_from_file_location("_caseflow_resources", ROOT / "caseflow" / "resources.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.compile_catalogs(translations)


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            # An editable install reads the source tree itself; only the catalogs need building.
            compile_catalogs(ROOT / "caseflow" / "translations")
            return
        package = Path(self.build_lib) / "caseflow"
        bundle = package / "_bundle"
        if bundle.exists():
            shutil.rmtree(bundle)
        bundle.mkdir(parents=True)
        shutil.copy2(ROOT / "config.py", bundle / "config.py")
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for name in BUNDLED:
            shutil.copytree(ROOT / name, bundle / name, ignore=ignore)
        compile_catalogs(package / "translations")


setup(cmdclass={"build_py": BuildWithResources})
