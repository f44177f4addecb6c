#!/usr/bin/env bash
# Wait until no other apt-get/dpkg holds the package manager's locks, for at most $1 seconds
# (default 600). Exit 0 when free, 1 on time-out. CASEFLOW_APT_LOCKS (space-separated) replaces
# the lock files checked, for tests.
set -uo pipefail
timeout=${1:-600}
locks=${CASEFLOW_APT_LOCKS:-/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock}

held() {
  local lock
  for lock in $locks; do
    # apt and dpkg hold fcntl locks on these files while they run; fuser names such holders.
    [ -e "$lock" ] && fuser "$lock" >/dev/null 2>&1 && return 0
  done
  return 1
}

waited=0
while held; do
  if [ "$waited" -ge "$timeout" ]; then
    echo "wait-apt-lock: the package manager stayed locked for ${timeout}s; giving up" >&2
    exit 1
  fi
  [ "$waited" -eq 0 ] && echo "wait-apt-lock: waiting for another package manager to finish..." >&2
  sleep 1
  waited=$((waited + 1))
done
exit 0
