#!/usr/bin/env bash
# End to end on the lab (assumes `edgeops lab up` has run; scripts/test.sh does that):
# the demo runs green, reports validate, no secret anywhere, drift changes nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/env.sh
. scripts/env.sh
exec python tests/e2e/demo_check.py "$@"
