"""Jobs fixtures: real Redis queues per test and real `flask caseflow worker` processes on the
test's database and SMTP server (tests/conftest.py keeps the SMTP server the notification
tests share)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT

REDIS_TEST_URL = os.environ.get("CASEFLOW_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url() -> str:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping()
    except RedisError:
        pytest.skip("Redis is not running")
    return REDIS_TEST_URL


@pytest.fixture
def queue_prefix(redis_url):
    """Queue names for one test (xdist workers share the server); their keys go at the end."""
    from redis import Redis
    from rq import Queue

    prefix = f"cftest-{uuid.uuid4().hex[:10]}"
    yield prefix
    connection = Redis.from_url(redis_url)
    for short in ("mail", "scan", "documents"):
        queue = Queue(f"{prefix}-{short}", connection=connection)
        registries = (
            queue.started_job_registry,
            queue.finished_job_registry,
            queue.failed_job_registry,
            queue.scheduled_job_registry,
            queue.deferred_job_registry,
        )
        job_ids = set(queue.get_job_ids()).union(*(r.get_job_ids() for r in registries))
        for job_id in job_ids:
            connection.delete(f"rq:job:{job_id}", f"rq:results:{job_id}")
        connection.srem("rq:queues", queue.key)
    for key in connection.scan_iter(f"*{prefix}*", count=1000):
        connection.delete(key)


@pytest.fixture
def mail_config(smtp_server, redis_url, queue_prefix) -> dict:
    """Settings for a test that sends through RQ and the SMTP server (retries made fast)."""
    return {
        "REDIS_URL": redis_url,
        "CASEFLOW_QUEUE_PREFIX": queue_prefix,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_TIMEOUT": 10,
        "NOTIFICATION_BACKOFF_SECONDS": 0.5,
        "NOTIFICATION_LEASE_SECONDS": 30,
        "SWEEP_GRACE_SECONDS": 0,
        # Saved forms' documents are prerendered in test_prerender_job; elsewhere the layouts
        # would only take the cores the mail tests time (their jobs are scheduled, never due).
        "PRERENDER_DELAY_SECONDS": 3600,
    }


class WorkerRunner:
    """Starts `flask --app wsgi caseflow worker` as a real process on the test's settings."""

    def __init__(self, app) -> None:
        config = app.config
        self.env = {
            **os.environ,
            "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
            "CASEFLOW_INSTANCE_PATH": app.instance_path,
            "SECRET_KEY": config["SECRET_KEY"],
            "REDIS_URL": config["REDIS_URL"] or "",
            "CASEFLOW_QUEUE_PREFIX": config["CASEFLOW_QUEUE_PREFIX"],
            "MAIL_SERVER": config["MAIL_SERVER"] or "",
            "MAIL_PORT": str(config["MAIL_PORT"]),
            "CASEFLOW_BASE_URL": config["CASEFLOW_BASE_URL"],
            "CASEFLOW_MAIL_TIMEOUT": str(config["MAIL_TIMEOUT"]),
            "CASEFLOW_NOTIFICATION_BACKOFF_SECONDS": str(config["NOTIFICATION_BACKOFF_SECONDS"]),
            "CASEFLOW_NOTIFICATION_LEASE_SECONDS": str(config["NOTIFICATION_LEASE_SECONDS"]),
            "CASEFLOW_NOTIFICATION_MAX_ATTEMPTS": str(config["NOTIFICATION_MAX_ATTEMPTS"]),
            "CASEFLOW_SWEEP_GRACE_SECONDS": str(config["SWEEP_GRACE_SECONDS"]),
            "CASEFLOW_SCAN_INTERVAL_SECONDS": str(config["SCAN_INTERVAL_SECONDS"]),
            "CASEFLOW_REPORT_OBLIGATIONS_SCAN": str(config.get("REPORT_OBLIGATIONS_SCAN", True)),
        }
        self.processes: list[subprocess.Popen] = []

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "flask", "--app", "wsgi", "caseflow", *args]

    def start(self, *args: str) -> subprocess.Popen:
        """A long-running worker in its own process group (so a test can kill it and its horse)."""
        log = open(Path(self.env["CASEFLOW_INSTANCE_PATH"]) / f"worker-{len(self.processes)}.log", "wb")
        process = subprocess.Popen(
            self.command("worker", *args),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log_path = log.name
        log.close()
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(Path(p.log_path).read_text(errors="replace") for p in self.processes)

    def burst(self, *args: str, timeout: float = 60) -> str:
        """Work the queues until they are empty; returns the worker's log."""
        done = subprocess.run(
            self.command("worker", "--burst", "--no-cron", *args),
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args), cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )

    @staticmethod
    def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        """Signal the worker's whole group: the RQ work horse and the cron child die with it."""
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                self.kill(process, signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    self.kill(process)
                    process.wait(10)
            self.kill(process)  # anything left in its group


@pytest.fixture
def renders(monkeypatch):
    """How many PDFs this process really rendered (the real renderer, counted): a download
    served from the cache renders none."""
    from caseflow.services import documents

    counts = {"pdf": 0}
    real = documents.render_pdf

    def pdf(pages):
        counts["pdf"] += 1
        return real(pages)

    monkeypatch.setattr(documents, "render_pdf", pdf)
    return counts


@pytest.fixture
def worker(app):
    """Run real RQ workers against this test's database, Redis queues and SMTP server."""
    runner = WorkerRunner(app)
    yield runner
    runner.stop_all()
