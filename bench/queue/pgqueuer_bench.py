"""Drain N no-op jobs with pgqueuer on the same database; prints "jobs/s seconds remaining".

Usage: pgqueuer_bench.py DSN JOBS CONCURRENCY
CONCURRENCY pgqueuer queue managers run side by side in one process, each on its own
connection with pgqueuer's default batch size (10) and no per-entrypoint limit: the closest
match to that many orchestrator worker slots, each with its own connection.
"""
import asyncio
import sys
import time
from datetime import timedelta

import asyncpg
from pgqueuer import QueueManager, Queries
from pgqueuer.domain.types import QueueExecutionMode


async def main(dsn: str, jobs: int, concurrency: int) -> None:
    admin = await asyncpg.connect(dsn)
    queries = Queries.from_asyncpg_connection(admin)
    try:
        await queries.uninstall()
    except Exception:
        pass
    await queries.install()
    for start in range(0, jobs, 5000):
        count = min(5000, jobs - start)
        await queries.enqueue(["noop"] * count, [None] * count, [0] * count)

    managers = []
    for _ in range(concurrency):
        connection = await asyncpg.connect(dsn)
        manager = QueueManager(Queries.from_asyncpg_connection(connection))

        @manager.entrypoint("noop")
        async def noop(job) -> None:
            return None

        managers.append((manager, connection))

    started = time.perf_counter()
    await asyncio.gather(*(
        manager.run(mode=QueueExecutionMode.drain, dequeue_timeout=timedelta(seconds=1)) for manager, _ in managers
    ))
    elapsed = time.perf_counter() - started
    remaining = await admin.fetchval("SELECT count(*) FROM pgqueuer")
    for _, connection in managers:
        await connection.close()
    await admin.close()
    print(f"{(jobs - remaining) / elapsed:.1f} {elapsed:.3f} {remaining}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
