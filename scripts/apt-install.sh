#!/usr/bin/env bash
# apt-install.sh WHY PACKAGE...: installs Debian packages, as root or through sudo; fails
# loudly, naming the command, when it cannot.
set -euo pipefail
why=$1
shift
cmd="apt-get update && apt-get install -y --no-install-recommends $*"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    cmd="sudo sh -c '$cmd'"
  else
    echo "ImpactLens needs $* for $why. Install them with:  sudo $cmd" >&2
    exit 1
  fi
fi
echo "installing $* for $why: $cmd" >&2
if ! eval "$cmd" >/tmp/impactlens-apt.log 2>&1; then
  echo "failed: $cmd (log: /tmp/impactlens-apt.log)" >&2
  tail -n 20 /tmp/impactlens-apt.log >&2
  exit 1
fi
