"""CPU per `verify` transition, API against the floor, in one process: where the time goes.

Usage: .venv/bin/python bench/bench_transition_cpu.py URL [--n 300]

URL is a database seeded and kept by `bench/bench_api.py --keep`. Both paths run through
the same in-process WSGI client, interleaved one request each so that the machine's drift
cancels out; each figure is process CPU (not wall time) per request. The API's CPU is then
split into phases by timing the service functions a transition goes through, inclusively
(a phase contains the phases it calls).

bench_api.py measures throughput under concurrent clients; this script tells which part of
a transition to make cheaper next.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_api  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="a database kept by bench_api.py --keep")
    parser.add_argument("--n", type=int, default=300, help="transitions per path")
    args = parser.parse_args()
    import psycopg

    world = bench_api.world_from_json(json.loads(bench_api.world_file(args.url).read_text()))
    with psycopg.connect(args.url) as conn:
        received = conn.execute(
            "SELECT id, version, incident_commune_id FROM cases WHERE state = 'received' "
            "AND incident_commune_id = residence_commune_id ORDER BY random() LIMIT %s",
            (2 * args.n + 40,),
        ).fetchall()
    if len(received) < 2 * args.n + 40:
        print(f"only {len(received)} received cases left: seed a new database with bench_api.py --keep")
        return 1
    app = bench_api.wsgi_app(args.url, 8, "redis://127.0.0.1:6379/0", "bench-cpu")
    from werkzeug.test import Client

    client = Client(app)

    def api(case_id: int, version: int, commune: int) -> None:
        resp = client.post(
            f"/api/v1/cases/{case_id}/transitions",
            json={"trigger": "verify", "version": version, "data": bench_api.verify_data(case_id)},
            headers={"Authorization": f"Bearer {world.tokens[world.officer[commune]]}"},
        )
        assert resp.status_code == 200, resp.get_data()

    def floor(case_id: int, version: int, commune: int) -> None:
        resp = client.post(
            f"/floor/cases/{case_id}/verify",
            json={
                "version": version,
                "data": bench_api.verify_data(case_id),
                "actor": world.officer[commune],
            },
        )
        assert resp.status_code == 200, resp.get_data()

    phases = _time_phases()
    for i, case in enumerate(received[:40]):  # warm-up: imports, pools, statement caches
        (api if i % 2 else floor)(*case)
    phases.update(dict.fromkeys(phases, 0.0))
    cpu = {"floor": 0.0, "api": 0.0}
    for i, case in enumerate(received[40:]):
        path = api if i % 2 else floor
        started = time.process_time()
        path(*case)
        cpu[path.__name__] += time.process_time() - started
    per = {name: total / args.n * 1000 for name, total in cpu.items()}
    print(f"CPU per verify, {args.n} each, interleaved in one process:")
    print(
        f"  floor {per['floor']:.2f} ms, API {per['api']:.2f} ms: floor/API {per['floor'] / per['api']:.2f}"
    )
    print("API phases (inclusive: an indented phase is part of the one above it):")
    for name, total in phases.items():
        print(f"  {name:34} {total / args.n * 1000:6.2f} ms  {100 * total / cpu['api']:4.0f}%")
    return 0


def _time_phases() -> dict[str, float]:
    """Wrap the functions a transition goes through to add up their process CPU."""
    import caseflow.api as api_module
    import caseflow.api.cases as api_cases
    import caseflow.services.serialize as serialize
    import caseflow.services.transition as transition
    from caseflow.services import cases, outbox, routing, task_builder, tokens

    spent: dict[str, float] = {}  # in the order wrapped: the tree of calls

    def timed(owner: object, name: str, label: str, *rebind: object) -> None:
        original = getattr(owner, name)
        spent[label] = 0.0

        @functools.wraps(original)
        def wrapper(*args: object, **kwargs: object) -> object:
            started = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - started

        setattr(owner, name, wrapper)
        for module in rebind:  # modules that imported the function by name
            setattr(module, name, wrapper)

    run = transition.TransitionRun
    timed(tokens, "user_for_token", "token look-up", api_module)
    timed(cases, "get_case", "load the case (get_case)")
    timed(transition, "fire", "transition.fire")
    timed(run, "apply_effects", "  effects (apply_effects)")
    timed(run, "write_changes", "    UPDATE case and tasks")
    timed(run, "finish_tasks", "    route + INSERT new tasks")
    timed(routing, "agencies_for", "      route (agencies_for)", task_builder)
    timed(run, "write_held_rows", "    INSERT events and mails")
    timed(outbox, "dispatch", "  RQ enqueue after commit")
    timed(serialize, "case_json", "response JSON", api_cases)
    return spent


if __name__ == "__main__":
    sys.exit(main())
