from jarvis.worker.deletion_cost import DeletionCost, cost


def test_cost_grows_with_load_and_is_zero_when_idle() -> None:
    assert cost(0, 4) == 0
    assert 0 < cost(1, 4) < cost(2, 4) < cost(4, 4)


def test_patches_are_rate_limited_and_only_on_change() -> None:
    now = [0.0]
    patches: list[int] = []
    dc = DeletionCost(patches.append, min_interval_s=5.0, clock=lambda: now[0])
    dc.load(1, 4)
    dc.load(2, 4)  # within 5 s: held back
    dc.load(2, 4)
    assert patches == [cost(1, 4)]
    now[0] = 6.0
    dc.load(2, 4)
    assert patches == [cost(1, 4), cost(2, 4)]
    now[0] = 20.0
    dc.load(2, 4)  # unchanged: no patch
    assert len(patches) == 2


def test_api_failure_is_not_fatal() -> None:
    def boom(_: int) -> None:
        raise RuntimeError("forbidden")

    dc = DeletionCost(boom, clock=lambda: 0.0)
    dc.load(3, 4)  # logs, does not raise
    assert dc.current is None
