#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: set everything up, bring up the
# local lab (the reference topology as podman containers) and run the GitOps
# story on it: apply site.yml, drift check, a "3 AM hand fix", drift found,
# healed, audit trail verified.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck source=scripts/env.sh
. scripts/env.sh
exec edgeops demo "$@"
