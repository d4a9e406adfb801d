#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the demo need, only when one is missing.
# Idempotent: on a machine that has everything it prints one line and returns at once.
set -euo pipefail
pkgs=(gcc pkg-config libxml2-dev libssl-dev libxml2-utils xmlsec1 openssl softhsm2 opensc ca-certificates curl jq)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all Debian packages present"
  exit 0
fi
echo "deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
