"""Every program the project's Python code starts is in tests/system/commands.yml.

That table is what tests/system/test_fresh_machine.py checks on a clean
Debian 12 root filesystem with exactly the packages scripts/setup.sh
installs; a program missing from the table would escape that check.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "tests" / "system" / "commands.yml"

#: Where the project starts programs on the machine it runs on.
SCANNED = ("edgeops", "bench", "scripts", "tests/e2e", "tests/unit", "tests/system", "molecule")

#: ``subprocess.run([<program>, ...``, ``Popen([<program>``, a helper
#: ``run(<program>, ...)``, ``_run([<program>``, ``shutil.which(<program>)``.
PATTERNS = (
    re.compile(r"\b(?:subprocess\.\w+|_?run|Popen|check_output)\(\s*\[\s*\"([A-Za-z0-9_.+-]+)\""),
    re.compile(r"\brun\(\s*\"([A-Za-z0-9_.+-]+)\""),
    re.compile(r"\bwhich\(\s*\"([A-Za-z0-9_.+-]+)\"\s*\)"),
)

#: Programs that come from the project's own venv (pip), not from apt.
FROM_VENV = {
    "ansible", "ansible-playbook", "ansible-inventory", "ansible-doc", "ansible-galaxy",
    "ansible-test", "ansible-lint", "ansible-builder", "antsibull-changelog", "molecule",
    "edgeops", "pytest", "ruff", "mypy",
}

#: Words the scan sees that are not programs: arguments of helpers named ``run``.
NOT_PROGRAMS = {
    "apply", "drift",  # edgeops/commands/demo.py runs its own subcommands in-process
    "lint", "lint-changelog-yaml",  # tests/unit/extensions/test_changelog.py: antsibull-changelog's
}


def programs_in_code() -> dict[str, list[str]]:
    """Program name -> files that start it."""
    found: dict[str, list[str]] = {}
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for pattern in PATTERNS:
                for name in pattern.findall(text):
                    found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def test_scan_finds_known_programs() -> None:
    """The scan itself works: it sees programs we know the code starts."""
    found = programs_in_code()
    for name in ("podman", "debootstrap", "losetup", "fio", "git", "tar", "pgrep"):
        assert name in found, f"the scan no longer finds {name}; fix PATTERNS"


def test_every_program_is_in_the_table() -> None:
    table = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    missing = {
        name: files
        for name, files in programs_in_code().items()
        if name not in table and name not in FROM_VENV and name not in NOT_PROGRAMS
    }
    assert not missing, "programs started by the code but not in tests/system/commands.yml: " + "; ".join(
        f"{name} (in {', '.join(sorted(set(files)))})" for name, files in sorted(missing.items())
    )
