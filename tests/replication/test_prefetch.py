"""The read-ahead thread: same items in order, errors at the same point, bounded, stops with its consumer."""

from __future__ import annotations

import threading
import time

import pytest

from dersonlake.replication.prefetch import prefetch


def test_items_arrive_in_order():
    assert list(prefetch(iter(range(1000)), depth=2)) == list(range(1000))


def test_producer_error_reaches_the_consumer_after_the_items_before_it():
    def source():
        yield 1
        yield 2
        raise RuntimeError("connection lost")

    got = []
    with pytest.raises(RuntimeError, match="connection lost"):
        for item in prefetch(source()):
            got.append(item)
    assert got == [1, 2]


def test_reads_at_most_depth_ahead_and_stops_when_the_consumer_stops():
    produced = []
    finished = threading.Event()

    def source():
        try:
            for i in range(100):
                produced.append(i)
                yield i
        finally:
            finished.set()

    items = prefetch(source(), depth=2)
    assert next(items) == 0
    time.sleep(0.2)
    assert len(produced) <= 4  # the item handed over, up to 2 queued, 1 waiting to be queued
    items.close()  # the consumer stops early (an error, a task stop)
    assert finished.wait(2), "the producer kept running"
