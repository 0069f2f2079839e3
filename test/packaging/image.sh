#!/usr/bin/env bash
# Builds the real Dockerfile without a Docker engine and runs the image against the loopback Kafka:
#  1. a stand-in for its base image node:24-bookworm-slim (Debian bookworm rootfs from debootstrap, the
#     node binary of the same major from the npm registry, npm, user node uid 1000), tagged with that name
#     and kept in buildah's storage for the next run;
#  2. buildah bud --isolation chroot --pull-never of the unchanged Dockerfile (VERSION from package.json);
#     image settings and OCI labels checked;
#  3. in the image as uid 1000 with the host network: --version, validate-config, then
#     `kasper run --exit-when-drained` on hello-world (exit 0, /healthz answered while it runs, every greeting
#     on the output topic), then `kasper run` stopped by SIGTERM (exit 0, nothing processed twice);
#  4. the user-image pattern of docs/deployment.md: examples/docker/Dockerfile (FROM kasper-node:<version>)
#     built on top and run with --exit-when-drained on the same input.
# Needs root, buildah and debootstrap (.ci/run installs them). Uses KASPER_TEST_KAFKA_BROKERS, or starts the
# harness's Kafka (npm run services -- up kafka; 127.0.0.1:19092 plus KASPER_SERVICES_PORT_OFFSET).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
base=docker.io/library/node:24-bookworm-slim
package_field() { ./kasperw node -p "require('./package.json').$1"; }
version=$(package_field version)
image=localhost/kasper-node:test
user_image=localhost/kasper-enricher:test
work=$root/.tools/image
mkdir -p "$work"

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'image test FAILED: %s\n' "$*" >&2; exit 1; }

for tool in buildah debootstrap curl; do
  command -v "$tool" > /dev/null || fail "$tool is not installed (apt-get install buildah debootstrap curl)"
done
[ "$(id -u)" = 0 ] || fail "needs root (buildah --isolation chroot, debootstrap)"

if ! buildah inspect --type image "$base" > /dev/null 2>&1; then
  step "building a stand-in for $base"
  rootfs=$work/rootfs
  if [ ! -x "$rootfs/bin/bash" ]; then
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian > "$work/debootstrap.log" 2>&1 \
      || { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
  fi
  node_bin=$(./kasperw node -p process.execPath) # Node 24: the system one, or the one kasperw provisions
  [ "$("$node_bin" -p 'process.versions.node.split(".")[0]')" = 24 ] || fail "$node_bin is not Node 24"
  cp "$node_bin" "$rootfs/usr/local/bin/node"
  rm -f "$work"/npm-*.tgz
  ./kasperw npm pack npm@11 --silent --pack-destination "$work" > /dev/null
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
    --env NODE_VERSION="$("$node_bin" -p process.versions.node)" \
    --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt --cmd node "$container"
  buildah commit --quiet "$container" "$base" > /dev/null
  buildah rm "$container" > /dev/null
fi
echo "base: $base ($(buildah inspect --type image --format '{{.FromImageID}}' "$base" | cut -c1-12))"

step "buildah bud of the Dockerfile, unchanged"
buildah bud --isolation chroot --pull-never --quiet --build-arg VERSION="$version" \
  -t "$image" -t "localhost/kasper-node:$version" . \
  > "$work/build.log" 2>&1 || { tail -30 "$work/build.log"; fail "build"; }

step "image settings"
setting() { buildah inspect --type image --format "{{.OCIv1.Config.$1}}" "$image"; }
echo "user: $(setting User); entrypoint: $(setting Entrypoint); cmd: $(setting Cmd); ports: $(setting ExposedPorts); stop signal: $(setting StopSignal)"
[ "$(setting User)" = 1000:1000 ] || fail "the image does not run as 1000:1000 (numeric, for runAsNonRoot)"
[ "$(setting Entrypoint)" = "[node --max-semi-space-size=1 /app/dist/src/cli/main.js]" ] \
  || fail "unexpected entrypoint (exec form, node as PID 1, the main thread's young generation at 2 MB)"
# buildah run takes a command, not the entrypoint: the runs below start kasper with the entrypoint's words.
read -ra kasper <<< "$(buildah inspect --type image --format '{{range .OCIv1.Config.Entrypoint}}{{.}} {{end}}' "$image")"
[ "$(setting Cmd)" = "[run --config /etc/kasper/kasper.yaml]" ] || fail "unexpected command"
[[ "$(setting ExposedPorts)" == *9464/tcp* ]] || fail "the admin port is not exposed"
[ "$(setting StopSignal)" = SIGTERM ] || fail "stop signal is not SIGTERM"
label() { buildah inspect --type image --format "{{index .OCIv1.Config.Labels \"org.opencontainers.image.$1\"}}" "$image"; }
for pair in title:name description:description licenses:license version:version; do
  [ "$(label "${pair%%:*}")" = "$(package_field "${pair#*:}")" ] || fail "label ${pair%%:*} is not package.json's ${pair#*:}"
done
[ -n "$(label source)" ] || fail "no source label"
echo "labels: $(label title) $(label version), $(label licenses), source $(label source)"

# The node process buildah runs for PID (buildah run does not forward signals; Kubernetes signals PID 1).
node_pid_under() {
  local child
  for child in $(ps -o pid= --ppid "$1"); do
    # (Node 24 names its main thread MainThread: match the command line, not the name.)
    [[ "$(ps -o args= -p "$child")" =~ ^(/[^\ ]*/)?node\  ]] && { echo "$child"; return 0; }
    node_pid_under "$child" && return 0
  done
  return 1
}

containers=()
run_pid=
cleanup() {
  # A kasper left running by a failed step: stop it (by its own pid) before removing its container.
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2> /dev/null; then
    kill -KILL "$(node_pid_under "$run_pid")" 2> /dev/null || true
    wait "$run_pid" 2> /dev/null || true
  fi
  for c in "${containers[@]}"; do buildah rm "$c" > /dev/null 2>&1 || true; done
}
trap cleanup EXIT
container=$(buildah from --pull-never "$image")
containers+=("$container")
in_image() { buildah run --isolation chroot --user node "$1" -- "${@:2}"; }

step "kasper --version and validate-config in the image, as uid $(in_image "$container" id -u)"
[ "$(in_image "$container" id -u)" = 1000 ] || fail "not uid 1000"
in_image "$container" test ! -d /app/node_modules/typescript || fail "dev dependencies in the runtime image"
[ "$(in_image "$container" "${kasper[@]}" --version)" = "$version" ] || fail "--version"
in_image "$container" "${kasper[@]}" validate-config /app/config/example.yaml > /dev/null \
  || fail "validate-config /app/config/example.yaml"
echo "kasper $version; /app/config/example.yaml valid"

brokers=${KASPER_TEST_KAFKA_BROKERS:-}
if [ -z "$brokers" ]; then
  ./kasperw npm run --silent services -- up kafka
  brokers=$(./kasperw node -e "import('./scripts/services/kafka.ts').then((m) => console.log(m.kafka.testEnv.KASPER_TEST_KAFKA_BROKERS))")
fi
step "processing messages from the loopback Kafka ($brokers)"
suffix=$(date +%s)
input=image-in-$suffix
output=image-out-$suffix
enriched=image-enriched-$suffix
./kasperw node test/packaging/kafka-fixture.ts setup "$brokers" "$input" "$output" "$enriched"
free_port() { ./kasperw node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

# write_config CONTAINER NAME MODULE OUTPUT PORT: /tmp/kasper.yaml inside the container. batchWaitMs keeps the
# four messages waiting 3 s, so the run lasts long enough to see /healthz answer before it drains.
write_config() {
  cat > "$work/kasper.yaml" << YAML
kafka:
  brokers: ["$brokers"]
processor:
  name: $2
  module: $3
  inputTopics: [$input]
  batchWaitMs: 3000
  options:
    outputTopic: $4
workers:
  threads: 2
logging:
  format: text
admin:
  host: 127.0.0.1
  port: $5
shutdown:
  timeoutMs: 10000
YAML
  buildah copy --chown 1000:1000 "$1" "$work/kasper.yaml" /tmp/kasper.yaml > /dev/null
}
# until_ok SECONDS URL [PID]: polls URL until it answers 2xx; gives up when PID exits.
until_ok() {
  local deadline=$((SECONDS + $1))
  while [ $SECONDS -lt $deadline ]; do
    curl -fsS -o /dev/null "$2" 2> /dev/null && return 0
    [ -n "${3:-}" ] && ! kill -0 "$3" 2> /dev/null && return 1
    sleep 0.1
  done
  return 1
}
# wait_exit SECONDS PID: waits for PID to exit and returns its exit code (124 on timeout).
wait_exit() {
  local deadline=$((SECONDS + $1))
  while kill -0 "$2" 2> /dev/null; do
    [ $SECONDS -lt $deadline ] || return 124
    sleep 0.2
  done
  wait "$2"
}

group=image-test-$suffix
port=$(free_port)
write_config "$container" "$group" /app/examples/hello-world/processor.ts "$output" "$port"
echo "-- kasper run --exit-when-drained (hello-world)"
in_image "$container" "${kasper[@]}" run --config /tmp/kasper.yaml --exit-when-drained \
  > "$work/run-drained.log" 2>&1 &
run_pid=$!
until_ok 30 "http://127.0.0.1:$port/healthz" "$run_pid" \
  || { cat "$work/run-drained.log"; fail "/healthz did not answer while running"; }
echo "/healthz answered 200 while running"
code=0
wait_exit 60 "$run_pid" || code=$?
[ "$code" = 0 ] || { cat "$work/run-drained.log"; fail "kasper run --exit-when-drained exited $code, not 0"; }
grep -q 'drained and committed; exiting' "$work/run-drained.log" || { cat "$work/run-drained.log"; fail "did not exit because drained"; }
echo "exited 0 once drained"
./kasperw node test/packaging/kafka-fixture.ts check "$brokers" "$input" "$output"

echo "-- kasper run, stopped by SIGTERM (same group: everything is committed, nothing is processed again)"
port=$(free_port)
write_config "$container" "$group" /app/examples/hello-world/processor.ts "$output" "$port"
in_image "$container" "${kasper[@]}" run --config /tmp/kasper.yaml > "$work/run-sigterm.log" 2>&1 &
run_pid=$!
until_ok 60 "http://127.0.0.1:$port/readyz" "$run_pid" \
  || { cat "$work/run-sigterm.log"; fail "/readyz did not answer 200"; }
# Held by the entrypoint's flag: 2 MiB (briefly a little more after a burst); grown without it: 32 MiB.
young=$(curl -fsS "http://127.0.0.1:$port/metrics" | sed -n 's/^nodejs_heap_space_size_total_bytes{space="new"} //p')
[ -n "$young" ] && [ "$young" -le $((4 * 1024 * 1024)) ] \
  || fail "the main thread's young generation is ${young:-unknown} bytes, more than 4 MiB"
echo "main thread's young generation: $young bytes"
node_pid=$(node_pid_under "$run_pid") || fail "cannot find the node process under buildah run ($run_pid)"
kill -TERM "$node_pid"
code=0
wait_exit 30 "$run_pid" || code=$?
[ "$code" = 0 ] || { cat "$work/run-sigterm.log"; fail "kasper exited $code after SIGTERM, not 0"; }
echo "SIGTERM: exited 0"
./kasperw node test/packaging/kafka-fixture.ts check "$brokers" "$input" "$output"

step "the user image of examples/docker (FROM kasper-node:$version)"
sed -n 's/^FROM //p' examples/docker/Dockerfile | grep -qx "kasper-node:$version" \
  || fail "examples/docker/Dockerfile is not FROM kasper-node:$version"
buildah bud --isolation chroot --pull-never --quiet -t "$user_image" examples/docker > "$work/build-user.log" 2>&1 \
  || { tail -30 "$work/build-user.log"; fail "build of examples/docker"; }
user_container=$(buildah from --pull-never "$user_image")
containers+=("$user_container")
port=$(free_port)
write_config "$user_container" "enricher-$suffix" /app/processors/enricher.js "$enriched" "$port"
code=0
in_image "$user_container" "${kasper[@]}" run --config /tmp/kasper.yaml --exit-when-drained \
  > "$work/run-user.log" 2>&1 || code=$?
[ "$code" = 0 ] || { cat "$work/run-user.log"; fail "the user image exited $code, not 0"; }
./kasperw node test/packaging/kafka-fixture.ts enriched "$brokers" "$input" "$enriched"

cleanup
buildah rmi --prune > /dev/null 2>&1 || true # images left untagged by earlier runs
echo
echo "image test passed"
