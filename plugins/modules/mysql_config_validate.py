#!/usr/bin/python
# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module edgeops.gitops.mysql_config_validate."""

from __future__ import annotations

DOCUMENTATION = r"""
module: mysql_config_validate
short_description: Validate a candidate MySQL/MariaDB drop-in with the server's own option parser
version_added: 0.1.0
author:
  - edgeops contributors (@edgeops)
description:
  - Builds the server's complete configuration as it would be with O(content) in place of O(dest)
    (following C(!include) and C(!includedir) from O(config)), and asks the server binary to parse it,
    without starting a server and without touching O(dest).
  - "MariaDB: C(mariadbd --defaults-file=<full candidate> --help --verbose). It exits non-zero on unknown
    variables and on bad values of server variables, and logs C([ERROR]) but exits 0 on bad values of
    plugin variables such as C(innodb_flush_method); both count as invalid."
  - "MySQL (8.0.16 and later): C(mysqld --defaults-file=<full candidate> --validate-config)."
  - Fails with the server's own error lines when the candidate is rejected. Changes nothing.
extends_documentation_fragment:
  - edgeops.gitops.attributes.INFO_MODULE
options:
  content:
    description: The candidate drop-in file's content.
    type: str
    required: true
  dest:
    description:
      - Where the drop-in will live; it must be read by O(config) through C(!includedir) or C(!include).
    type: path
    required: true
  config:
    description:
      - The server's top-level option files, in the order the server reads them (missing ones are skipped).
    type: list
    elements: path
    default: [/etc/my.cnf, /etc/mysql/my.cnf]
  binary:
    description: The server binary. Default is C(mariadbd) or C(mysqld) from C(/usr/sbin) per O(flavour).
    type: path
  flavour:
    description: Server flavour, which decides the validation command.
    type: str
    choices: [mariadb, mysql]
    default: mariadb
"""

EXAMPLES = r"""
- name: Validate the new drop-in before it is written
  edgeops.gitops.mysql_config_validate:
    content: "{{ lookup('ansible.builtin.template', 'edgeops.cnf.j2') }}"
    dest: /etc/mysql/mariadb.conf.d/90-edgeops.cnf
"""

RETURN = r"""
valid:
  description: Whether the server accepted the candidate configuration.
  type: bool
  returned: always
errors:
  description: The server's C([ERROR]) lines (timestamps removed).
  type: list
  elements: str
  returned: always
warnings_seen:
  description: The server's C([Warning]) lines about the candidate (timestamps removed).
  type: list
  elements: str
  returned: always
cmd:
  description: The validation command (the full candidate file is a temporary file, removed afterwards).
  type: list
  elements: str
  returned: always
"""

import os
import re
import tempfile
from typing import Any

from ansible.module_utils.basic import AnsibleModule

#: Warnings that mean the server would not run with the value written: it
#: replaces it ("boolean value 'X' wasn't recognized. Set to OFF.", "unsigned
#: value 50 adjusted to 100"), so verification after a restart could never pass.
_REJECTED = ("wasn't recognized", "adjusted to")
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}\s+\d{1,2}:\d{2}:\d{2}\s+\d+\s+")


def flatten(path: str, dest: str, candidate: str, depth: int = 0) -> tuple[str, bool]:
    """Return (text, used) of option file ``path`` with includes inlined.

    The file at ``dest`` is replaced by ``candidate``; ``used`` tells whether it was reached.
    """
    if depth > 10:
        raise ValueError(f"include depth exceeded at {path}")
    if os.path.realpath(path) == os.path.realpath(dest):
        return candidate.rstrip("\n") + "\n", True
    out = []
    used = False
    group = None
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().splitlines()
    for line in lines:
        text = line.strip()
        files = []
        if text.startswith("!includedir"):
            folder = text[len("!includedir"):].strip()
            if os.path.isdir(folder):
                files = [os.path.join(folder, f) for f in sorted(os.listdir(folder))
                         if f.endswith(".cnf")]
                dest_dir = os.path.realpath(os.path.dirname(dest))
                if os.path.realpath(folder) == dest_dir and os.path.basename(dest) not in os.listdir(folder):
                    files = sorted([*files, os.path.join(folder, os.path.basename(dest))])
        elif text.startswith("!include"):
            files = [text[len("!include"):].strip()]
        else:
            if text.startswith("[") and text.endswith("]"):
                group = text
            out.append(line)
            continue
        for name in files:
            if os.path.realpath(name) != os.path.realpath(dest) and not os.path.isfile(name):
                continue
            body, hit = flatten(name, dest, candidate, depth + 1)
            used = used or hit
            out.append(f"# --- {name}")
            out.append(body)
        if group:
            out.append(group)
    return "\n".join(out) + "\n", used


def classify(stderr: str) -> tuple[list[str], list[str]]:
    """Server messages -> (errors, warnings), timestamps stripped."""
    errors: list[str] = []
    warnings: list[str] = []
    for line in stderr.splitlines():
        text = _STAMP.sub("", line.strip())
        if "[ERROR]" in text or any(mark in text for mark in _REJECTED):
            errors.append(text)
        elif "[Warning]" in text and "max_open_files" not in text and "Changed limits" not in text:
            warnings.append(text)
    return errors, warnings


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "content": {"type": "str", "required": True},
            "dest": {"type": "path", "required": True},
            "config": {"type": "list", "elements": "path",
                       "default": ["/etc/my.cnf", "/etc/mysql/my.cnf"]},
            "binary": {"type": "path"},
            "flavour": {"type": "str", "choices": ["mariadb", "mysql"], "default": "mariadb"},
        },
        supports_check_mode=True,
    )
    params = module.params
    binary = params["binary"] or ("/usr/sbin/mariadbd" if params["flavour"] == "mariadb"
                                  else "/usr/sbin/mysqld")
    if not os.access(binary, os.X_OK):
        module.fail_json(msg=f"validation failed for {params['dest']}: server binary {binary} not found;"
                             " install the server first or set binary")
    parts, used = [], False
    try:
        for path in params["config"]:
            if os.path.isfile(path):
                body, hit = flatten(path, params["dest"], params["content"])
                parts.append(body)
                used = used or hit
    except (OSError, ValueError) as exc:
        module.fail_json(msg=f"validation failed for {params['dest']}: cannot read the server"
                             f" configuration: {exc}")
    if not used:
        module.fail_json(msg=f"validation failed for {params['dest']}: no file of {params['config']}"
                             " includes it, so the server would never read it; put it in an !includedir"
                             " directory")
    fd, flat = tempfile.mkstemp(prefix="edgeops-mysql-", suffix=".cnf", dir=module.tmpdir)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(parts))
    os.chmod(flat, 0o600)
    if params["flavour"] == "mysql":
        cmd = [binary, f"--defaults-file={flat}", "--user=mysql", "--validate-config"]
    else:
        cmd = [binary, f"--defaults-file={flat}", "--help", "--verbose"]
    rc, _out, err = module.run_command(cmd, environ_update={"LANG": "C", "LC_ALL": "C"})
    os.unlink(flat)
    errors, warnings = classify(err)
    valid = rc == 0 and not errors
    result: dict[str, Any] = {"changed": False, "valid": valid, "errors": errors, "warnings_seen": warnings,
                              "cmd": cmd}
    if not valid:
        detail = "; ".join(errors) or err.strip() or f"exit code {rc}"
        module.fail_json(msg=f"validation failed for {params['dest']}: the server rejects the candidate"
                             f" configuration (rc={rc}): {detail}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
