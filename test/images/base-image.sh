#!/usr/bin/env bash
# Makes a stand-in for the official Node image the Dockerfile names (no registry can be pulled
# from): Debian bookworm minbase from Debian's mirror, the Node binary running this script, the
# matching npm from the npm registry, and a `node` user (uid/gid 1000). Buildah keeps it in its
# storage, so later runs reuse it.
# Usage: base-image.sh <image name, e.g. node:24-bookworm-slim>
set -euo pipefail
image="$1"
node_bin="$(command -v node)"
node_version="$(node -p process.versions.node)"
npm_version="$(npm -v)"
# The image is rebuilt when the Node or npm it carries would change.
stamp="node-$node_version-npm-$npm_version"

if [ "$(buildah inspect --type image --format '{{index .Docker.Config.Labels "relay.base"}}' "$image" 2>/dev/null)" = "$stamp" ]; then
  echo "base image $image ($stamp) is cached"
  exit 0
fi

echo "making base image $image ($stamp) with debootstrap"
work="$(mktemp -d)"
container="$(buildah from scratch)"
cleanup() { buildah rm "$container" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
root="$(buildah mount "$container")"

debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; exit 1; }
# apt lists and caches: the official slim image ships without them too.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb

install -m 0755 "$node_bin" "$root/usr/local/bin/node"
(cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null)
mkdir -p "$root/usr/local/lib/node_modules/npm"
tar -xzf "$work"/npm-*.tgz -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

buildah config --env "NODE_VERSION=$node_version" \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd node \
  --label "relay.base=$stamp" "$container"
buildah commit --quiet --format docker "$container" "$image" >/dev/null
echo "base image $image done"
