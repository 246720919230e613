#!/usr/bin/env bash
# Set up everything the tests need on a fresh Debian machine, then run the whole suite.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m "not slow"`).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
command -v etcd >/dev/null 2>&1 || apt_packages+=(etcd-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || apt_packages+=(postgresql)
command -v node >/dev/null 2>&1 || apt_packages+=(nodejs npm)
command -v chromium >/dev/null 2>&1 || apt_packages+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || apt_packages+=(ffmpeg)
command -v docker-compose >/dev/null 2>&1 || apt_packages+=(docker-compose)
{ command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || apt_packages+=(nginx)
{ command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; } || apt_packages+=(mariadb-server)
# Debian builds nginx's stream module (the RTMP block of deploy/nginx.conf) as a separate package.
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || apt_packages+=(libnginx-mod-stream)
command -v openssl >/dev/null 2>&1 || apt_packages+=(openssl)
# The partition tests put instances in network namespaces joined by veth pairs (as root).
command -v ip >/dev/null 2>&1 || apt_packages+=(iproute2)
if [ ${#apt_packages[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y --no-install-recommends "${apt_packages[@]}" \
    || { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends "${apt_packages[@]}"; }
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[test]'
npm ci --prefix synctv/web --no-audit --no-fund >/dev/null
# The real OpenID Connect provider the OAuth2 tests log in with (oidc-provider 8.x runs on Node 18 and 20).
npm ci --prefix tests/support/oidc_provider --no-audit --no-fund >/dev/null

# Static checks first: lint and strict typing of the package (fail fast, before the slow suite).
.venv/bin/ruff check synctv tests bench
.venv/bin/mypy

export SYNCTV_REQUIRE_POSTGRES=1 SYNCTV_REQUIRE_BROWSER=1 SYNCTV_REQUIRE_OIDC=1 SYNCTV_REQUIRE_ALL=1
export SYNCTV_REQUIRE_ETCD=1 SYNCTV_REQUIRE_MARIADB=1 SYNCTV_REQUIRE_NGINX=1 SYNCTV_REQUIRE_NETNS=1
exec .venv/bin/python -m pytest -q -ra "$@"
