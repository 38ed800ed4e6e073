# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a running MySQL/MariaDB server's variables (shared by the mysql modules)."""

from __future__ import annotations

from typing import Any, Collection


def read_runtime(cursor: Any, names: Collection[str]) -> tuple[dict[str, str], set[str]]:
    """{name: value} from SHOW GLOBAL VARIABLES, and the read-only names (MariaDB)."""
    cursor.execute("SHOW GLOBAL VARIABLES")
    runtime = {str(k).lower(): ("" if v is None else str(v)) for k, v in cursor.fetchall()}
    readonly: set[str] = set()
    if "mariadb" in runtime.get("version", "").lower() and names:
        marks = ", ".join(["%s"] * len(names))
        cursor.execute(
            "SELECT LOWER(VARIABLE_NAME) FROM information_schema.SYSTEM_VARIABLES"
            f" WHERE READ_ONLY = 'YES' AND LOWER(VARIABLE_NAME) IN ({marks})",
            list(names),
        )
        readonly = {row[0] for row in cursor.fetchall()}
    return runtime, readonly
