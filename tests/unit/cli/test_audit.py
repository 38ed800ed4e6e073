"""The audit log: chain, head marker, HMAC, lock, every tampering case."""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest

from edgeops.audit import GENESIS, HMAC_ENV, AuditLog, canonical, parse_time, seal, select, verify
from edgeops.cli import main


def make_log(tmp_path: Path, n: int = 5) -> AuditLog:
    log = AuditLog(tmp_path / "audit.jsonl")
    with log.locked():
        for i in range(n):
            log.append({"command": "drift", "hosts": {f"host-{i}": {"status": "in_sync"}},
                        "outcome": "in_sync"})
    return log


def lines(log: AuditLog) -> list[str]:
    return log.path.read_text(encoding="utf-8").splitlines(keepends=True)


def write(log: AuditLog, content: list[str]) -> None:
    log.path.write_text("".join(content), encoding="utf-8")


def test_chain_is_valid_and_fields(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    recs = list(log.records())
    assert [r["seq"] for r in recs] == [1, 2, 3, 4, 5]
    assert recs[0]["prev"] == GENESIS
    for a, b in itertools.pairwise(recs):
        assert b["prev"] == a["hash"]
    for r in recs:
        assert r["hash"] == hashlib.sha256(canonical(r)).hexdigest()
        assert r["time"].endswith("Z")
    v = verify(log)
    assert v.ok and v.records == 5 and v.first_bad_seq is None and not v.warnings
    assert json.loads(log.head_path.read_text())["seq"] == 5


def _edit(ls: list[str]) -> list[str]:
    rec = json.loads(ls[2])
    rec["outcome"] = "drift"  # value changed, hash left as is
    ls[2] = json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n"
    return ls


def _edit_and_rehash(ls: list[str]) -> list[str]:
    rec = json.loads(ls[2])
    rec["outcome"] = "drift"
    seal(rec, None)  # attacker recomputes this record's hash; record 4 still points at the old one
    ls[2] = json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n"
    return ls


def _delete(ls: list[str]) -> list[str]:
    del ls[2]
    return ls


def _insert(ls: list[str]) -> list[str]:
    forged: dict[str, Any] = {"command": "apply", "seq": 3, "prev": json.loads(ls[1])["hash"], "time": "x"}
    seal(forged, None)
    ls.insert(2, json.dumps(forged, sort_keys=True) + "\n")
    return ls


def _reorder(ls: list[str]) -> list[str]:
    ls[2], ls[3] = ls[3], ls[2]
    return ls


def _truncate_records(ls: list[str]) -> list[str]:
    return ls[:3]


def _truncate_bytes(ls: list[str]) -> list[str]:
    ls[-1] = ls[-1][:40]
    return ls


def _garbage(ls: list[str]) -> list[str]:
    ls[1] = "{not json\n"
    return ls


# (name, tamper, first bad seq, words in the problem)
TAMPERING = [
    ("edited", _edit, 3, "edited"),
    ("edited and re-hashed", _edit_and_rehash, 4, "does not follow"),
    ("deleted", _delete, 3, "deleted"),
    ("inserted", _insert, 3, "inserted"),
    ("reordered", _reorder, 3, "moved"),
    ("truncated records", _truncate_records, 4, "truncated"),
    ("truncated mid-line", _truncate_bytes, 5, "cut short"),
    ("garbage line", _garbage, 2, "not a valid record"),
]


@pytest.mark.parametrize(("name", "tamper", "bad_seq", "words"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_tampering_is_found_with_first_bad_seq(tmp_path: Path, name: str, tamper: Any, bad_seq: int,
                                               words: str, capsys: pytest.CaptureFixture[str]) -> None:
    log = make_log(tmp_path)
    write(log, tamper(lines(log)))
    v = verify(log)
    assert not v.ok
    assert v.first_bad_seq == bad_seq, v.problem
    assert words in (v.problem or "")
    # and the command says so, with a non-zero exit
    assert main(["audit", "verify", "--log", str(log.path)]) == 1
    assert f"seq {bad_seq}" in capsys.readouterr().out


def test_deleting_the_whole_log_is_found(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    log.path.unlink()
    assert verify(log).first_bad_seq == 1


def test_hmac_signs_and_detects_full_rewrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HMAC_ENV, "k3y-for-tests")
    log = make_log(tmp_path, 3)
    assert all("hmac" in r for r in log.records())
    assert verify(log).ok and verify(log).signed
    # Rewrite the chain consistently without the key: hashes and head all recomputed.
    ls = lines(log)
    prev = GENESIS
    out = []
    for line in ls:
        rec = json.loads(line)
        rec.pop("hmac")
        rec["prev"] = prev
        if rec["seq"] == 2:
            rec["outcome"] = "drift"
        seal(rec, None)
        prev = rec["hash"]
        out.append(json.dumps(rec, sort_keys=True) + "\n")
    write(log, out)
    log.head_path.write_text(json.dumps({"seq": 3, "hash": prev}))
    monkeypatch.delenv(HMAC_ENV)
    assert verify(log).ok  # without the key the rewrite is undetectable...
    v = verify(log, key=b"k3y-for-tests")  # ...with it, it is
    assert not v.ok and v.first_bad_seq == 1 and "HMAC" in (v.problem or "")


def test_wrong_key_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HMAC_ENV, "right")
    log = make_log(tmp_path, 2)
    assert not verify(log, key=b"wrong").ok


def _hold_lock(path: str, seconds: float, started: Any) -> None:
    log = AuditLog(Path(path))
    with log.locked():
        started.set()
        time.sleep(seconds)
        log.append({"command": "apply", "outcome": "in_sync"})


def test_lock_serialises_writers(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    started = multiprocessing.Event()
    proc = multiprocessing.Process(target=_hold_lock, args=(str(path), 1.0, started))
    proc.start()
    assert started.wait(10)
    waited: list[str] = []
    t0 = time.monotonic()
    log = AuditLog(path)
    with log.locked(wait_message=waited.append):
        assert time.monotonic() - t0 >= 0.5
        log.append({"command": "drift", "outcome": "in_sync"})
    proc.join(10)
    assert waited and waited[0].isdigit()  # told whom it waited for (pid)
    assert [r["command"] for r in log.records()] == ["apply", "drift"]
    assert verify(log).ok


def test_lock_timeout_is_a_clear_error(tmp_path: Path) -> None:
    from edgeops.audit import AuditError

    path = tmp_path / "audit.jsonl"
    started = multiprocessing.Event()
    proc = multiprocessing.Process(target=_hold_lock, args=(str(path), 2.0, started))
    proc.start()
    assert started.wait(10)
    with pytest.raises(AuditError, match="holds the audit lock"), AuditLog(path).locked(timeout=0.3):
        pass
    proc.join(10)


def test_show_filters_and_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = make_log(tmp_path, 4)
    assert [r["seq"] for r in select(log.records(), host="host-2")] == [3]
    assert select(log.records(), since=parse_time("2999-01-01")) == []
    assert main(["audit", "show", "--log", str(log.path), "--format", "json", "--host", "host-1"]) == 0
    assert [r["seq"] for r in json.loads(capsys.readouterr().out)] == [2]
    out = tmp_path / "export.json"
    assert main(["audit", "export", "--log", str(log.path), "--since", "1d", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["verification"]["ok"] is True and len(doc["records"]) == 4


def test_bad_time_is_a_usage_style_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = make_log(tmp_path, 1)
    assert main(["audit", "show", "--log", str(log.path), "--since", "yesterday-ish"]) == 1
    assert "Hint:" in capsys.readouterr().err


def test_verify_git_store_names_the_first_bad_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess

    from edgeops.audit import open_store

    monkeypatch.setenv("EDGEOPS_AUDIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(HMAC_ENV, raising=False)
    remote = tmp_path / "audit.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    spec = f"git+{remote}#edgeops-audit"
    store = open_store(spec)
    with store.locked():
        for i in range(4):
            store.append({"command": "apply", "hosts": {f"h{i}": {}}, "outcome": "changed"})
    assert main(["audit", "verify", "--log", spec]) == 0
    assert "OK: 4 records, hash chain, append-only history and anchors intact" in capsys.readouterr().out
    work = tmp_path / "work"
    env = {"GIT_AUTHOR_NAME": "m", "GIT_AUTHOR_EMAIL": "m@x", "GIT_COMMITTER_NAME": "m",
           "GIT_COMMITTER_EMAIL": "m@x", "PATH": os.environ["PATH"]}
    subprocess.run(["git", "clone", "-q", "-b", "edgeops-audit", str(remote), str(work)], check=True, env=env)
    ls = (work / "audit.jsonl").read_text().splitlines(keepends=True)
    (work / "audit.jsonl").write_text("".join(_edit(ls)))
    subprocess.run(["git", "-C", str(work), "commit", "-qam", "x"], check=True, env=env)
    subprocess.run(["git", "-C", str(work), "push", "-q"], check=True, env=env)
    monkeypatch.setenv("EDGEOPS_AUDIT_CACHE", str(tmp_path / "fresh"))
    assert main(["audit", "verify", "--log", spec]) == 1
    assert "TAMPERED: first bad record is seq 3: record 3 does not match its hash" in capsys.readouterr().out
