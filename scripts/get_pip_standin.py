"""Offline stand-in for the get-pip.py bootstrap script ansible-test downloads.

ansible-test bootstraps pip into each sanity virtualenv by running
``get-pip-<version>.py`` from ci-files.testing.ansible.com, which this machine
cannot reach.  It looks for a cached copy first
(``~/.ansible/test/cache/get_pip_<version>.py``); ``scripts/sanity.sh`` puts
this file there.  It does what get-pip does with the arguments it receives:
install pip with ``ensurepip``, then ``pip install`` the requested packages
(from PyPI, which is reachable).  ``--no-setuptools``/``--no-wheel`` are
get-pip options pip itself does not know, so they are dropped.
"""

import subprocess
import sys

DROP = {"--no-setuptools", "--no-wheel"}


def main() -> int:
    args = [a for a in sys.argv[1:] if a not in DROP]
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
                   check=True, stdout=subprocess.DEVNULL)
    return subprocess.run([sys.executable, "-m", "pip", "install", *args], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
