#!/usr/bin/env bash
# Installs what the VS Code tests need on a fresh Debian machine: code-server 4.100.3 (VS Code
# 1.100.3, the newest that runs on Node 20) into .vscode-test/code-server, and Chromium for the
# end-to-end test. Desktop VS Code cannot be downloaded here; code-server is the same workbench.
set -euo pipefail
cd "$(dirname "$0")/../.."
DEST=".vscode-test/code-server"
VERSION="4.100.3"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

if [ -x "$DEST/node_modules/.bin/code-server" ] && [ "$($DEST/node_modules/.bin/code-server --version 2>/dev/null | head -1 | cut -d' ' -f1)" = "$VERSION" ]; then
  echo "code-server $VERSION already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -qq --no-install-recommends libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev pkg-config ripgrep chromium >/dev/null
# @vscode/ripgrep downloads rg from GitHub while installing: hand it Debian's rg as its cached download
mkdir -p /tmp/vscode-ripgrep-cache-1.15.11 /tmp/rgpack
cp /usr/bin/rg /tmp/rgpack/rg
tar czf /tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz -C /tmp/rgpack rg
mkdir -p "$DEST"
# node-pty's install calls npx; code-server's install refuses root without unsafe-perm
npm_config_yes=true npm_config_unsafe_perm=true npm install --prefix "$DEST" --no-audit --no-fund "code-server@$VERSION"
"$DEST/node_modules/.bin/code-server" --version
