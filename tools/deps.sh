#!/usr/bin/env bash
# deps.sh PKG... - installs the Debian packages of the list that are missing (make deps).
# Quiet when everything is there; as root it installs them, otherwise it prints the command.
set -euo pipefail

[ $# -gt 0 ] || exit 0
if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: dpkg-query not found: this needs Debian 12 (or a derivative); install by hand: $*" >&2
	exit 1
fi

# installed PKG: the package is installed, or an installed package provides it (nodesource's
# nodejs provides npm, and Debian's npm would conflict with it).
provided=$(dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' 2>/dev/null |
	sed -n 's/^ii *|//p' | tr ',' '\n' | sed 's/(.*//; s/:.*//; s/^ *//; s/ *$//' | grep -v '^$' | sort -u || true)
installed() {
	local status
	status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] && return 0
	grep -qxF -- "$1" <<<"$provided"
}

missing=()
for pkg in "$@"; do
	installed "$pkg" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: install them with:" >&2
	echo "sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

# Confirm: a package apt could not install (renamed, not in this release) is an error.
still=()
for pkg in "${missing[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || still+=("$pkg")
done
if [ ${#still[@]} -gt 0 ]; then
	echo "deps: still missing after apt-get install: ${still[*]}" >&2
	exit 1
fi
