"""Load test of the CaseFlow JSON API on a large PostgreSQL dataset, next to a bare-Flask floor.

Usage: .venv/bin/python bench/bench_api.py [--cases 200000] [--clients 8] [--seconds 10]
       [--workers 2 --threads 4 | --workers 0 --threads 8] [--keep | --url URL]

It creates a database of its own on the local PostgreSQL server (dropped at the end),
migrates it with Flask-Migrate, bulk-loads a province of ~200 communes with COPY (bench/api/
seed.py), then serves the real app as the README deploys it (gunicorn, 2 processes x 4
threads; or one waitress process with --workers 0) in a subprocess. In the same processes a
bare Flask app under /floor (bench/api/floor.py) writes what a `verify` must write, form
record, ad-hoc report, encryption and the trail's chain included, without the CaseFlow
layers (no token, no ORM, no Machine): it is the floor the API is measured against, in the
same run, so the ratios hold on a noisy shared machine. The clients: bench/api/client.py.

Figures: transitions per second under concurrent clients (API vs floor), p50/p95 of
case detail, case list (first page, overdue=true) and the overdue dashboard for a
province supervisor and a commune officer, and the web worker's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# The parts, re-exported for the other benches (bench_reports, bench_transition_cpu) and gunicorn.
from api.client import Client, measure, percentile, run_transitions, verify_data  # noqa: E402
from api.floor import floor_app  # noqa: E402
from api.seed import (  # noqa: E402
    RESULTS,
    World,
    create_database,
    drop_database,
    migrate,
    seed_cases,
    seed_reference,
    world_file,
    world_from_json,
    world_json,
)

# ---------------------------------------------------------------------------------------------
# The server: CaseFlow and the floor in the same processes (gunicorn, or one waitress process)
# ---------------------------------------------------------------------------------------------


def wsgi_app(
    url: str | None = None,
    threads: int | None = None,
    redis_url: str | None = None,
    queue_prefix: str | None = None,
):  # noqa: ANN201
    """CaseFlow with the floor mounted at /floor; gunicorn calls it with the settings in the environment."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from caseflow import create_app

    if url is None:  # called by gunicorn: the settings come through the environment
        url, threads = os.environ["BENCH_DB_URL"], int(os.environ["BENCH_THREADS"])
        redis_url, queue_prefix = os.environ.get("BENCH_REDIS") or None, os.environ["BENCH_QUEUE_PREFIX"]
    # As deployed on PostgreSQL: mail leaves through RQ (jobs on a queue of this run that no
    # worker reads), so the web worker's figures are its own, not the mail server's.
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "REDIS_URL": redis_url,
            "MAIL_SERVER": None,
            "CASEFLOW_QUEUE_PREFIX": queue_prefix,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": threads + 2, "max_overflow": 4},
        }
    )
    from caseflow import crypto
    from caseflow.workflow import current_forms

    with app.app_context():  # the floor encrypts with the app's keys and records the app's form
        keyring, forms = crypto.keyring(), current_forms()
    return DispatcherMiddleware(app, {"/floor": floor_app(url, threads + 2, keyring, forms)})


def serve(url: str, port: int, threads: int, redis_url: str | None, queue_prefix: str) -> None:
    from waitress import create_server

    wsgi = wsgi_app(url, threads, redis_url, queue_prefix)
    server = create_server(
        wsgi,
        host="127.0.0.1",
        port=port,
        threads=threads,
        connection_limit=200,
        channel_timeout=120,
        asyncore_use_poll=True,
    )
    print(f"READY {os.getpid()}", flush=True)
    server.run()


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def peak_rss_kb(pid: int) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmHWM"].split()[0]), int(fields["VmRSS"].split()[0])


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--communes", type=int, default=200)
    parser.add_argument("--districts", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    # The deployment the README recommends: gunicorn, 2 processes x 4 threads.
    parser.add_argument("--threads", type=int, default=4, help="threads per web worker process")
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn worker processes (gthread); 0: one waitress process"
    )
    parser.add_argument("--seconds", type=float, default=10, help="length of each throughput phase")
    parser.add_argument("--rounds", type=int, default=3, help="floor/API phase pairs, interleaved")
    parser.add_argument("--samples", type=int, default=100, help="requests per latency figure")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    parser.add_argument("--url", help="reuse a seeded database (from --keep) instead of making one")
    parser.add_argument(
        "--redis",
        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="Redis for the mail queue; 'none' delivers mail in-process, in the request",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--queue-prefix", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    redis_url = None if args.redis.lower() == "none" else args.redis
    if args.serve:
        serve(args.url, args.port, args.threads, redis_url, args.queue_prefix)
        return 0
    queue_prefix = f"bench-{uuid.uuid4().hex[:8]}"
    if redis_url and not redis_up(redis_url):
        print(f"Redis not reachable at {redis_url}: mail is delivered in-process, inside each request")
        redis_url = None

    import psycopg

    started = time.perf_counter()
    name = None
    if args.url:
        url = args.url
    else:
        name, url = create_database()
        print(f"database {name}")
    server = None
    try:
        if not args.url:
            t0 = time.perf_counter()
            migrate(url)
            with psycopg.connect(url) as conn:
                w = seed_reference(conn, args.communes, args.districts)
                counts = seed_cases(conn, w, args.cases)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            print(
                f"seeded in {time.perf_counter() - t0:.0f}s: "
                + ", ".join(f"{v} {k}" for k, v in counts.items())
            )
            Path(RESULTS).mkdir(parents=True, exist_ok=True)
            world_file(url).write_text(json.dumps(world_json(w)))
        else:
            w = world_from_json(json.loads(world_file(url).read_text()))
        with psycopg.connect(url) as conn:
            overdue = conn.execute(
                "SELECT count(*) FROM tasks WHERE status = 'open' AND due_at < now() AT TIME ZONE 'UTC'"
            ).fetchone()[0]
            open_tasks = conn.execute("SELECT count(*) FROM tasks WHERE status = 'open'").fetchone()[0]
            received = conn.execute(
                "SELECT id, version, incident_commune_id FROM cases WHERE state = 'received' "
                "AND incident_commune_id = residence_commune_id ORDER BY id"
            ).fetchall()
        print(f"{open_tasks} open tasks, {overdue} overdue; {len(received)} received cases for transitions")

        port = args.port or _free_port()
        RESULTS.mkdir(parents=True, exist_ok=True)
        log = open(RESULTS / "server.log", "w")  # noqa: SIM115 - kept open for the subprocess
        if args.workers:
            # gunicorn: N worker processes with threads each, as a deployment would run it.
            env = {
                **os.environ,
                "BENCH_DB_URL": url,
                "BENCH_THREADS": str(args.threads),
                "BENCH_REDIS": redis_url or "",
                "BENCH_QUEUE_PREFIX": queue_prefix,
            }
            server = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "gunicorn"),
                    "--chdir",
                    str(ROOT / "bench"),
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(args.workers),
                    "--threads",
                    str(args.threads),
                    "--worker-class",
                    "gthread",
                    "--timeout",
                    "120",
                    "--log-level",
                    "warning",
                    "bench_api:wsgi_app()",
                ],
                stdout=log,
                stderr=log,
                env=env,
                cwd=str(ROOT),
            )
            wait_until_up(port, server)
            pids = worker_pids(server.pid, args.workers)
        else:
            server = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--serve",
                    "--url",
                    url,
                    "--port",
                    str(port),
                    "--threads",
                    str(args.threads),
                    "--redis",
                    redis_url or "none",
                    "--queue-prefix",
                    queue_prefix,
                ],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                cwd=str(ROOT),
            )
            line = server.stdout.readline()
            if not line.startswith("READY"):
                raise RuntimeError(f"server did not start: {line!r}; see {RESULTS / 'server.log'}")
            pids = [int(line.split()[1])]
        rss_idle = max(peak_rss_kb(p)[1] for p in pids)

        # Two disjoint halves of the received cases: one for the floor, one for the API.
        api_pool: dict[int, list] = defaultdict(list)
        floor_pool: dict[int, list] = defaultdict(list)
        for i, (case_id, version, commune) in enumerate(received):
            (api_pool if i % 2 else floor_pool)[commune].append((case_id, version))
        for pool in (api_pool, floor_pool):
            for cases in pool.values():
                random.Random(7).shuffle(cases)
        # Warm up both paths (imports, pools, caches) with a few requests each.
        run_transitions(
            port,
            w,
            {c: [api_pool[c].pop()] for c in list(api_pool)[: args.clients]},
            args.clients,
            30,
            floor=False,
        )
        run_transitions(
            port,
            w,
            {c: [floor_pool[c].pop()] for c in list(floor_pool)[: args.clients]},
            args.clients,
            30,
            floor=True,
        )

        phases = {"floor": [], "api": []}
        for _ in range(args.rounds):
            for kind in ("floor", "api"):
                r = run_transitions(
                    port,
                    w,
                    floor_pool if kind == "floor" else api_pool,
                    args.clients,
                    args.seconds,
                    floor=kind == "floor",
                )
                phases[kind].append(r)
                print(
                    f"  {kind:5}: {r['ok']} ok, {r['conflict']} conflicts, {r['error']} errors "
                    f"in {r['elapsed']:.1f}s = {r['ok'] / r['elapsed']:.1f}/s"
                )

        def rate(kind: str) -> tuple[float, float, float]:
            ok = sum(r["ok"] for r in phases[kind])
            elapsed = sum(r["elapsed"] for r in phases[kind])
            lat = [x for r in phases[kind] for x in r["latencies"]]
            return ok / elapsed, percentile(lat, 50) * 1000, percentile(lat, 95) * 1000

        floor_rate, floor_p50, floor_p95 = rate("floor")
        api_rate, api_p50, api_p95 = rate("api")

        # Latency of reads, one client at a time.
        rng = random.Random(11)
        officer_commune = w.communes[len(w.communes) // 2]
        with psycopg.connect(url) as conn:
            own_cases = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM cases WHERE incident_commune_id = %s AND state <> 'received' ORDER BY id",
                    (officer_commune,),
                ).fetchall()
            ]
        detail_paths = [
            f"/api/v1/cases/{c}" for c in rng.sample(own_cases, min(len(own_cases), args.samples))
        ]
        officer = Client(port, w.tokens[w.officer[officer_commune]])
        supervisor = Client(port, w.tokens[w.supervisor_province])
        bare = Client(port)
        budget = 25.0
        reads = [
            ("floor: GET /floor/ping (HTTP + Flask only)", bare, ["/floor/ping"], None),
            (
                "floor: case detail, plain SQL",
                bare,
                [p.replace("/api/v1", "/floor") for p in detail_paths],
                None,
            ),
            ("GET case detail (officer)", officer, detail_paths, "floor: case detail, plain SQL"),
            ("GET case list p1 (officer)", officer, ["/api/v1/cases"], None),
            ("GET case list p1 overdue (officer)", officer, ["/api/v1/cases?overdue=true"], None),
            ("GET case list p1 (province supervisor)", supervisor, ["/api/v1/cases"], None),
            ("GET case list p1 overdue (prov. supervisor)", supervisor, ["/api/v1/cases?overdue=true"], None),
            ("GET dashboard/overdue (officer)", officer, ["/api/v1/dashboard/overdue"], None),
            ("GET dashboard/overdue (province supervisor)", supervisor, ["/api/v1/dashboard/overdue"], None),
        ]
        read_results = {}
        for label, client, paths, _ in reads:
            client.request("GET", paths[0])  # warm
            read_results[label] = measure(client, paths, args.samples, budget)
        peak_kb, rss_kb = (max(v) for v in zip(*(peak_rss_kb(p) for p in pids), strict=True))

        # ---- the table ----
        print()
        server_kind = (
            f"gunicorn {args.workers} workers x {args.threads} threads"
            if args.workers
            else f"waitress 1 process x {args.threads} threads"
        )
        print(
            f"CaseFlow API bench: {args.cases} cases, {len(w.communes)} communes, {args.clients} clients, "
            f"{server_kind}, {os.cpu_count()} CPUs, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        )
        print(
            f"mail: {'RQ queue on ' + redis_url if redis_url else 'delivered in-process, inside the request'}; "
            f"load average at the end: {os.getloadavg()[0]:.1f}"
        )
        print(f"{'':46} {'value':>12} {'p50 ms':>9} {'p95 ms':>9} {'vs floor':>9}")
        print(
            f"{'floor: verify, plain SQL (tx/s)':46} {floor_rate:12.1f} {floor_p50:9.1f} {floor_p95:9.1f} "
            f"{'1.00':>9}"
        )
        ratio = api_rate / floor_rate if floor_rate else float("nan")
        goal = "OK" if ratio >= 0.5 else "MISSED"
        print(
            f"{'API: POST transitions verify (tx/s)':46} {api_rate:12.1f} {api_p50:9.1f} {api_p95:9.1f} "
            f"{ratio:9.2f}  goal >= 0.50 {goal}"
        )
        for label, _, _, floor_label in reads:
            r = read_results[label]
            vs = ""
            if floor_label:
                vs = f"{r['p95'] / read_results[floor_label]['p95']:8.1f}x"
            note = ""
            if "dashboard" in label:
                note = "  goal p95 < 100 ms " + ("OK" if r["p95"] < 100 else "MISSED")
            print(f"{label:46} {'n=' + str(r['n']):>12} {r['p50']:9.1f} {r['p95']:9.1f} {vs:>9}{note}")
        print(
            f"{'web worker max RSS after start / peak (MB)':46} {rss_idle / 1024:8.0f} / {peak_kb / 1024:.0f}"
            f"   (now {rss_kb / 1024:.0f})"
        )
        print(f"total bench time {time.perf_counter() - started:.0f}s")
        summary = {
            "at": datetime.now(UTC).isoformat(),
            "cases": args.cases,
            "clients": args.clients,
            "floor_tps": floor_rate,
            "api_tps": api_rate,
            "ratio": ratio,
            "api_transition_ms": [api_p50, api_p95],
            "floor_transition_ms": [floor_p50, floor_p95],
            "reads": read_results,
            "rss_peak_mb": peak_kb / 1024,
            "rss_start_mb": rss_idle / 1024,
        }
        with open(RESULTS / "history.jsonl", "a") as fh:
            fh.write(json.dumps(summary) + "\n")
        return 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        if redis_url:
            clear_queues(redis_url, queue_prefix)
        if name and not args.keep:
            drop_database(name)
        elif name:
            print(f"kept database: {url}")


def wait_until_up(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}; see {RESULTS / 'server.log'}")
        try:
            if Client(port).request("GET", "/floor/ping")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not answer in time")


def worker_pids(master: int, expected: int) -> list[int]:
    """gunicorn's worker processes (the children of its master)."""
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if len(children) >= expected:
            return [int(c) for c in children]
        time.sleep(0.1)
    raise RuntimeError("gunicorn workers did not start")


def redis_up(url: str) -> bool:
    from redis import Redis

    try:
        return bool(Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:
        return False


def clear_queues(url: str, prefix: str) -> None:
    """Drop this run's queued mail jobs: nobody reads these queues."""
    from redis import Redis

    r = Redis.from_url(url)
    for key in list(r.scan_iter(f"rq:*{prefix}*")):
        kind = r.type(key)
        ids = r.lrange(key, 0, -1) if kind == b"list" else r.zrange(key, 0, -1) if kind == b"zset" else []
        for job_id in ids:
            r.delete(b"rq:job:" + job_id)
        r.delete(key)
    for name in r.smembers("rq:queues"):  # RQ's registry of queue names
        if prefix.encode() in name:
            r.srem("rq:queues", name)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


__all__ = [  # what bench_reports and bench_transition_cpu take from here
    "World",
    "create_database",
    "drop_database",
    "migrate",
    "seed_cases",
    "seed_reference",
    "verify_data",
    "world_file",
    "world_from_json",
    "world_json",
    "wsgi_app",
]


if __name__ == "__main__":
    sys.exit(main())
