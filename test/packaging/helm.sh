#!/usr/bin/env bash
# The Helm chart: installs Helm into .tools/bin when it is missing (through the Go module proxy; Helm is not
# packaged by Debian), then runs test/packaging/helm.test.ts: `helm lint --strict`, `helm template` with the
# default values and the files under test/packaging/values/, and assertions on the rendered manifests.
#   bash test/packaging/helm.sh           HELM_VERSION=v3.22.0 by default
set -euo pipefail
cd "$(dirname "$0")/../.."
helm_version=${HELM_VERSION:-v3.22.0}
if [ -z "${KASPER_HELM:-}" ] && [ ! -x .tools/bin/helm ]; then
  command -v go >/dev/null || { echo "helm.sh: Helm is missing and there is no Go toolchain to install it" >&2; exit 1; }
  echo "helm.sh: installing helm $helm_version into .tools/bin" >&2
  mkdir -p .tools/bin
  GOBIN="$PWD/.tools/bin" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$helm_version"
fi
"${KASPER_HELM:-.tools/bin/helm}" version --short
KASPER_REQUIRE_HELM=1 exec ./kasperw node --test test/packaging/helm.test.ts
