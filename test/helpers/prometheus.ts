// Prometheus' binaries (Debian's `prometheus` package: prometheus and promtool). Without one the tests needing
// it are skipped and `npm test` names them; with KASPER_REQUIRE_PROMTOOL=1 (CI sets it) they fail instead.
import { skipUnless } from '../../scripts/tools/optional.ts'

/** A node:test skip reason when `binary` is not installed; throws instead when KASPER_REQUIRE_PROMTOOL=1. */
export function prometheusSkip(binary: 'prometheus' | 'promtool'): string | false {
  return skipUnless(binary)
}
