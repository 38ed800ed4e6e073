"""Role READMEs: the variable table is generated from meta/argument_specs.yml (scripts/role_docs.py).

``test_role_readme_matches_argument_specs`` runs over every role in roles/ and fails when a README
differs from what ``python scripts/role_docs.py`` generates; the generator itself is tested on a
fixture role built in a temporary directory.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "role_docs.py"
_spec = importlib.util.spec_from_file_location("role_docs", SCRIPT)
assert _spec and _spec.loader
role_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(role_docs)

ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if p.is_dir())


@pytest.mark.parametrize("role", ROLES)
def test_role_readme_matches_argument_specs(role):
    readme, current, wanted = role_docs.role_readme(ROOT / "roles" / role)
    assert current == wanted, (
        f"{readme.relative_to(ROOT)} differs from roles/{role}/meta/argument_specs.yml; "
        "run: python scripts/role_docs.py"
    )


FIXTURE_SPECS = """\
---
argument_specs:
  main:
    short_description: Demo role
    options:
      demo_port:
        type: int
        default: 3306
        description: Port to listen on.
      demo_mode:
        type: str
        choices: [strict, lax]
        default: strict
        description:
          - How strict the checks are.
          - Use C(lax) only in a lab; see L(the docs,https://example.invalid/docs).
      demo_token:
        type: str
        required: true
        no_log: true
        description: A token | with a pipe.
      demo_users:
        type: list
        elements: dict
        default: []
        description: Accounts.
        options:
          name:
            type: str
            required: true
            description: Login name.
          hosts:
            type: list
            elements: str
            default: [localhost]
            description: Where it may connect from.
      demo_empty:
        default: ""
        description: Empty string default.
  cleanup:
    short_description: Remove what the role created
    options: {}
"""

FIXTURE_README = """\
# demo_role

Some hand-written introduction that must survive.

## Variables

<!-- BEGIN argument_specs -->
| Variable | Type | Default | Description |
|---|---|---|---|
| `demo_port` | int | `3307` | Stale. |
<!-- END argument_specs -->

## Example

Hand-written example that must survive too.
"""

EXPECTED_TABLE = """\
Entry point `main`: Demo role

| Variable | Type | Default | Description |
|---|---|---|---|
| `demo_port` | int | `3306` | Port to listen on. |
| `demo_mode` | str | `strict` | How strict the checks are. Use `lax` only in a lab; see [the docs](https://example.invalid/docs). Choices: `strict`, `lax`. |
| `demo_token` | str | *required* | A token \\| with a pipe. |
| `demo_users` | list of dict | `[]` | Accounts. |
| `demo_users.name` | str | *required* | Login name. |
| `demo_users.hosts` | list of str | `["localhost"]` | Where it may connect from. |
| `demo_empty` | str | `""` | Empty string default. |

Entry point `cleanup`: Remove what the role created

This entry point takes no variables."""  # noqa: E501


@pytest.fixture
def roles_dir(tmp_path):
    role = tmp_path / "roles" / "demo_role"
    (role / "meta").mkdir(parents=True)
    (role / "meta" / "argument_specs.yml").write_text(FIXTURE_SPECS)
    (role / "README.md").write_text(FIXTURE_README)
    return tmp_path / "roles"


def run_script(*args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False, timeout=60
    )


def test_check_reports_stale_readme_and_changes_nothing(roles_dir):
    result = run_script("--check", "--roles-dir", str(roles_dir))
    assert result.returncode == 1
    assert "demo_role/README.md: variable table differs" in result.stdout
    assert (roles_dir / "demo_role" / "README.md").read_text() == FIXTURE_README


def test_generate_rewrites_only_between_markers(roles_dir):
    result = run_script("--roles-dir", str(roles_dir))
    assert result.returncode == 0, result.stderr
    assert "demo_role/README.md: updated" in result.stdout
    text = (roles_dir / "demo_role" / "README.md").read_text()
    head, rest = FIXTURE_README.split(role_docs.BEGIN)
    tail = rest.split(role_docs.END)[1]
    assert text == f"{head}{role_docs.BEGIN}\n{EXPECTED_TABLE}\n{role_docs.END}{tail}"
    # now in sync: --check passes and a second run changes nothing
    assert run_script("--check", "--roles-dir", str(roles_dir)).returncode == 0
    assert run_script("--roles-dir", str(roles_dir)).stdout == ""


def test_readme_without_markers_gets_a_section(roles_dir):
    readme = roles_dir / "demo_role" / "README.md"
    readme.write_text("# demo_role\n\nNo table yet.\n")
    assert role_docs.main(["--roles-dir", str(roles_dir)]) == 0
    text = readme.read_text()
    assert text.startswith("# demo_role\n\nNo table yet.\n\n## Role variables\n\n<!-- BEGIN")
    assert EXPECTED_TABLE in text


def test_role_without_argument_specs_is_an_error(roles_dir, capsys):
    (roles_dir / "bare_role" / "tasks").mkdir(parents=True)
    assert role_docs.main(["--check", "--roles-dir", str(roles_dir), "bare_role"]) == 1
    assert "bare_role/meta/argument_specs.yml does not exist" in capsys.readouterr().err


def test_invalid_yaml_is_an_error(roles_dir, capsys):
    (roles_dir / "demo_role" / "meta" / "argument_specs.yml").write_text("argument_specs: [\n")
    assert role_docs.main(["--check", "--roles-dir", str(roles_dir)]) == 1
    assert "is not valid YAML" in capsys.readouterr().err


def test_mysql_host_readme_has_the_generated_tuning_table():
    """Issue 16: 512 MB to 64 GB for MariaDB 10.11/11.8 and MySQL 8.0.29/8.0.35/8.4, from the filter."""
    text = (ROOT / "roles" / "mysql_host" / "README.md").read_text(encoding="utf-8")
    table = text.split(role_docs.TUNING_BEGIN, 1)[1].split(role_docs.TUNING_END, 1)[0]
    assert table.strip() == role_docs.render_tuning_table()
    for server in ("MariaDB 10.11", "MariaDB 11.8", "MySQL 8.0.29", "MySQL 8.0.35", "MySQL 8.4"):
        for size in ("512 MB", "1 GB", "2 GB", "4 GB", "8 GB", "16 GB", "64 GB"):
            assert f"| {server} | {size} |" in table, (server, size)
    assert ("| MariaDB 10.11 | 16 GB | 12G | `innodb_log_file_size=1G` | `innodb_flush_method=O_DIRECT` "
            "| 2000 (4000) |") in table
    assert "| MySQL 8.0.35 | 16 GB | 12G (4 instances) | `innodb_redo_log_capacity=9G` |" in table
