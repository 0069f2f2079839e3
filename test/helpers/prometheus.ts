// Prometheus' binaries (Debian's `prometheus` package: prometheus and promtool). Without one, and without
// KASPER_REQUIRE_PROMTOOL=1 (CI sets it and installs the package), the tests needing it are skipped.
import { spawnSync } from 'node:child_process'

/** A node:test skip reason when `binary` is not installed; throws instead when KASPER_REQUIRE_PROMTOOL=1. */
export function prometheusSkip(binary: 'prometheus' | 'promtool'): string | false {
  if (spawnSync(binary, ['--version']).status === 0) return false
  if (process.env.KASPER_REQUIRE_PROMTOOL === '1')
    throw new Error(`${binary} not found and KASPER_REQUIRE_PROMTOOL=1 is set`)
  return `${binary} is not installed (apt-get install prometheus; CI installs it)`
}
