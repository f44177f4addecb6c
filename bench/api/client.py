"""The bench's clients: keep-alive HTTP connections with bearer tokens, the transition
phases (each client fires `verify` on cases of its own communes) and sequential reads."""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time

from api.seed import World


class Client:
    """One keep-alive HTTP connection with a bearer token."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw and raw[:1] in b"{[" else None)
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def verify_data(case_id: int) -> dict:
    return {
        "risk_level": "medium",
        "serious_harm": case_id % 2 == 0,
        "caregiver_is_abuser": False,
        "findings": "Đã xác minh tại gia đình; trẻ cần hỗ trợ.",
    }


def run_transitions(
    port: int, w: World, pools: dict[int, list[tuple[int, int]]], clients: int, seconds: float, floor: bool
) -> dict:
    """Each client fires `verify` on cases of its own communes until time is up."""
    communes = sorted(pools)
    stop_at = time.perf_counter() + seconds
    results = {"ok": 0, "conflict": 0, "error": 0, "latencies": []}
    lock = threading.Lock()

    def worker(k: int) -> None:
        mine = [c for i, c in enumerate(communes) if i % clients == k]
        http_clients = {c: Client(port, None if floor else w.tokens[w.officer[c]]) for c in mine}
        ok = conflict = error = 0
        lat = []
        i = 0
        while time.perf_counter() < stop_at and any(pools[c] for c in mine):
            commune = mine[i % len(mine)]
            i += 1
            if not pools[commune]:
                continue
            case_id, version = pools[commune].pop()
            t0 = time.perf_counter()
            if floor:
                status, body = http_clients[commune].request(
                    "POST",
                    f"/floor/cases/{case_id}/verify",
                    {"version": version, "data": verify_data(case_id), "actor": w.officer[commune]},
                )
            else:
                status, body = http_clients[commune].request(
                    "POST",
                    f"/api/v1/cases/{case_id}/transitions",
                    {"trigger": "verify", "version": version, "data": verify_data(case_id)},
                )
            lat.append(time.perf_counter() - t0)
            if status == 200 and body and body.get("version") == version + 1:
                ok += 1
            elif status == 409:
                conflict += 1
            else:
                error += 1
                if error <= 3:
                    print(f"  unexpected {status}: {str(body)[:300]}", file=sys.stderr)
        with lock:
            results["ok"] += ok
            results["conflict"] += conflict
            results["error"] += error
            results["latencies"] += lat

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results["elapsed"] = time.perf_counter() - t0
    return results


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure(client: Client, paths: list[str], n: int, budget: float) -> dict:
    """Sequential requests (one client, no other load): p50/p95 in ms."""
    lat = []
    started = time.perf_counter()
    for i in range(n):
        path = paths[i % len(paths)]
        t0 = time.perf_counter()
        status, body = client.request("GET", path)
        lat.append(time.perf_counter() - t0)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {str(body)[:300]}")
        if time.perf_counter() - started > budget and len(lat) >= 20:
            break
    return {"n": len(lat), "p50": percentile(lat, 50) * 1000, "p95": percentile(lat, 95) * 1000}
