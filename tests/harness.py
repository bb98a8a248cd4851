"""A gateway under test: the real workers (in this process) on simulated modems over ptys, with a clock to steer."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gateway import config as configuration
from gateway import store
from gateway.simulator import Network, SimModem
from gateway.store import outbox as q
from gateway.worker import Supervisor

FAST = {"per_minute": 60_000, "per_hour": 3_600_000, "per_day": 100_000_000}


class FakeClock:
    """Wall-clock time that moves only when the test says so, or by `tick` seconds at every reading."""

    def __init__(self, start: float, tick: float = 0.0) -> None:
        self._now = start
        self._tick = tick
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self._now += self._tick
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, when: float) -> None:
        with self._lock:
            self._now = when

    @contextlib.contextmanager
    def running(self, step: float, every: float = 0.002) -> Iterator[None]:
        """Advance by `step` simulated seconds every `every` real seconds inside the block (fast-forward)."""
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(every):
                self.advance(step)

        thread = threading.Thread(target=tick, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll a condition on state that offers no event (database rows) until it holds or time runs out."""
    gate = threading.Event()
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        gate.wait(0.02)


def make_config(tmp_path: Path, ports: list[str], *, modem: dict[str, Any] | None = None,
                **sections: dict[str, Any]) -> configuration.Config:
    """A config for tests: database in tmp_path, web on a free loopback port, fast caps unless overridden."""
    data: dict[str, Any] = {
        "database": {"path": str(tmp_path / "gateway.db")},
        "web": {"bind": "127.0.0.1", "port": 0},
        "sending": {"require_clock_sync": False, "retry_base_s": 1, "retry_max_s": 2},
        "modems": [{"port": p, **FAST, **(modem or {})} for p in ports],
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return configuration.parse(data)


class Gateway:
    """Supervisor + workers of the real product, in-process, on the given config."""

    def __init__(self, config: configuration.Config, *, clock: Callable[[], float] = time.time,
                 clock_ok: Callable[[], bool] = lambda: True, on_inbound=None) -> None:
        self.config = config
        self.stopping = threading.Event()
        self.supervisor = Supervisor(config, clock=clock, stopping=self.stopping, clock_ok=clock_ok,
                                     on_inbound=on_inbound)
        self.db = store.connect(config.database.path)

    def __enter__(self) -> "Gateway":
        self.supervisor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.supervisor.stop()  # self.db stays open so the test can inspect the final state

    def online(self, count: int, timeout: float = 30.0) -> None:
        """Wait until `count` workers are connected."""
        wait_until(lambda: sum(w.connected.is_set() for w in list(self.supervisor.workers.values())) >= count,
                   timeout, f"{count} modem(s) online")

    def counts(self) -> dict[str, int]:
        return q.counts(self.db)

    def wait_sent(self, n: int, timeout: float = 60.0) -> None:
        """Wait until at least n messages were accepted by the network (sent, delivered or undelivered)."""
        def reached() -> bool:
            c = self.counts()
            return c["sent"] + c["delivered"] + c["undelivered"] >= n

        wait_until(reached, timeout, f"{n} messages sent")

    def wait_counts(self, timeout: float = 60.0, **expected: int) -> dict[str, int]:
        """Wait until the outbox has (at least) these counts per state."""
        def reached() -> dict[str, int] | None:
            counts = self.counts()
            return counts if all(counts[k] >= v for k, v in expected.items()) else None

        try:
            return wait_until(reached, timeout, f"outbox counts {expected}")
        except TimeoutError:
            raise TimeoutError(f"outbox counts {expected} not reached; now {self.counts()}") from None


def wait_state(db: store.Database, message_id: int, state: str, timeout: float = 30.0) -> dict[str, Any]:
    """Wait until an outbound message reaches a state; returns its row."""
    def reached() -> dict[str, Any] | None:
        row = q.get(db, message_id)
        return row if row and row["state"] == state else None

    return wait_until(reached, timeout, f"message {message_id} to become {state}")


def sim_net(**kwargs: Any) -> Network:
    return Network(**kwargs)


__all__ = ["FakeClock", "Gateway", "Network", "SimModem", "make_config", "wait_until", "wait_state", "sim_net"]
