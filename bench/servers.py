"""Servers and load for the benchmarks that talk HTTP to real processes: `dandelion serve` and
`dandelion worker` as children, a crowd of client threads, and the figures of what they saw."""

import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, NamedTuple

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(server: subprocess.Popen, url: str) -> subprocess.Popen:
    for _ in range(240):
        try:
            urllib.request.urlopen(url, timeout=1)
            return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.25)
    server.kill()
    raise SystemExit(f"the server of {url} did not start")


def start_app(
    env: dict, port: int, log: IO | int = subprocess.DEVNULL, ready: str = "/api/v1/keys"
) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-upgrade"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    return wait(server, f"http://127.0.0.1:{port}{ready}")


def start_worker(env: dict, log: IO | int = subprocess.DEVNULL, threads: int = 2):
    # Its log goes to a file, not a pipe nobody reads: a full pipe would stop the worker.
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--threads", str(threads)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


class Figures(NamedTuple):
    per_second: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]


def figures(latencies: list[float], statuses: dict[int, int], wall: float) -> Figures:
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return Figures(
        len(latencies) / wall,
        statistics.median(latencies) * 1e3,
        q[98] * 1e3,
        dict(sorted(statuses.items())),
    )


def load(clients: int, requests: int, call) -> Figures:
    """`requests` calls of call(n) by `clients` threads at once."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    def one(n: int) -> None:
        started = time.perf_counter()
        try:
            status = call(n)
        except httpx.TransportError:  # shown as status 0: a reset connection, a timeout
            status = 0
        latencies.append(time.perf_counter() - started)
        statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(requests)))
    return figures(latencies, statuses, time.perf_counter() - started)


class Recorder:
    """Latencies and statuses by kind of request, from many threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[str, tuple[list[float], dict[int, int]]] = {}

    def timed(
        self, kind: str, send: Callable[..., httpx.Response], *args, **kwargs
    ) -> httpx.Response | None:
        """send(*args, **kwargs), timed and its status counted under kind (0: no answer)."""
        started = time.perf_counter()
        try:
            response: httpx.Response | None = send(*args, **kwargs)
        except httpx.TransportError:
            response = None
        took = time.perf_counter() - started
        with self.lock:
            latencies, statuses = self.seen.setdefault(kind, ([], {}))
            latencies.append(took)
            status = response.status_code if response is not None else 0
            statuses[status] = statuses.get(status, 0) + 1
        return response

    def figures(self, wall: float, waiting: tuple[str, ...] = ()) -> dict[str, Figures]:
        """By kind, and "all" of them but the kinds that only wait (polling a job's state)."""
        every: list[float] = []
        statuses: dict[int, int] = {}
        out = {}
        for kind, (latencies, by_status) in sorted(self.seen.items()):
            out[kind] = figures(latencies, by_status, wall)
            if kind in waiting:
                continue
            every += latencies
            for status, n in by_status.items():
                statuses[status] = statuses.get(status, 0) + n
        if every:
            out["all"] = figures(every, statuses, wall)
        return out
