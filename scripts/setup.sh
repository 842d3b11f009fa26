#!/usr/bin/env bash
# Installs what a fresh machine lacks: Debian packages (only when missing) and the Python
# virtual environment under build/venv with the pinned test dependencies. Idempotent.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

debs=(build-essential chromium clang clang-format libcjson-dev libclang-rt-14-dev libhiredis-dev libmsgpack-dev pkg-config python3 python3-venv redis-server tmux valgrind)
missing=()
for pkg in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
# Node.js runs the official implementations the suite compares against; any packaged version works.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

venv=build/venv
stamp=$venv/.requirements.sha
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating $venv"
  mkdir -p build
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi
