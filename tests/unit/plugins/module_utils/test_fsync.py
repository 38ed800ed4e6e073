"""Tests for module_utils._fsync (real writes and fdatasyncs in a temp dir)."""

from __future__ import annotations

import errno
import os
import signal

import pytest
from ansible_collections.edgeops.gitops.plugins.module_utils import _fsync
from ansible_collections.edgeops.gitops.plugins.module_utils._fsync import (
    FsyncError,
    measure,
    percentile,
    summarize,
)


def test_percentile_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7], 99) == 7
    assert percentile([1, 2, 3], 0) == 1
    with pytest.raises(FsyncError):
        percentile([], 50)


def test_summarize_in_milliseconds():
    figures = summarize([1_000_000] * 98 + [5_000_000, 20_000_000], 1.23456)
    assert figures == {"samples": 100, "p50_ms": 1.0, "p90_ms": 1.0, "p99_ms": 5.0,
                       "max_ms": 20.0, "duration_s": 1.235}


def test_measure_real_directory_leaves_nothing(tmp_path):
    figures = measure(str(tmp_path), "64k", 2300)
    assert figures["samples"] == 64 * 1024 // 2300
    assert 0 < figures["p50_ms"] <= figures["p90_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    assert figures["duration_s"] > 0
    assert list(tmp_path.iterdir()) == []


def test_measure_without_preallocation(tmp_path):
    assert measure(str(tmp_path), 4600, 2300, preallocate=False)["samples"] == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("size", "block", "message"), [
    ("1k", "2k", "block size 2048 is larger than size 1024"),
    ("1k", 0, "greater than 0"),
    ("lots", 2300, "is not a size"),
])
def test_bad_input_writes_nothing(tmp_path, size, block, message):
    with pytest.raises(FsyncError, match=message):
        measure(str(tmp_path), size, block)
    assert list(tmp_path.iterdir()) == []


def test_not_a_directory(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(FsyncError, match="not a directory"):
        measure(str(target), "4k")
    with pytest.raises(FsyncError, match="not a directory"):
        measure(str(tmp_path / "missing"), "4k")


def _failing_sync(exc):
    calls = {"n": 0}
    real = os.fdatasync

    def sync(fd):
        calls["n"] += 1
        if calls["n"] == 3:
            raise exc
        real(fd)

    return sync


def test_io_error_removes_temp_file(tmp_path, monkeypatch):
    monkeypatch.setattr(_fsync.os, "fdatasync", _failing_sync(OSError(errno.EIO, "Input/output error")))
    with pytest.raises(FsyncError, match=r"measure failed for .*: Input/output error"):
        measure(str(tmp_path), "64k")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_removes_temp_file(tmp_path, monkeypatch):
    monkeypatch.setattr(_fsync.os, "fdatasync", _failing_sync(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        measure(str(tmp_path), "64k")
    assert list(tmp_path.iterdir()) == []


def _signal_during_sync(signum):
    """An fdatasync that, on its 3rd call, delivers ``signum`` to this process -- synchronously.

    ``signal.raise_signal`` runs the Python handler before it returns, so the signal arrives in
    the middle of the measurement every time, however loaded the machine is.  When measure()
    has not installed its handler the signal is not sent at all (the default action would kill
    pytest): the test fails on the assertion instead.
    """
    calls = {"n": 0}
    real = os.fdatasync

    def sync(fd):
        calls["n"] += 1
        if calls["n"] == 3:
            if signal.getsignal(signum) is not _fsync._raise_interrupted:
                raise AssertionError(f"measure() runs without its handler for signal {signum}")
            signal.raise_signal(signum)
        real(fd)

    return sync, calls


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_signal_removes_temp_file_and_restores_handler(tmp_path, monkeypatch, signum):
    before = signal.getsignal(signum)
    sync, calls = _signal_during_sync(signum)
    monkeypatch.setattr(_fsync.os, "fdatasync", sync)
    with pytest.raises(BaseException, match=f"interrupted by signal {int(signum)}"):
        measure(str(tmp_path), "64k", 2300)
    assert calls["n"] == 3, "the measurement went on after the signal"
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signum) is before
