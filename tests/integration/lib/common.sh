# Sourced first by the integration tests: the pftune binary ($1) as
# PFTUNE, fail=0 for the verdict, and a scratch directory $tmp removed on
# exit.
set -u
PFTUNE=$1
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
