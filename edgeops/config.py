"""Run configuration: one typed value from the command line to the runner adapter."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: The collection playbook ``edgeops apply`` / ``drift`` run by default.
DEFAULT_PLAYBOOK = "edgeops.gitops.site"


def state_home() -> Path:
    """``$XDG_STATE_HOME/edgeops`` (``~/.local/state/edgeops``)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "edgeops"


def default_artifacts_dir() -> Path:
    """Where rotated runner artifacts live (``EDGEOPS_ARTIFACTS_DIR`` overrides)."""
    env = os.environ.get("EDGEOPS_ARTIFACTS_DIR")
    return Path(env) if env else state_home() / "artifacts"


def default_audit_log() -> Path:
    """The audit log (``EDGEOPS_AUDIT_LOG`` overrides)."""
    env = os.environ.get("EDGEOPS_AUDIT_LOG")
    return Path(env) if env else state_home() / "audit.jsonl"


#: How long ``edgeops drift`` reuses the facts an earlier run gathered, in seconds
#: (``EDGEOPS_FACT_CACHE_TIMEOUT`` overrides; 0 gathers on every run).
FACT_CACHE_TIMEOUT = 3600


def fact_cache_timeout() -> int:
    """Seconds ``edgeops drift`` reuses cached facts (``EDGEOPS_FACT_CACHE_TIMEOUT``, default 3600)."""
    env = os.environ.get("EDGEOPS_FACT_CACHE_TIMEOUT", "").strip()
    if not env:
        return FACT_CACHE_TIMEOUT
    if not env.isdigit():
        raise ValueError(f"EDGEOPS_FACT_CACHE_TIMEOUT must be a whole number of seconds, got {env!r}")
    return int(env)


@dataclass(frozen=True)
class RunConfig:
    """One ``apply`` or ``drift`` run, as the runner adapter needs it."""

    playbook: str = DEFAULT_PLAYBOOK
    inventory: tuple[Path, ...] = ()
    limit: str | None = None
    check: bool = False
    diff: bool = True
    forks: int | None = None
    verbosity: int = 0
    project_dir: Path = field(default_factory=Path.cwd)
    artifacts_dir: Path = field(default_factory=default_artifacts_dir)
    rotate_artifacts: int = 20
    #: Identifier of this run's artifacts directory (``<time>-<command>``).
    ident: str | None = None
    #: Where the ``edgeops.gitops.drift`` callback writes the run's JSON report.
    report_file: Path | None = None
    #: Keep the runner's ``stdout``/``stderr`` artifacts (they hold every ``--diff``).
    keep_artifacts: bool = False
    #: Ansible strategy for the run (``edgeops.strategy.STRATEGIES``); None: ansible.cfg decides.
    strategy: str | None = None

    @property
    def command(self) -> str:
        """``drift`` for a check run, ``apply`` otherwise."""
        return "drift" if self.check else "apply"
