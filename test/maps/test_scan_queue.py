"""ScanQueue: scans held for the pose after them, released in stamp order."""

from __future__ import annotations

from multifloor_slam.maps.scan_queue import ScanQueue


def test_items_are_released_up_to_a_stamp_in_stamp_order() -> None:
    q: ScanQueue[str] = ScanQueue()
    for t, name in ((0.3, 'c'), (0.1, 'a'), (0.2, 'b1'), (0.5, 'e'), (0.2, 'b2')):
        q.push(t, name)
    assert len(q) == 5 and q
    assert q.pop_until(0.05) == []
    assert q.pop_until(0.3) == [(0.1, 'a'), (0.2, 'b1'), (0.2, 'b2'), (0.3, 'c')]  # ties: arrival
    assert len(q) == 1
    assert q.pop_until(float('inf')) == [(0.5, 'e')]
    assert not q


def test_a_full_queue_says_so() -> None:
    q: ScanQueue[int] = ScanQueue(max_len=3)
    for k in range(3):
        assert not q.full
        q.push(float(k), k)
    assert q.full
    q.pop_until(0.0)
    assert not q.full
