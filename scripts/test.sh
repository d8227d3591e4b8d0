#!/usr/bin/env bash
# Install what the tests need (package, test tools, Debian's Chromium for the browser tests,
# configurable-http-proxy for the JupyterHub test), lint and type-check, then run every test.
# pytest's "no tests collected" (exit 5) counts as a failure.
set -uo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e ".[test]" || exit 1

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser tests..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
      >/tmp/supervision-kit-apt.log 2>&1 || { cat /tmp/supervision-kit-apt.log; exit 1; }
  else
    echo "note: chromium not found and cannot be installed here; browser tests will skip"
  fi
fi

# the JupyterHub test (tests/e2e/test_hub.py) checks the pair folders' default ACL
if ! command -v setfacl >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq acl >/tmp/supervision-kit-apt.log 2>&1 \
    || echo "note: could not install acl; the hub test will not check default ACLs"
fi

# the JupyterHub test (tests/e2e/test_hub.py) needs the proxy JupyterHub uses, from npm
if ! command -v configurable-http-proxy >/dev/null 2>&1; then
  if command -v npm >/dev/null 2>&1; then
    echo "installing configurable-http-proxy (npm) for the JupyterHub test..."
    npm install -g configurable-http-proxy >/tmp/supervision-kit-npm.log 2>&1 \
      || { cat /tmp/supervision-kit-npm.log; exit 1; }
  else
    echo "note: npm not found: configurable-http-proxy cannot be installed; the hub test will skip"
  fi
fi

python -m ruff check . || exit 1
python -m mypy || exit 1
python -m pytest "$@"
rc=$?
if [ "$rc" = 5 ]; then
  echo "error: pytest collected no tests"
  exit 1
fi
exit "$rc"
