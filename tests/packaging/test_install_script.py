"""scripts/install.sh waits for another package manager instead of failing on its lock."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WAIT = ROOT / "scripts" / "wait-apt-lock.sh"


def _hold(path: Path, seconds: float) -> threading.Thread:
    """Hold an fcntl lock on `path` as dpkg does, from another process, for `seconds`."""
    ready = threading.Event()

    def run() -> None:
        holder = subprocess.Popen(
            [
                "python3",
                "-c",
                "import fcntl, sys, time\n"
                f"f = open({str(path)!r}, 'w')\n"
                "fcntl.lockf(f, fcntl.LOCK_EX)\n"
                "print('locked', flush=True)\n"
                f"time.sleep({seconds})\n",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        holder.stdout.readline()
        ready.set()
        holder.wait()

    thread = threading.Thread(target=run)
    thread.start()
    ready.wait(10)
    return thread


def test_the_install_waits_while_another_process_holds_the_dpkg_lock(tmp_path):
    lock = tmp_path / "lock-frontend"
    lock.touch()
    holder = _hold(lock, 3)
    started = time.monotonic()
    result = subprocess.run(
        [str(WAIT), "30"], env={**os.environ, "CASEFLOW_APT_LOCKS": str(lock)}, capture_output=True, text=True
    )
    elapsed = time.monotonic() - started
    holder.join()
    assert result.returncode == 0
    assert "waiting for another package manager" in result.stderr
    assert 1.5 <= elapsed < 20


def test_the_wait_gives_up_after_its_time_limit(tmp_path):
    lock = tmp_path / "lock"
    lock.touch()
    holder = _hold(lock, 6)
    result = subprocess.run(
        [str(WAIT), "2"], env={**os.environ, "CASEFLOW_APT_LOCKS": str(lock)}, capture_output=True, text=True
    )
    holder.join()
    assert result.returncode == 1
    assert "giving up" in result.stderr


def test_a_free_lock_does_not_wait(tmp_path):
    lock = tmp_path / "lock"
    lock.touch()
    result = subprocess.run(
        [str(WAIT), "5"], env={**os.environ, "CASEFLOW_APT_LOCKS": str(lock)}, capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stderr == ""


def test_install_script_is_valid_bash():
    assert subprocess.run(["bash", "-n", str(ROOT / "scripts" / "install.sh")]).returncode == 0
