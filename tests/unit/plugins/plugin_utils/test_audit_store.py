"""The shared audit store: the record summary (report v2) and the Git store's drills.

Real ``git`` against a local bare remote; each drill fails if the check it
proves is removed (chain, append-only history, anchors, re-chain on
non-fast-forward, records kept when the remote is unreachable).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.edgeops.gitops.plugins.plugin_utils import _audit

GIT_ENV = {"LANG": "C", "GIT_AUTHOR_NAME": "mallory", "GIT_AUTHOR_EMAIL": "m@example.com",
           "GIT_COMMITTER_NAME": "mallory", "GIT_COMMITTER_EMAIL": "m@example.com"}


def git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}, check=False)
    assert proc.returncode == 0, f"git {args}: {proc.stderr}"
    return proc.stdout


# -- the record ------------------------------------------------------------------
V2_REPORT: dict[str, Any] = {
    "schema": "edgeops.gitops/drift-report/v2",
    "mode": "check",
    "outcome": "drift",
    "exit_code": 2,
    "hosts": [
        {
            "name": "k8s-worker-0", "status": "drifted", "stats": {"ok": 9, "changed": 1},
            "concerns": [
                {"name": "sysctl_tuning", "status": "drifted", "reason": None, "tasks": [],
                 "items": [{"key": "net.core.somaxconn", "before": "128", "after": "4096",
                            "where": ["file", "runtime"]}]},
                {"name": "kubeadm", "status": "in_sync", "reason": None, "items": [], "tasks": []},
                {"name": "etcd_storage", "status": "unreachable", "reason": "ssh: timeout",
                 "items": [], "tasks": []},
            ],
        },
        {
            "name": "mysql-01", "status": "changed", "stats": {"ok": 5, "changed": 2},
            "concerns": [
                {"name": "mysql_host", "status": "changed", "reason": None, "tasks": [],
                 "items": [{"key": "innodb_buffer_pool_size", "before": "128M", "after": "12G",
                            "where": ["file"]},
                           {"key": "mysql-root-password", "before": "s3cret-old",
                            "after": "s3cret-new", "where": ["runtime"]}]},
            ],
        },
    ],
}


def test_summary_names_concerns_and_items_never_values() -> None:
    hosts = _audit.summarise_report(V2_REPORT)
    assert hosts == {
        "k8s-worker-0": {"status": "drifted", "stats": {"ok": 9, "changed": 1},
                         "drifted": {"sysctl_tuning": ["net.core.somaxconn"]},
                         "unreachable": {"etcd_storage": []}},
        "mysql-01": {"status": "changed", "stats": {"ok": 5, "changed": 2},
                     "changed": {"mysql_host": ["innodb_buffer_pool_size", "mysql-root-password"]}},
    }
    text = json.dumps(_audit.run_record(V2_REPORT, "drift", {"commit": "abc"}, {"check": True}))
    for value in ("4096", "12G", "s3cret", "ssh: timeout"):
        assert value not in text


def test_actor_names_ci_and_awx_users_and_job_urls() -> None:
    gitlab = _audit.actor({"GITLAB_USER_LOGIN": "alice", "CI_JOB_URL": "https://gl/ops/-/jobs/7",
                           "CI_JOB_TOKEN": "secret"})
    assert gitlab["ci_user"] == "alice" and gitlab["job_url"] == "https://gl/ops/-/jobs/7"
    assert "secret" not in json.dumps(gitlab)
    awx = _audit.actor({"AWX_HOST": "https://awx.example.com/", "JOB_ID": "42"},
                       {"awx_user_name": "bob", "awx_job_id": 42, "edgeops_db_password": "x"})
    assert awx["ci_user"] == "bob" and awx["job_url"] == "https://awx.example.com/#/jobs/playbook/42"
    assert "edgeops_db_password" not in json.dumps(awx)


# -- the Git store ---------------------------------------------------------------------
@pytest.fixture
def remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(_audit.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(_audit.HMAC_ENV, raising=False)
    bare = tmp_path / "audit.git"
    git("init", "-q", "--bare", str(bare))
    return bare


def store(remote: Path, name: str = "runner") -> _audit.GitStore:
    return _audit.GitStore(str(remote), workdir=remote.parent / name)


def fresh_verify(remote: Path, name: str) -> _audit.Verdict:
    """Verify from a clone that has never seen the remote (a new auditor)."""
    return store(remote, name).verify()


def append(s: _audit.GitStore, n: int, label: str = "r") -> list[dict[str, Any]]:
    out = []
    with s.locked():
        for i in range(n):
            out.append(s.append({"command": "apply", "hosts": {f"{label}{i}": {"status": "changed"}},
                                 "outcome": "changed"}))
    return out


def test_git_store_chain_history_and_anchors(remote: Path) -> None:
    append(store(remote), 3)
    v = fresh_verify(remote, "auditor")
    assert v.ok and v.records == 3 and not v.warnings, v
    tags = git("tag", "-l", cwd=remote).split()
    assert tags == [f"edgeops-audit/{i:08d}" for i in (1, 2, 3)]
    log = git("log", "--format=%s", "edgeops-audit", cwd=remote).splitlines()
    assert log == [f"audit: record {i}: apply changed" for i in (3, 2, 1)]


def attacker_clone(remote: Path) -> Path:
    work = remote.parent / "mallory"
    git("clone", "-q", "-b", "edgeops-audit", str(remote), str(work))
    return work


def _lines(work: Path) -> list[str]:
    return (work / "audit.jsonl").read_text().splitlines(keepends=True)


def _edit(ls: list[str]) -> list[str]:
    rec = json.loads(ls[2])
    rec["outcome"] = "in_sync"
    ls[2] = _audit.dumps(rec)
    return ls


def _edit_rehash(ls: list[str]) -> list[str]:
    rec = json.loads(ls[2])
    rec["outcome"] = "in_sync"
    ls[2] = _audit.dumps(_audit.seal(rec, None))
    return ls


def _delete(ls: list[str]) -> list[str]:
    del ls[2]
    return ls


def _insert(ls: list[str]) -> list[str]:
    forged = _audit.seal({"command": "apply", "seq": 3, "prev": json.loads(ls[1])["hash"]}, None)
    return [*ls[:2], _audit.dumps(forged), *ls[2:]]


def _reorder(ls: list[str]) -> list[str]:
    ls[2], ls[3] = ls[3], ls[2]
    return ls


def _truncate(ls: list[str]) -> list[str]:
    return ls[:3]


def _rechain(ls: list[str]) -> list[str]:
    """Drop record 3 and rebuild a fully consistent chain (no HMAC key): only history catches it."""
    recs = [json.loads(x) for x in ls]
    del recs[2]
    prev, out = _audit.GENESIS, []
    for seq, rec in enumerate(recs, start=1):
        rec.update(seq=seq, prev=prev)
        rec.pop("hash")
        prev = _audit.seal(rec, None)["hash"]
        out.append(_audit.dumps(rec))
    return out


# (tamper, first bad record, words of the problem)
PUSHED = [
    (_edit, 3, "does not match its hash"),
    (_edit_rehash, 4, "does not follow record 3"),
    (_delete, 3, "record 3 was deleted"),
    (_insert, 3, "appears again"),
    (_reorder, 3, "record 3 was deleted or moved"),
    (_truncate, 4, "removed or changed record 4"),
    (_rechain, 3, "removed or changed record 3"),
]


@pytest.mark.parametrize(("tamper", "bad", "words"), PUSHED, ids=[t[0].__name__ for t in PUSHED])
def test_drill_tampered_record_pushed_as_a_commit(remote: Path, tamper: Any, bad: int, words: str) -> None:
    append(store(remote), 5)
    work = attacker_clone(remote)
    (work / "audit.jsonl").write_text("".join(tamper(_lines(work))))
    git("commit", "-q", "-am", "tidy up", cwd=work)
    git("push", "-q", "origin", "edgeops-audit", cwd=work)
    v = fresh_verify(remote, "auditor")
    assert not v.ok and v.first_bad_seq == bad and words in (v.problem or ""), v


def _force_push(remote: Path, tamper: Any) -> None:
    """Rebuild the branch from scratch with the tampered file and force-push it."""
    work = attacker_clone(remote)
    content = "".join(tamper(_lines(work)))
    git("checkout", "-q", "--orphan", "rewritten", cwd=work)
    (work / "audit.jsonl").write_text(content)
    git("add", "audit.jsonl", cwd=work)
    git("commit", "-q", "-m", "audit: history", cwd=work)
    git("push", "-q", "--force", "origin", "rewritten:edgeops-audit", cwd=work)


@pytest.mark.parametrize(("tamper", "bad", "words"), [
    (_rechain, 3, "not the record its anchor"),
    (_truncate, 4, "records 4..5 are anchored but missing"),
    (lambda ls: ls, 1, "not the anchored one"),
], ids=["rewritten", "truncated", "same-records-new-history"])
def test_drill_force_pushed_branch(remote: Path, tamper: Any, bad: int, words: str) -> None:
    append(store(remote), 5)
    _force_push(remote, tamper)
    v = fresh_verify(remote, "auditor")
    assert not v.ok and v.first_bad_seq == bad and words in (v.problem or ""), v


def test_drill_force_push_and_deleted_anchors(remote: Path) -> None:
    append(store(remote), 5)
    assert store(remote, "auditor").verify().ok
    _force_push(remote, _truncate)
    for i in range(1, 6):
        git("tag", "-d", f"edgeops-audit/{i:08d}", cwd=remote)
    v = store(remote, "auditor").verify()  # a returning auditor remembers the anchors it saw
    assert not v.ok and v.first_bad_seq == 4 and "anchored but missing" in (v.problem or ""), v
    v = fresh_verify(remote, "newcomer")  # a new one finds records without anchors
    assert not v.ok and v.first_bad_seq == 1 and "no anchor tag" in (v.problem or ""), v


def test_drill_forged_anchor_needs_the_hmac_key(remote: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_audit.HMAC_ENV, "k" * 32)
    append(store(remote), 3)
    monkeypatch.delenv(_audit.HMAC_ENV)
    work = attacker_clone(remote)
    git("fetch", "-q", "origin", "+refs/tags/*:refs/tags/*", cwd=work)
    git("tag", "-f", "-a", "-m", '{"seq": 3, "hash": "0", "commit": "0"}', "edgeops-audit/00000003",
        cwd=work)
    git("push", "-q", "--force", "origin", "refs/tags/edgeops-audit/00000003", cwd=work)
    monkeypatch.setenv(_audit.HMAC_ENV, "k" * 32)
    v = fresh_verify(remote, "auditor")
    assert not v.ok and v.first_bad_seq == 3 and "HMAC" in (v.problem or ""), v


def _racer(remote: str, name: str, label: str, start: Any) -> None:
    s = _audit.GitStore(remote, workdir=Path(remote).parent / name)
    start.wait(30)
    append(s, 3, label)


def test_drill_two_clones_at_once_are_serialised(remote: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_racer, args=(str(remote), f"clone-{x}", x, start)) for x in "ab"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    v = fresh_verify(remote, "auditor")
    assert v.ok and v.records == 6, v
    recs = list(store(remote, "reader").records())
    assert sorted(next(iter(r["hosts"])) for r in recs) == ["a0", "a1", "a2", "b0", "b1", "b2"]
    assert [r["seq"] for r in recs] == [1, 2, 3, 4, 5, 6]


def test_drill_unreachable_remote_keeps_the_record_and_pushes_it_next_time(remote: Path) -> None:
    s = store(remote)
    append(s, 1)
    away = remote.with_name("away.git")
    remote.rename(away)
    with pytest.raises(_audit.AuditPushError, match=r"fetch failed"), s.locked():
        s.append({"command": "apply", "hosts": {}, "outcome": "changed", "note": "offline"})
    away.rename(remote)
    append(s, 1, "after")
    recs = list(store(remote, "reader").records())
    assert [r.get("note") for r in recs] == [None, "offline", None]
    v = fresh_verify(remote, "auditor")
    assert v.ok and v.records == 3, v


def test_pending_record_is_rechained_when_another_runner_pushed_meanwhile(remote: Path) -> None:
    a, b = store(remote, "a"), store(remote, "b")
    append(a, 1)
    away = remote.with_name("away.git")
    remote.rename(away)
    with pytest.raises(_audit.AuditPushError), a.locked():
        a.append({"command": "apply", "hosts": {}, "outcome": "changed", "note": "offline"})
    away.rename(remote)
    append(b, 1, "b")
    assert a.push() == 1
    recs = list(store(remote, "reader").records())
    assert [r["seq"] for r in recs] == [1, 2, 3] and recs[2].get("note") == "offline"
    assert fresh_verify(remote, "auditor").ok


def test_open_store_specs(tmp_path: Path) -> None:
    s = _audit.open_store("git+ssh://git@gitlab.example.com/ops/config.git#audit")
    assert isinstance(s, _audit.GitStore) and s.branch == "audit"
    assert isinstance(_audit.open_store(str(tmp_path / "a.jsonl")), _audit.LocalStore)
    with pytest.raises(_audit.AuditError, match="names no Git URL"):
        _audit.open_store("git+")


# -- the spool: a failed push outlives the runner (AWX: the job's disk goes away) -----------------
HMAC = "spool-test-hmac-key-0123456789abcdef"


@pytest.fixture
def spooled(remote: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    spool = remote.parent / "spool"
    spool.mkdir()
    monkeypatch.setenv(_audit.SPOOL_ENV, str(spool))
    monkeypatch.setenv(_audit.HMAC_ENV, HMAC)
    return spool


def job(remote: Path, name: str, note: str) -> dict[str, Any]:
    """One AWX-like job: a fresh clone that vanishes with the job, appending one record."""
    s = store(remote, f"job-{name}")
    with s.locked():
        return s.append({"command": "apply", "hosts": {}, "outcome": "changed", "note": note})


def spool_files(spool: Path) -> list[Path]:
    return sorted(spool.glob("*.json"))


def offline(remote: Path) -> Any:
    """The remote is unreachable while the context lasts."""
    import contextlib

    @contextlib.contextmanager
    def away() -> Iterator[None]:
        moved = remote.with_name("away.git")
        remote.rename(moved)
        try:
            yield
        finally:
            moved.rename(remote)
    return away()


def test_drill_failed_push_is_spooled_and_the_next_job_publishes_it(remote: Path, spooled: Path) -> None:
    job(remote, "1", "first")
    with offline(remote), pytest.raises(_audit.AuditPushError) as err:
        job(remote, "2", "offline")
    assert f"saved in the audit spool {spooled}" in err.value.message
    assert _audit.SPOOL_ENV in (err.value.hint or "")
    [entry] = spool_files(spooled)
    text = entry.read_text()
    assert '"note":"offline"' in text.replace(" ", "") and HMAC not in text and str(remote) not in text
    assert [r.get("note") for r in store(remote, "reader").records()] == ["first"]
    # a new job on another runner: fresh clone, same spool
    job(remote, "3", "third")
    assert spool_files(spooled) == []
    recs = list(store(remote, "reader-2").records())
    assert [(r["seq"], r["note"]) for r in recs] == [(1, "first"), (2, "offline"), (3, "third")]
    v = fresh_verify(remote, "auditor")
    assert v.ok and v.records == 3 and v.signed, v


def test_drill_record_published_but_spool_entry_left_behind_is_not_published_twice(
        remote: Path, spooled: Path) -> None:
    with offline(remote), pytest.raises(_audit.AuditPushError):
        job(remote, "1", "offline")
    [entry] = spool_files(spooled)
    saved = entry.read_bytes()
    job(remote, "2", "second")  # publishes the spooled record
    entry.write_bytes(saved)  # as if that job died between its push and removing the entry
    job(remote, "3", "third")
    assert spool_files(spooled) == []
    assert [r["note"] for r in store(remote, "reader").records()] == ["offline", "second", "third"]
    assert fresh_verify(remote, "auditor").ok


def _spool_racer(remote: str, name: str, start: Any) -> None:
    start.wait(30)
    job(Path(remote), name, name)


def test_drill_two_runners_publish_the_spool_at_once_without_duplicates(remote: Path, spooled: Path) -> None:
    for i in range(3):
        with offline(remote), pytest.raises(_audit.AuditPushError):
            job(remote, f"off-{i}", f"offline-{i}")
    assert len(spool_files(spooled)) == 3
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_spool_racer, args=(str(remote), f"runner-{x}", start)) for x in "ab"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    notes = [r["note"] for r in store(remote, "reader").records()]
    assert sorted(notes) == ["offline-0", "offline-1", "offline-2", "runner-a", "runner-b"], notes
    assert notes[:3] == ["offline-0", "offline-1", "offline-2"] or notes[1:4] == ["offline-0", "offline-1",
                                                                                  "offline-2"], notes
    assert spool_files(spooled) == []
    v = fresh_verify(remote, "auditor")
    assert v.ok and v.records == 5, v


def test_drill_edited_spool_entry_is_not_published_and_named(remote: Path, spooled: Path) -> None:
    with offline(remote), pytest.raises(_audit.AuditPushError):
        job(remote, "1", "offline")
    [entry] = spool_files(spooled)
    entry.write_text(entry.read_text().replace('"outcome": "changed"', '"outcome": "in_sync"'))
    with pytest.raises(_audit.AuditError, match=rf"{entry.name}: the record does not match its hash") as err:
        job(remote, "2", "second")
    assert not isinstance(err.value, _audit.AuditPushError)
    assert [r["note"] for r in store(remote, "reader").records()] == ["second"]  # this run's record is safe
    assert spool_files(spooled) == [entry]  # left for the auditor, untouched


def test_spool_entries_of_another_store_are_left_alone(remote: Path, spooled: Path) -> None:
    other = _audit.Spool(spooled, "another-store")
    foreign = {"schema": _audit.SCHEMA, "seq": 1, "time": _audit.utc_now(), "prev": _audit.GENESIS,
               "command": "drift"}
    other.put([_audit.seal(foreign, HMAC.encode())])
    job(remote, "1", "mine")
    assert len(spool_files(spooled)) == 1
    assert [r["note"] for r in store(remote, "reader").records()] == ["mine"]


def test_missing_spool_never_loses_the_record(remote: Path, spooled: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_audit.SPOOL_ENV, str(spooled / "not-mounted"))
    with pytest.raises(_audit.AuditError, match=r"1 record\(s\) pushed .* but the audit spool .*not-mounted"):
        job(remote, "1", "reachable")
    assert [r["note"] for r in store(remote, "reader").records()] == ["reachable"]
    with offline(remote), pytest.raises(_audit.AuditPushError, match=r"waits in .*job-2 \(the audit spool"):
        job(remote, "2", "offline")
