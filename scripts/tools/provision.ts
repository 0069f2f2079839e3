// `node scripts/tools/provision.ts helm`: installs Helm into .tools/bin when it is missing (as `npm test` does).
import { provisionHelm } from './helm.ts'

const result = await provisionHelm()
if (!result.ready) console.error(`provision: ${result.why}`)
process.exit(result.ready ? 0 : 1)
