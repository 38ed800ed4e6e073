"""The anchors' signatures: real gpg and ssh-keygen, throwaway keys, a local bare remote.

The writer signs each anchor tag (``EDGEOPS_AUDIT_SIGN``); ``verify`` with trusted keys
(``EDGEOPS_AUDIT_TRUSTED_KEYS`` / ``--trusted-keys``) accepts only good signatures by those keys,
through a private GNUPGHOME.  The ambient GNUPGHOME here holds *both* the audit key and
mallory's (as a user's keyring might): a check that used it would accept mallory's tags.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.edgeops.gitops.plugins.plugin_utils import _audit

from edgeops.cli import main

ENV = {"LANG": "C", "GIT_AUTHOR_NAME": "mallory", "GIT_AUTHOR_EMAIL": "m@example.com",
       "GIT_COMMITTER_NAME": "mallory", "GIT_COMMITTER_EMAIL": "m@example.com"}


def sh(*cmd: str, cwd: Path | None = None, stdin: str | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, **ENV},
                          check=False, input=stdin, timeout=120)
    assert proc.returncode == 0, f"{cmd}: {proc.stderr}"
    return proc.stdout


@dataclass
class Keys:
    home: Path         # the "user's" GNUPGHOME: audit key and mallory's key
    audit: str         # fingerprint of the audit signing key
    mallory: str       # fingerprint of a key that is not trusted
    trusted: Path      # exported public audit key (armored)
    ssh_key: Path      # SSH private key that signs anchors
    ssh_mallory: Path  # an SSH key that is not trusted
    allowed: Path      # allowed-signers file with ssh_key only


def _fingerprint(home: Path, uid: str) -> str:
    out = sh("gpg", "--homedir", str(home), "--batch", "--with-colons", "--list-keys", uid)
    return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    base = tmp_path_factory.mktemp("keys")
    home = base / "gnupg"
    home.mkdir(mode=0o700)
    for uid in ("edgeops audit <audit@example.com>", "mallory <m@example.com>"):
        sh("gpg", "--homedir", str(home), "--batch", "--passphrase", "", "--quick-gen-key", uid,
           "ed25519", "sign", "never")
    trusted = base / "trusted.asc"
    trusted.write_text(sh("gpg", "--homedir", str(home), "--batch", "--armor", "--export",
                          "audit@example.com"))
    for name in ("ssh_audit", "ssh_mallory"):
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(base / name))
    pub = (base / "ssh_audit.pub").read_text().split()
    allowed = base / "allowed_signers"
    allowed.write_text(f"# the audit signer\naudit@edgeops {pub[0]} {pub[1]}\n")
    yield Keys(home, _fingerprint(home, "audit@example.com"), _fingerprint(home, "m@example.com"),
               trusted, base / "ssh_audit", base / "ssh_mallory", allowed)
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)


@pytest.fixture
def remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: Keys) -> Path:
    monkeypatch.setenv(_audit.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("GNUPGHOME", str(keys.home))
    for var in (_audit.HMAC_ENV, _audit.SIGN_ENV, _audit.TRUSTED_KEYS_ENV, _audit.SPOOL_ENV):
        monkeypatch.delenv(var, raising=False)
    bare = tmp_path / "audit.git"
    sh("git", "init", "-q", "--bare", str(bare))
    return bare


def append(remote: Path, n: int, sign: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if sign:
        monkeypatch.setenv(_audit.SIGN_ENV, sign)
    else:
        monkeypatch.delenv(_audit.SIGN_ENV, raising=False)
    s = _audit.GitStore(str(remote), workdir=remote.parent / "writer")
    with s.locked():
        for i in range(n):
            s.append({"command": "apply", "hosts": {f"h{i}": {"status": "changed"}}, "outcome": "changed"})
    monkeypatch.delenv(_audit.SIGN_ENV, raising=False)


def verify(remote: Path, trusted: Path | None, name: str = "auditor") -> _audit.Verdict:
    keys = _audit.TrustedKeys.load(trusted) if trusted else None
    return _audit.GitStore(str(remote), workdir=remote.parent / name).verify(None, keys)


def test_signed_chain_verifies_against_the_trusted_key(remote: Path, keys: Keys,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    append(remote, 3, keys.audit, monkeypatch)
    v = verify(remote, keys.trusted)
    assert v.ok and v.records == 3, v
    assert v.signatures and "1 trusted OpenPGP key" in v.signatures and str(keys.trusted) in v.signatures
    assert "BEGIN PGP SIGNATURE" in sh("git", "cat-file", "tag", "edgeops-audit/00000002", cwd=remote)


def test_without_trusted_keys_signatures_are_not_checked(remote: Path, keys: Keys,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    append(remote, 2, None, monkeypatch)
    v = verify(remote, None)
    assert v.ok and v.signatures is None and v.as_dict()["signatures_checked"] is False, v


ANCHOR_2 = "edgeops-audit/00000002"


def _recreate_anchor_2(remote: Path, key: str, who: str) -> None:
    """Push anchor 2 again: the same text, a new tag object signed by ``key``."""
    work = remote.parent / who
    sh("git", "clone", "-q", str(remote), str(work))
    body = sh("git", "for-each-ref", "--format=%(contents:body)", f"refs/tags/{ANCHOR_2}", cwd=work)
    sh("git", "tag", "-f", "-u", key, "-F", "-", ANCHOR_2, f"{ANCHOR_2}^{{}}",
       cwd=work, stdin=f"edgeops audit anchor 2\n\n{body.strip()}\n")
    sh("git", "push", "-q", "--force", "origin", f"refs/tags/{ANCHOR_2}", cwd=work)


def _mallory_recreates_anchor_2(remote: Path, keys: Keys) -> None:
    """Delete anchor 2 and push a tag with the same content, signed by mallory's key."""
    _recreate_anchor_2(remote, keys.mallory, "mallory")


def _mallory_alters_anchor_2(remote: Path, keys: Keys) -> None:
    """Keep anchor 2's signature, change its text: a bad signature."""
    raw = sh("git", "cat-file", "tag", "edgeops-audit/00000002", cwd=remote)
    forged = raw.replace("edgeops audit anchor 2", "edgeops audit anchor 2 (re-issued)")
    obj = sh("git", "hash-object", "-t", "tag", "-w", "--stdin", cwd=remote, stdin=forged).strip()
    sh("git", "update-ref", "refs/tags/edgeops-audit/00000002", obj, cwd=remote)


def _unsigned_record_4(remote: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    append(remote, 1, None, monkeypatch)


def _untrusted_record_4(remote: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    append(remote, 1, keys.mallory, monkeypatch)


# (tamper, first bad record, words of the problem)
TAMPER: list[tuple[Any, int, str]] = [
    (_unsigned_record_4, 4, "the anchor edgeops-audit/00000004 is not signed"),
    (_untrusted_record_4, 4, "is signed by a key that is not trusted (OpenPGP key"),
    (lambda r, k, m: _mallory_recreates_anchor_2(r, k), 2, "is signed by a key that is not trusted"),
    (lambda r, k, m: _mallory_alters_anchor_2(r, k), 2, "has a bad signature"),
]


@pytest.mark.parametrize(("tamper", "bad", "words"), TAMPER,
                         ids=["unsigned", "untrusted-key", "recreated-by-mallory", "altered"])
def test_drill_bad_anchor_signature_names_the_record(remote: Path, keys: Keys,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     tamper: Any, bad: int, words: str) -> None:
    append(remote, 3, keys.audit, monkeypatch)
    tamper(remote, keys, monkeypatch)
    assert verify(remote, None).ok  # chain, history and anchors' content are fine: only signatures tell
    v = verify(remote, keys.trusted, "fresh-auditor")
    assert not v.ok and v.first_bad_seq == bad and words in (v.problem or ""), v
    monkeypatch.setenv(_audit.TRUSTED_KEYS_ENV, str(keys.trusted))  # the same through the environment
    v = _audit.GitStore(str(remote), workdir=remote.parent / "env-auditor").verify()
    assert not v.ok and v.first_bad_seq == bad and words in (v.problem or ""), v


def test_drill_anchor_recreated_with_a_trusted_key_is_found_by_a_returning_verifier(
        remote: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    append(remote, 3, keys.audit, monkeypatch)
    assert verify(remote, keys.trusted, "auditor").ok
    _recreate_anchor_2(remote, keys.audit, "insider")  # a good signature by the trusted key
    assert verify(remote, keys.trusted, "newcomer").ok  # nothing a fresh verifier can tell
    v = verify(remote, keys.trusted, "auditor")
    assert not v.ok and v.first_bad_seq == 2 and f"anchor {ANCHOR_2} was re-created" in (v.problem or ""), v


def test_ssh_signed_anchors_and_allowed_signers(remote: Path, keys: Keys,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    append(remote, 2, f"ssh:{keys.ssh_key}", monkeypatch)
    v = verify(remote, keys.allowed)
    assert v.ok and v.signatures and "1 trusted SSH signer" in v.signatures, v
    append(remote, 1, f"ssh:{keys.ssh_mallory}", monkeypatch)
    v = verify(remote, keys.allowed, "auditor-2")
    assert not v.ok and v.first_bad_seq == 3 and "not trusted (SSH key SHA256:" in (v.problem or ""), v
    v = verify(remote, keys.trusted, "auditor-3")  # OpenPGP keys only: an SSH signature is not trusted
    assert not v.ok and v.first_bad_seq == 1, v


@pytest.mark.cli  # the edgeops command line: scripts/matrix.sh runs "not cli" (no rich there)
def test_verify_from_the_command_line(remote: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    append(remote, 2, keys.audit, monkeypatch)
    spec = f"git+{remote}#edgeops-audit"
    assert main(["audit", "verify", "--log", spec]) == 0
    assert "anchor signatures: NOT checked" in capsys.readouterr().out
    assert main(["audit", "verify", "--log", spec, "--trusted-keys", str(keys.trusted)]) == 0
    out = capsys.readouterr().out
    assert f"anchor signatures: checked against 1 trusted OpenPGP key in {keys.trusted}" in out
    append(remote, 1, None, monkeypatch)
    args = ["audit", "verify", "--log", spec, "--trusted-keys", str(keys.trusted), "--format", "json"]
    assert main(args) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["first_bad_seq"] == 3 and "not signed" in doc["problem"] and doc["signatures_checked"]
    assert main(["audit", "verify", "--log", str(remote.parent / "local.jsonl"),
                 "--trusted-keys", str(keys.trusted)]) == 1
    assert "local file store: it has no signed anchors" in capsys.readouterr().err


@pytest.mark.parametrize(("content", "words"), [
    (None, "cannot read the trusted keys file"),
    ("", "holds no key"),
    ("just some text\n", "neither OpenPGP public keys nor an SSH allowed-signers file (line 1"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n", "holds a private key"),
    ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 at all\n-----END PGP PUBLIC KEY BLOCK-----\n",
     "trusted keys file"),
], ids=["missing", "empty", "garbage", "private", "broken-armor"])
def test_bad_trusted_keys_file_is_a_clear_error(tmp_path: Path, content: str | None, words: str) -> None:
    path = tmp_path / "trusted"
    if content is not None:
        path.write_text(content)
    with pytest.raises(_audit.AuditError, match="trusted keys file") as err:
        _audit.TrustedKeys.load(path)
    assert words in err.value.message and str(path) in err.value.message and err.value.hint


@pytest.mark.parametrize(("value", "options", "tag"), [
    (None, ["-c", "tag.gpgsign=false"], ["-a"]),
    ("off", ["-c", "tag.gpgsign=false"], ["-a"]),
    ("1", [], ["-s"]),
    ("ABCDEF0123456789", ["-c", "gpg.format=openpgp"], ["-u", "ABCDEF0123456789"]),
])
def test_signing_options(value: str | None, options: list[str], tag: list[str]) -> None:
    assert _audit.signing_options(value) == (options, tag)


def test_signing_with_a_missing_ssh_key_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(_audit.AuditError, match="no SSH private key file"):
        _audit.signing_options(f"ssh:{tmp_path / 'nope'}")
