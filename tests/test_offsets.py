from jarvis.worker.offsets import OffsetTracker


def test_commit_point_only_moves_over_contiguous_finished_offsets() -> None:
    t = OffsetTracker()
    for o in (5, 6, 7, 8):
        t.take("c", 0, o)
    assert t.commit_points() == {}
    t.finish("c", 0, 6)
    t.finish("c", 0, 7)
    assert t.commit_points() == {}  # 5 still running
    t.finish("c", 0, 5)
    assert t.commit_points() == {("c", 0): 8}
    t.committed("c", 0, 8)
    assert t.commit_points() == {}
    assert t.in_flight() == 1
    t.finish("c", 0, 8)
    assert t.commit_points() == {("c", 0): 9}


def test_partitions_are_independent_and_forgettable() -> None:
    t = OffsetTracker()
    t.take("c", 0, 1)
    t.take("c", 1, 10)
    t.finish("c", 1, 10)
    assert t.commit_points() == {("c", 1): 11}
    t.forget("c", 0)
    assert t.in_flight() == 0
