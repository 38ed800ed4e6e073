"""The one module that imports :mod:`ansible_runner`.

It starts ``ansible-playbook`` through the ansible-runner Python API and hands
every event to a callback as it arrives; nothing is parsed from stdout and no
event is kept (the callback folds them into a report), so memory stays flat in
the number of events.

The report is not built here: the run enables the collection's
``edgeops.gitops.drift`` callback (``config.report_file`` is where it writes
the JSON), which sees the real task results; events only drive progress.

Disk hygiene: the private data directory is a fresh temporary directory that
is deleted afterwards (nothing of ours is ever written to ``env/``: no
extravars, passwords or SSH keys); events are not written to ``job_events/``;
the ``command`` artifact, which ansible-runner writes with the complete
process environment (tokens, passwords, HMAC keys...), is rewritten without
it; and ``stdout``/``stderr``, which hold every ``--diff`` (file contents,
values), are removed unless ``config.keep_artifacts``.  Artifacts directories
are rotated (``rotate_artifacts``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shlex
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ansible_runner  # type: ignore[import-untyped]

from edgeops.config import RunConfig, fact_cache_timeout, state_home
from edgeops.errors import EdgeopsError
from edgeops.strategy import strategy_env

EventHandler = Callable[[dict[str, Any]], None]

#: The callback that builds the report (plugins/callback/drift.py).
REPORT_CALLBACK = "edgeops.gitops.drift"


@dataclass(frozen=True)
class RunResult:
    """How ``ansible-playbook`` ended."""

    status: str  # successful / failed / canceled / timeout
    rc: int
    artifact_dir: Path

    @property
    def cancelled(self) -> bool:
        """True when the run was stopped by the cancel callback (Ctrl-C, SIGTERM)."""
        return self.status == "canceled"


def _cmdline(config: RunConfig) -> str:
    args: list[str] = []
    if config.check:
        args.append("--check")
    if config.diff:
        args.append("--diff")
    return shlex.join(args)


def new_ident(command: str) -> str:
    """Artifacts directory name for a run: sortable UTC time, command, pid."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{command}-{os.getpid()}"


def scrub_artifacts(artifact_dir: Path, keep_output: bool = False) -> None:
    """Remove what ansible-runner leaves on disk that may hold secrets.

    ``command`` holds the full environment; ``fact_cache`` holds every host's
    facts; ``job_events`` is empty (events are not written) but removed too;
    ``stdout``/``stderr`` hold the playbook's output with every diff (kept
    only with ``keep_output``).
    """
    command = artifact_dir / "command"
    if command.exists():
        try:
            data = json.loads(command.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        data["env"] = "(removed by edgeops: the environment may hold credentials)"
        command.write_text(json.dumps(data), encoding="utf-8")
    for sub in ("fact_cache", "job_events"):
        shutil.rmtree(artifact_dir / sub, ignore_errors=True)
    names = ["env.list"] + ([] if keep_output else ["stdout", "stderr"])
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            (artifact_dir / name).unlink()


def report_env(config: RunConfig) -> dict[str, str]:
    """Environment that enables the report callback for this run (and keeps what is enabled)."""
    if config.report_file is None:
        return {}
    enabled = [c.strip() for c in os.environ.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if c.strip()]
    if REPORT_CALLBACK not in enabled:
        enabled.append(REPORT_CALLBACK)
    return {
        "ANSIBLE_CALLBACKS_ENABLED": ",".join(enabled),
        "EDGEOPS_DRIFT_REPORT": str(config.report_file),
        "EDGEOPS_DRIFT_SUMMARY": "false",  # the CLI prints the report itself
    }


def _playbook_children() -> list[int]:
    """PIDs of ansible-playbook processes that are children of this process."""
    me = os.getpid()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == me and b"ansible-playbook" in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


class _GracefulCancel:
    """Cancel callback that lets ansible-playbook stop its workers first.

    ansible-runner cancels by SIGKILL to the process group, but Ansible's
    workers run in sessions of their own and would finish their task
    orphaned.  On the first request we send SIGINT to ansible-playbook, which
    stops its workers and exits; only if it is still there after ``grace``
    seconds does ansible-runner get to kill it.
    """

    def __init__(self, cancel: Callable[[], bool], grace: float = 15.0) -> None:
        self._cancel = cancel
        self._grace = grace
        self._since: float | None = None

    def __call__(self) -> bool:
        if not self._cancel():
            return False
        if self._since is None:
            self._since = time.monotonic()
            for pid in _playbook_children():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGINT)
            return False
        return time.monotonic() - self._since > self._grace


def fact_cache_env(config: RunConfig) -> dict[str, str]:
    """Environment for the facts cache of this inventory: a drift check reuses recent facts.

    The plays gather a few fact subsets once per host (the private address for kubeadm, memory and
    vCPUs for MySQL).  ``edgeops drift`` reads them from a JSON cache written by an earlier run of
    the same inventory when it is younger than :func:`~edgeops.config.fact_cache_timeout`
    (``gathering = smart``), so a check costs one module call per concern and no fact gathering;
    ``edgeops apply`` always gathers anew (``implicit``) and refreshes the cache, so what it
    changes is never computed from stale facts.  A user's own ``ANSIBLE_CACHE_PLUGIN`` or
    ``ANSIBLE_GATHERING`` wins; a timeout of 0 turns the cache off.
    """
    if os.environ.get("ANSIBLE_CACHE_PLUGIN") or os.environ.get("ANSIBLE_GATHERING"):
        return {}
    try:
        timeout = fact_cache_timeout()
    except ValueError as exc:
        raise EdgeopsError(str(exc), hint="unset it or give seconds, e.g. 3600") from None
    if timeout == 0:
        return {}
    inventories = "\0".join(str(p.resolve()) for p in config.inventory)
    where = state_home() / "facts" / hashlib.sha256(inventories.encode()).hexdigest()[:16]
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    return {
        "ANSIBLE_CACHE_PLUGIN": "ansible.builtin.jsonfile",
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(where),
        "ANSIBLE_CACHE_PLUGIN_TIMEOUT": str(timeout),
        "ANSIBLE_GATHERING": "smart" if config.check else "implicit",
    }


def host_key_checking_env(project_dir: Path) -> dict[str, str]:
    """``ANSIBLE_HOST_KEY_CHECKING`` as Ansible's own configuration says (default: checked).

    ansible-runner sets it to ``False`` for every run whose environment does not name it, which
    turns off what ``host_key_checking`` in ansible.cfg says: Ansible then passes
    ``-o StrictHostKeyChecking=no`` ahead of an inventory's ``=yes``, and ssh keeps the first value,
    so a swapped host key would be accepted. The value is read the way ansible-playbook will read it
    (``ANSIBLE_CONFIG``, or ansible.cfg in the project directory, ~/.ansible.cfg, /etc/ansible).
    """
    if "ANSIBLE_HOST_KEY_CHECKING" in os.environ:
        return {}
    here = Path.cwd()
    try:
        os.chdir(project_dir)
        from ansible.config.manager import ConfigManager

        checking = ConfigManager().get_config_value("HOST_KEY_CHECKING")
    finally:
        os.chdir(here)
    return {"ANSIBLE_HOST_KEY_CHECKING": str(bool(checking))}


def run_playbook(
    config: RunConfig,
    on_event: EventHandler,
    cancel: Callable[[], bool] = lambda: False,
) -> RunResult:
    """Run ``config.playbook`` and feed each event to ``on_event``.

    ``cancel`` is polled while the playbook runs; returning True stops it
    (the result's status is then ``canceled``).
    """
    if not config.inventory:
        raise EdgeopsError("no inventory given", hint="pass -i INVENTORY")
    config.artifacts_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    ident = config.ident or new_ident(config.command)
    private = Path(tempfile.mkdtemp(prefix="edgeops-run-"))

    def handler(event: dict[str, Any]) -> bool:
        on_event(event)
        return False  # never write events (and their results) to disk

    facts = fact_cache_env(config)
    try:
        runner = ansible_runner.run(
            private_data_dir=str(private),
            artifact_dir=str(config.artifacts_dir),
            ident=ident,
            rotate_artifacts=config.rotate_artifacts,
            project_dir=str(config.project_dir),
            playbook=config.playbook,
            inventory=[str(p) for p in config.inventory],
            limit=config.limit,
            forks=config.forks,
            verbosity=config.verbosity or None,
            cmdline=_cmdline(config),
            event_handler=handler,
            cancel_callback=_GracefulCancel(cancel),
            quiet=True,
            suppress_env_files=True,
            # ansible-runner sets ANSIBLE_CACHE_PLUGIN(_CONNECTION) itself, over what envvars says, to a
            # jsonfile cache in this run's own artifacts (fresh every run, so a drift check would never
            # find the facts apply gathered): give it this inventory's cache directory (an absolute path
            # is taken as is); with no cache of ours, a user's own cache plugin is left alone.
            fact_cache=facts.get("ANSIBLE_CACHE_PLUGIN_CONNECTION"),
            fact_cache_type="jsonfile" if facts or not os.environ.get("ANSIBLE_CACHE_PLUGIN") else "",
            # edgeops writes this run's audit record itself (also when interrupted):
            # the drift callback must not append a second one.
            envvars={
                **report_env(config),
                **strategy_env(config.strategy),
                **facts,
                **host_key_checking_env(config.project_dir),
                "EDGEOPS_DRIFT_AUDIT": "false",
            },
        )
    finally:
        shutil.rmtree(private, ignore_errors=True)
    artifact_dir = config.artifacts_dir / ident
    scrub_artifacts(artifact_dir, keep_output=config.keep_artifacts)
    rc = runner.rc if isinstance(runner.rc, int) else 1
    return RunResult(status=str(runner.status), rc=rc, artifact_dir=artifact_dir)
