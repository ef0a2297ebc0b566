"""Read ahead of the writer: an iterator consumed on a background thread through a bounded queue.

connectorx (reading) and pyarrow's Parquet writer both release the GIL, so reading chunk n+1 while
chunk n is written overlaps the two on separate cores; the queue bound (``depth`` batches) keeps
memory bounded. An exception in the producer reaches the consumer at the same point in the
stream; a consumer that stops early (error, task stop) stops the producer too.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(source: Iterable[T], depth: int = 2) -> Iterator[T]:
    items: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in source:
                while not stop.is_set():
                    try:
                        items.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            items.put(_Failure(exc))

    worker = threading.Thread(target=produce, name="prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue, then let it end
            try:
                items.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)
