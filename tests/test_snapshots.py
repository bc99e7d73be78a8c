"""SnapshotCache: ended runs' encoded snapshots, least recently used dropped past a byte bound."""

from server.snapshots import SnapshotCache


def test_least_recently_used_runs_go_first_once_past_the_byte_bound() -> None:
    cache = SnapshotCache(max_bytes=10)
    cache.put("a", "aaaa")
    cache.put("b", "bbbb")
    assert cache.get("a") == "aaaa"  # now b is the least recently used
    cache.put("c", "cccc")
    assert cache.get("b") is None and cache.get("a") == "aaaa" and cache.get("c") == "cccc"
    assert cache.stats() == {"runs": 2, "bytes": 8, "hits": 3, "misses": 1}


def test_a_snapshot_larger_than_the_bound_is_not_kept_and_drop_forgets() -> None:
    cache = SnapshotCache(max_bytes=4)
    cache.put("big", "x" * 5)
    assert cache.get("big", count=False) is None
    cache.put("a", "aa")
    cache.put("a", "aaa")  # replaced, not counted twice
    assert cache.stats()["bytes"] == 3
    cache.drop("a")
    assert cache.stats() == {"runs": 0, "bytes": 0, "hits": 0, "misses": 0}


def test_a_zero_bound_keeps_nothing() -> None:
    cache = SnapshotCache(max_bytes=0)
    cache.put("a", "a")
    assert cache.get("a", count=False) is None
