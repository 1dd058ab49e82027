"""Two processes writing one SQLite file back to back, through storage.db's engine (WAL, writers queue).

Prints transactions/s, commit latency percentiles and the largest WAL size seen: what the writers queue
and SQLite's WAL checkpoint cost when nothing else paces the writers (the worst case for both).

    python benchmarks/sqlite_writers.py [--processes 2] [--transactions 6000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _write(url: str, wal: str, n: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(url)
    latencies, biggest = [], 0
    for i in range(n):
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "x" * 1500})
        latencies.append(time.perf_counter() - started)
        if i % 50 == 0:
            biggest = max(biggest, os.path.getsize(wal))
    engine.dispose()
    out.put((latencies, biggest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--transactions", type=int, default=6000, help="per process")
    args = parser.parse_args()
    from sqlalchemy import text

    from storage.db import make_engine

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "w.db")
        url = "sqlite:///" + path
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        procs = [ctx.Process(target=_write, args=(url, path + "-wal", args.transactions, out))
                 for _ in range(args.processes)]
        started = time.perf_counter()
        for p in procs:
            p.start()
        results = [out.get() for _ in procs]
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - started
        engine.dispose()
    lat = sorted(x for latencies, _ in results for x in latencies)
    n = len(lat)
    wal = max(b for _, b in results)
    print(f"{args.processes} processes x {args.transactions} transactions: {n / elapsed:.0f} tx/s; commit latency "
          f"p50 {lat[n // 2] * 1e3:.2f} p99 {lat[int(n * 0.99)] * 1e3:.2f} p99.9 {lat[int(n * 0.999)] * 1e3:.2f} "
          f"max {lat[-1] * 1e3:.1f} ms; largest WAL seen {wal / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
