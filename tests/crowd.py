"""Other training runs in threads, for tests of determinism under load."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from vangrad_core import ExperimentConfig, Trainer


@contextlib.contextmanager
def others_training(configs: list[ExperimentConfig], each_step: Callable[[Trainer], None]) -> Iterator[None]:
    """While the block runs, one thread per config trains it, calling each_step(trainer)
    in a loop; they stop and are joined when the block ends."""
    stop = threading.Event()

    def train(config: ExperimentConfig) -> None:
        other = Trainer(config)
        while not stop.is_set() and not other.done:
            each_step(other)

    threads = [threading.Thread(target=train, args=(config,)) for config in configs]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join()
