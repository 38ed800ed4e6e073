"""Make the collection importable as ``ansible_collections.edgeops.gitops``.

ansible-test does this by running from ``ansible_collections/edgeops/gitops``;
plain pytest from the checkout uses the ``.cache/collections`` link that
``scripts/setup.sh`` creates (made here too, if missing).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _collections_root() -> Path:
    for parent in ROOT.parents:
        if parent.name == "ansible_collections":
            return parent.parent
    base = ROOT / ".cache" / "collections"
    link = base / "ansible_collections" / "edgeops" / "gitops"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ROOT)
    return base


_base = str(_collections_root())
if _base not in sys.path:
    sys.path.insert(0, _base)
