#!/usr/bin/env bash
# The Helm chart: installs Helm into .tools/bin when it is missing (scripts/tools/helm.ts, as `npm test` does),
# then runs test/packaging/helm.test.ts: `helm lint --strict`, `helm template` with the default values and the
# files under test/packaging/values/, and assertions on the rendered manifests.
#   bash test/packaging/helm.sh           HELM_VERSION=v3.22.0 by default
set -euo pipefail
cd "$(dirname "$0")/../.."
./kasperw node scripts/tools/provision.ts
KASPER_REQUIRE_HELM=1 exec ./kasperw node --test test/packaging/helm.test.ts
