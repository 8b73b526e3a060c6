"""A bounded load test of ``synesthesia serve`` on loopback: N clients × M requests.

Starts the app in its own process (``synesthesia serve --port P``), waits for it, then runs
``--clients`` threads, each with its own HTTP API client (gradio_client, as any program would
call the app), sending ``--requests`` requests one after another: uploads of the packaged
examples to the caption, scene and retrieve tabs in turn (``--endpoints`` chooses others; the
chain is the slowest). Every request must be answered without error; the latency of each one
(upload + queue wait + model + answer) is recorded and p50 / p95 / max printed, per endpoint
and overall, with the throughput. The app runs one model call at a time (its queue), so the
latency under load is mostly waiting in that queue.

    OMP_NUM_THREADS=1 python benchmarks/web_load.py                       # 8 clients × 25
    OMP_NUM_THREADS=1 python benchmarks/web_load.py --clients 4 --requests 5 --endpoints chain

Results: docs/benchmarks.md, "Web app".
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from synesthesia.pipelines import asset_path

ENDPOINTS = {
    "caption": lambda f: (f(asset_path("digit_strip_example.png")), 3),
    "scene": lambda f: (f(asset_path("scene_birds.wav")),),
    "retrieve": lambda f: (f(asset_path("embed_digits/query_seven.wav")), []),
    "speak": lambda f: ("Place green at b nine soon.", "griffin-lim"),
    "chain": lambda f: (f(asset_path("digit_strip_example.png")), "", None, "griffin-lim"),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(port: int) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    process = subprocess.Popen(
        [sys.executable, "-m", "synesthesia", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited: {process.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return process
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("the server did not start within 120 s")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=25, help="per client")
    parser.add_argument(
        "--endpoints",
        default="caption,scene,retrieve",
        help=f"taken in turn, comma-separated; of {','.join(ENDPOINTS)}",
    )
    parser.add_argument("--url", default=None, help="a running app (default: start one)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.endpoints.split(",")]
    unknown = [n for n in names if n not in ENDPOINTS]
    if unknown:
        parser.error(f"unknown endpoints {unknown}")

    from gradio_client import Client, handle_file

    process = None
    url = args.url
    if url is None:
        port = _free_port()
        process = _start(port)
        url = f"http://127.0.0.1:{port}/"
    latencies: dict[str, list[float]] = {n: [] for n in names}
    errors: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        try:
            api = Client(url, verbose=False, download_files=False)
        except Exception as exc:  # counted: every failure is reported, none is hidden
            with lock:
                errors.append(f"client {index}: {exc!r}")
            return
        for k in range(args.requests):
            name = names[(index + k) % len(names)]
            start = time.perf_counter()
            try:
                api.predict(*ENDPOINTS[name](handle_file), api_name=f"/{name}")
            except Exception as exc:
                with lock:
                    errors.append(f"client {index} request {k} ({name}): {exc!r}")
                continue
            with lock:
                latencies[name].append(time.perf_counter() - start)

    try:
        start = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    everything = [v for values in latencies.values() for v in values]
    total = args.clients * args.requests
    rows = {
        name: {"answered": len(values), "p50_s": _percentile(values, 50),
               "p95_s": _percentile(values, 95), "max_s": max(values)}
        for name, values in [*latencies.items(), ("all", everything)] if values
    }  # fmt: skip
    print(f"{args.clients} clients × {args.requests} requests = {total} on {url} "
          f"({', '.join(names)} in turn): {len(everything)} answered, {len(errors)} errors, "
          f"{wall:.1f} s wall, {len(everything) / wall:.2f} requests/s")  # fmt: skip
    print(f"{'endpoint':<10} {'answered':>8} {'p50 (s)':>8} {'p95 (s)':>8} {'max (s)':>8}")
    for name, row in rows.items():
        print(f"{name:<10} {row['answered']:>8d} {row['p50_s']:>8.2f} {row['p95_s']:>8.2f} "
              f"{row['max_s']:>8.2f}")  # fmt: skip
    for error in errors[:10]:
        print("error:", error)
    if args.json is not None:
        args.json.write_text(json.dumps({"clients": args.clients, "requests": args.requests,
                                         "wall_s": wall, "errors": errors, "rows": rows},
                                        indent=2))  # fmt: skip
    if errors or len(everything) != total:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
