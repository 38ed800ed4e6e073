"""Tests for the edgeops.gitops.fsync_latency module, driven through AnsibleModule."""

from __future__ import annotations

import json

import pytest
from ansible_collections.edgeops.gitops.plugins.modules import fsync_latency


def run(module_args, capsys, **args):
    args.setdefault("_ansible_check_mode", False)
    module_args(args)
    with pytest.raises(SystemExit) as exc:
        fsync_latency.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_measures_and_leaves_nothing(tmp_path, module_args, capsys):
    rc, result = run(module_args, capsys, path=str(tmp_path), size="128k")
    assert rc == 0
    assert result["changed"] is False
    assert result["samples"] == 128 * 1024 // 2300
    assert result["size"] == result["samples"] * 2300
    assert result["block_size"] == 2300
    assert result["max_p99_ms"] is None
    for key in ("p50_ms", "p90_ms", "p99_ms", "max_ms", "duration_s"):
        assert result[key] > 0
    assert list(tmp_path.iterdir()) == []


def test_check_mode_measures_too(tmp_path, module_args, capsys):
    rc, result = run(module_args, capsys, path=str(tmp_path), size="16k", block_size="4k",
                     _ansible_check_mode=True)
    assert rc == 0
    assert result["samples"] == 4
    assert result["changed"] is False
    assert list(tmp_path.iterdir()) == []


def test_threshold_met(tmp_path, module_args, capsys):
    rc, result = run(module_args, capsys, path=str(tmp_path), size="16k", max_p99_ms=60000)
    assert rc == 0
    assert result["max_p99_ms"] == 60000


def test_threshold_exceeded_reports_both_figures(tmp_path, module_args, capsys):
    rc, result = run(module_args, capsys, path=str(tmp_path), size="16k", max_p99_ms=0.000001)
    assert rc == 1
    assert result["failed"] is True
    assert f"is {result['p99_ms']} ms, above the threshold of 1e-06 ms" in result["msg"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("args", "message"), [
    ({"max_p99_ms": 0}, "max_p99_ms must be greater than 0, got 0.0"),
    ({"max_p99_ms": -3}, "max_p99_ms must be greater than 0, got -3.0"),
    ({"size": "big"}, "size 'big' (str) is not a size"),
    ({"size": "1k", "block_size": "2k"}, "block size 2048 is larger than size 1024"),
    ({"path": "/nonexistent/dir"}, "fsync_latency failed for /nonexistent/dir: measure failed for "
                                   "/nonexistent/dir: not a directory"),
])
def test_bad_input_fails_clearly(tmp_path, module_args, capsys, args, message):
    args.setdefault("path", str(tmp_path))
    rc, result = run(module_args, capsys, **args)
    assert rc == 1
    assert message in result["msg"]
    assert list(tmp_path.iterdir()) == []
