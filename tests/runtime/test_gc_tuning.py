"""GcTuner: what survives a full collection is frozen (the next one walks only what came
since); the frozen heap goes back to the collector after `refreeze_s`, so cycles that die
later are reclaimed; uninstall gives the process its defaults back."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from lianluo.runtime.gc_tuning import YOUNG_THRESHOLD, GcTuner


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def tuner() -> Iterator[tuple[GcTuner, Clock]]:
    before = gc.get_threshold()
    clock = Clock()
    tuner = GcTuner(refreeze_s=60.0, clock=clock)
    tuner.install()
    try:
        yield tuner, clock
    finally:
        tuner.uninstall()
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0


def test_start_up_is_frozen_and_young_collections_are_rarer(
    tuner: tuple[GcTuner, Clock],
) -> None:
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD


def test_survivors_of_a_full_collection_are_frozen(tuner: tuple[GcTuner, Clock]) -> None:
    t, _ = tuner
    frozen = gc.get_freeze_count()
    kept = [Cycle() for _ in range(1000)]
    gc.collect()
    assert t.full_collections == 1
    assert gc.get_freeze_count() >= frozen + len(kept)
    collectable = {id(o) for o in gc.get_objects(generation=2)}
    assert id(kept[0]) not in collectable


def test_frozen_heap_goes_back_after_the_period_and_dead_cycles_are_reclaimed(
    tuner: tuple[GcTuner, Clock],
) -> None:
    _, clock = tuner
    doomed = [Cycle() for _ in range(1000)]
    gc.collect()  # survivors frozen, the cycles with them
    del doomed  # unreachable now, but frozen: no collection sees them
    assert gc.collect() < 1000
    clock.now += 61.0
    gc.collect()  # past the period: everything back to the collector
    assert gc.get_freeze_count() == 0
    assert gc.collect() >= 1000  # the dead cycles are reclaimed now
    assert gc.get_freeze_count() > 0  # and the survivors frozen again
