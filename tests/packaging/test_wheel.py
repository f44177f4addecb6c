"""The built wheel alone runs CaseFlow: workflow file, templates, migrations and compiled catalogs
travel inside the package, and nothing is read from the source tree or the current folder."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.xdist_group("packaging")


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A wheel built from this tree, installed into a fresh virtual environment that borrows
    the test environment's dependencies but not its editable CaseFlow."""
    work = tmp_path_factory.mktemp("wheel")
    # Build from a copy: the build writes build/ and *.egg-info beside the sources.
    source = work / "src"
    files = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    for name in filter(None, files):
        if not (ROOT / name).is_file():
            continue
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CASEFLOW_", "FLASK_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    wheels = work / "dist"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            ".",
        ],
        source,
        env,
    )
    (wheel,) = wheels.glob("caseflow-*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], work, env)
    python = venv / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    _run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(purelib), str(wheel)],
        work,
        env,
    )
    # The dependencies come from the test environment; a plain path line adds its folder to
    # sys.path without running the .pth files in it, so its editable CaseFlow stays out.
    (purelib / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python, env


def test_the_installed_package_serves_vietnamese_pages_from_any_folder(installed, tmp_path):
    python, env = installed
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    # A stranger's config.py in the current folder must not be taken for CaseFlow's settings.
    (folder / "config.py").write_text("raise SystemExit('wrong config.py imported')\n")
    env = {**env, "CASEFLOW_INSTANCE_PATH": str(tmp_path / "instance")}
    flask = [str(python), "-m", "flask", "--app", "caseflow"]
    where = _run(
        [
            str(python),
            "-c",
            "import caseflow, caseflow.resources as r; print(caseflow.__file__, r.resource_root())",
        ],
        folder,
        env,
    ).stdout
    assert str(ROOT) not in where and "_bundle" in where
    _run([*flask, "caseflow", "init-db"], folder, env)
    seeded = _run([*flask, "caseflow", "seed-demo"], folder, env).stdout
    assert "officer" in seeded.lower()
    page = _run(
        [
            str(python),
            "-c",
            "from caseflow import create_app\n"
            "app = create_app()\n"
            "response = app.test_client().get('/login')\n"
            "print(response.status_code)\n"
            "print(response.get_data(as_text=True))\n",
        ],
        folder,
        env,
    ).stdout
    status, html = page.split("\n", 1)
    assert status == "200"
    assert 'lang="vi"' in html
    assert "Đăng nhập" in html and "Sign in" not in html


def test_a_source_checkout_reads_its_own_tree():
    from caseflow.resources import SOURCE_ROOT, resource_root

    assert resource_root() == SOURCE_ROOT == ROOT


def test_a_source_checkout_compiles_a_stale_catalog_at_start(tmp_path):
    from caseflow.resources import compile_catalogs

    folder = tmp_path / "translations" / "vi" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = folder / "messages.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\nmsgid "Sign in"\nmsgstr "Đăng nhập"\n'
    )
    assert compile_catalogs(tmp_path / "translations", only_stale=True) == [folder / "messages.mo"]
    assert compile_catalogs(tmp_path / "translations", only_stale=True) == []  # up to date: untouched
    import gettext

    with (folder / "messages.mo").open("rb") as fh:
        assert gettext.GNUTranslations(fh).gettext("Sign in") == "Đăng nhập"
