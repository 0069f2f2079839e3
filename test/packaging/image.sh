#!/usr/bin/env bash
# Builds the real Dockerfile without a Docker engine and runs the image against the loopback Kafka:
#  1. a stand-in for its base image node:24-bookworm-slim (Debian bookworm rootfs from debootstrap, the
#     node binary of the same major from the npm registry, npm, user node uid 1000), tagged with that name;
#  2. buildah bud --isolation chroot --pull-never of the unchanged Dockerfile;
#  3. the image, run as uid 1000 with the host network: kasper run --exit-when-drained on hello-world,
#     /healthz answered while it runs, every greeting produced.
# Needs root, buildah and debootstrap (.ci/run installs them) and the harness's Kafka (npm run services -- up kafka).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
brokers=${KASPER_TEST_KAFKA_BROKERS:-127.0.0.1:19092}
base=docker.io/library/node:24-bookworm-slim
image=localhost/kasper-node:test
work=$root/.tools/image
mkdir -p "$work"

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'image test FAILED: %s\n' "$*" >&2; exit 1; }

for tool in buildah debootstrap; do command -v "$tool" >/dev/null || fail "$tool is not installed (apt-get install buildah debootstrap)"; done

if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
  step "building a stand-in for $base"
  rootfs=$work/rootfs
  if [ ! -x "$rootfs/bin/bash" ]; then
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian > "$work/debootstrap.log" 2>&1 \
      || { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
  fi
  ./kasperw node --version > /dev/null # provisions Node 24 into .tools when the system Node is older
  node_bin=$(./kasperw node -p process.execPath)
  cp "$node_bin" "$rootfs/usr/local/bin/node"
  (cd "$work" && rm -f npm-*.tgz && npm pack npm@11 --silent > /dev/null)
  rm -rf "$rootfs/usr/local/lib/node_modules/npm" && mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work"/npm-*.tgz -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # This machine reaches registries through a TLS proxy with its own CA: the stand-in trusts what the host
  # trusts (the real node image does not need this).
  mkdir -p "$rootfs/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  chroot "$rootfs" sh -c 'getent passwd node >/dev/null || (groupadd --gid 1000 node && useradd --uid 1000 --gid node --create-home --shell /bin/bash node)'
  container=$(buildah from scratch)
  mount=$(buildah mount "$container")
  cp -a "$rootfs"/. "$mount"/
  buildah umount "$container" > /dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt --cmd node "$container"
  buildah commit --quiet "$container" "$base" > /dev/null
  buildah rm "$container" > /dev/null
fi

step "buildah bud of the Dockerfile, unchanged"
buildah bud --isolation chroot --pull-never --quiet -t "$image" . > "$work/build.log" 2>&1 || { tail -30 "$work/build.log"; fail "build"; }

step "image settings"
setting() { buildah inspect --type image --format "{{.OCIv1.Config.$1}}" "$image"; }
echo "user: $(setting User); entrypoint: $(setting Entrypoint); cmd: $(setting Cmd); ports: $(setting ExposedPorts)"
[ "$(setting User)" = node ] || fail "the image does not run as the node user"
[ "$(setting Entrypoint)" = "[node /app/dist/src/cli/main.js]" ] || fail "unexpected entrypoint"
[[ "$(setting ExposedPorts)" == *9464/tcp* ]] || fail "the admin port is not exposed"

container=$(buildah from --pull-never "$image")
trap 'buildah rm "$container" > /dev/null 2>&1 || true' EXIT
in_image() { buildah run --isolation chroot --user node "$container" -- "$@"; }

step "kasper --version and validate-config in the image, as $(in_image id -u)"
[ "$(in_image id -u)" = 1000 ] || fail "not uid 1000"
in_image node /app/dist/src/cli/main.js --version
in_image node /app/dist/src/cli/main.js validate-config /app/config/example.yaml > /dev/null

step "processing messages from the loopback Kafka ($brokers)"
suffix=$(date +%s)
input=image-in-$suffix
output=image-out-$suffix
./kasperw node test/packaging/kafka-fixture.ts setup "$brokers" "$input" "$output"
port=$(./kasperw node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
cat > "$work/kasper.yaml" <<YAML
kafka:
  brokers: ["$brokers"]
processor:
  name: image-test-$suffix
  module: /app/examples/hello-world/processor.ts
  inputTopics: [$input]
  batchWaitMs: 300
  options:
    outputTopic: $output
workers:
  threads: 2
logging:
  format: text
admin:
  host: 127.0.0.1
  port: $port
YAML
buildah copy --chown 1000:1000 "$container" "$work/kasper.yaml" /tmp/kasper.yaml > /dev/null
in_image node /app/dist/src/cli/main.js run --config /tmp/kasper.yaml > "$work/run.log" 2>&1 &
run_pid=$!
healthy=no
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" > /dev/null 2>&1; then healthy=yes; break; fi
  sleep 0.2
done
[ "$healthy" = yes ] || { kill "$run_pid" 2>/dev/null || true; cat "$work/run.log"; fail "/healthz did not answer"; }
echo "/healthz answered 200"
drained=no
for _ in $(seq 1 150); do
  if curl -fsS "http://127.0.0.1:$port/drained" > /dev/null 2>&1; then drained=yes; break; fi
  sleep 0.2
done
# SIGTERM to Node itself, as Kubernetes does to PID 1 (buildah run does not forward signals).
pkill -TERM -f "^(/usr/local/bin/)?node /app/dist/src/cli/main.js run --config /tmp/kasper.yaml" || true
wait "$run_pid" || { cat "$work/run.log"; fail "kasper did not exit 0 after SIGTERM"; }
[ "$drained" = yes ] || { cat "$work/run.log"; fail "/drained never answered 200"; }
./kasperw node test/packaging/kafka-fixture.ts check "$brokers" "$input" "$output"
echo "image test passed"
