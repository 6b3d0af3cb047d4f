"""The collector setting bulk work runs under (claudelens_nb.bulk)."""

from __future__ import annotations

import gc
import threading

import pytest

from claudelens_nb.bulk import BULK_THRESHOLD, fewer_collections


@pytest.fixture
def thresholds():
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_raised_inside_and_restored_after(thresholds):
    with fewer_collections():
        assert gc.get_threshold() == (BULK_THRESHOLD, 10, 10)
        assert gc.isenabled()
    assert gc.get_threshold() == (700, 10, 10)


def test_restored_after_an_error(thresholds):
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("boom")
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_uses_restore_when_the_last_leaves(thresholds):
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with fewer_collections():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other)
    t.start()
    assert inside.wait(5)
    with fewer_collections():
        assert gc.get_threshold()[0] == BULK_THRESHOLD
    assert gc.get_threshold()[0] == BULK_THRESHOLD  # the other thread is still inside
    release.set()
    t.join()
    assert gc.get_threshold() == (700, 10, 10)


def test_export_runs_under_it_and_restores(thresholds, seeded_db, tmp_path, monkeypatch):
    from claudelens_nb.exports import engine, export

    seen = []
    real = engine._Run.go

    def spy(self):
        seen.append(gc.get_threshold())
        return real(self)

    monkeypatch.setattr(engine._Run, "go", spy)
    export(None, "jsonl", tmp_path / "out.jsonl", db=seeded_db)
    assert seen == [(BULK_THRESHOLD, 10, 10)]
    assert gc.get_threshold() == (700, 10, 10)
