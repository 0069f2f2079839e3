/**
 * Environment overrides, applied over the file before validation. Explicit on purpose: every variable is
 * documented in config/example.yaml and README, and a typo in a name cannot silently change a nested key.
 */
type Parse = (value: string) => unknown

const text: Parse = (value) => value
const list: Parse = (value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
const integer: Parse = (value) => (/^-?\d+$/.test(value.trim()) ? Number(value) : value)
const integerOrAuto: Parse = (value) => (value.trim() === 'auto' ? 'auto' : integer(value))
const boolean: Parse = (value) => (value === 'true' ? true : value === 'false' ? false : value)

export const environmentOverrides: ReadonlyArray<{ variable: string; path: string[]; parse: Parse }> = [
  { variable: 'KASPER_KAFKA_BROKERS', path: ['kafka', 'brokers'], parse: list },
  { variable: 'KASPER_KAFKA_CLIENT', path: ['kafka', 'client'], parse: text },
  { variable: 'KASPER_KAFKA_CLIENT_ID', path: ['kafka', 'clientId'], parse: text },
  { variable: 'KASPER_KAFKA_ISOLATION_LEVEL', path: ['kafka', 'isolationLevel'], parse: text },
  { variable: 'KASPER_KAFKA_SASL_MECHANISM', path: ['kafka', 'sasl', 'mechanism'], parse: text },
  { variable: 'KASPER_KAFKA_SASL_USERNAME', path: ['kafka', 'sasl', 'username'], parse: text },
  { variable: 'KASPER_KAFKA_SASL_PASSWORD', path: ['kafka', 'sasl', 'password'], parse: text },
  { variable: 'KASPER_KAFKA_TLS_ENABLED', path: ['kafka', 'tls', 'enabled'], parse: boolean },
  { variable: 'KASPER_PROCESSOR_NAME', path: ['processor', 'name'], parse: text },
  { variable: 'KASPER_PROCESSOR_MODULE', path: ['processor', 'module'], parse: text },
  { variable: 'KASPER_INPUT_TOPICS', path: ['processor', 'inputTopics'], parse: list },
  { variable: 'KASPER_BATCH_SIZE', path: ['processor', 'batchSize'], parse: integer },
  { variable: 'KASPER_BATCH_WAIT_MS', path: ['processor', 'batchWaitMs'], parse: integer },
  { variable: 'KASPER_INITIAL_OFFSET', path: ['processor', 'initialOffset'], parse: text },
  { variable: 'KASPER_INSTANCE_ASSIGNMENT', path: ['instance', 'assignment'], parse: text },
  { variable: 'KASPER_GUARANTEE', path: ['processor', 'guarantee'], parse: text },
  { variable: 'KASPER_INSTANCE_INDEX', path: ['instance', 'index'], parse: integer },
  { variable: 'KASPER_INSTANCE_COUNT', path: ['instance', 'count'], parse: integer },
  { variable: 'KASPER_GROUP_INSTANCE_ID', path: ['instance', 'group', 'instanceId'], parse: text },
  { variable: 'KASPER_WORKER_THREADS', path: ['workers', 'threads'], parse: integerOrAuto },
  { variable: 'KASPER_LOG_FORMAT', path: ['logging', 'format'], parse: text },
  { variable: 'KASPER_LOG_LEVEL', path: ['logging', 'level'], parse: text },
  { variable: 'KASPER_ADMIN_HOST', path: ['admin', 'host'], parse: text },
  { variable: 'KASPER_ADMIN_PORT', path: ['admin', 'port'], parse: integer },
  { variable: 'KASPER_ADMIN_DASHBOARD_URL', path: ['admin', 'dashboardUrl'], parse: text },
  { variable: 'KASPER_ADMIN_RUNBOOK_URL', path: ['admin', 'runbookUrl'], parse: text },
  { variable: 'KASPER_SHUTDOWN_TIMEOUT_MS', path: ['shutdown', 'timeoutMs'], parse: integer },
]

/** KASPER_STORES_<NAME>_PASSWORD sets stores.<name>.password (NAME upper-cased). */
const storePassword = /^KASPER_STORES_([A-Z0-9_]+)_PASSWORD$/

type Env = Record<string, string | undefined>
type Tree = Record<string, unknown>

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {}
    node = node[key] as Tree
  }
  node[path.at(-1)!] = value
}

/** A StatefulSet pod is named <statefulset>-<ordinal>; the ordinal is its instance index. */
function ordinalOf(podName: string): number | undefined {
  const match = /-(\d+)$/.exec(podName)
  return match ? Number(match[1]) : undefined
}

/** Where a key's value came from, when a variable set it: the variable, and how it was derived if not verbatim. */
export interface Origin {
  variable: string
  derivation?: string
}

/**
 * Returns a copy of `raw` with the environment's values applied, and the origin of each key a variable set
 * (by dotted path), so that a problem with the value is blamed on the variable rather than the file.
 */
export function applyEnvironment(raw: Tree, env: Env): { config: Tree; origins: Map<string, Origin> } {
  const config = structuredClone(raw)
  const origins = new Map<string, Origin>()
  const set = (path: string[], value: unknown, origin: Origin) => {
    setPath(config, path, value)
    origins.set(path.join('.'), origin)
  }
  const podName = env.KASPER_POD_NAME
  const ordinal = podName ? ordinalOf(podName) : undefined
  const fileInstance = config.instance as Tree | undefined
  // In group mode the group assigns partitions: a pod name's ordinal means nothing.
  const assignment = env.KASPER_INSTANCE_ASSIGNMENT || fileInstance?.assignment
  if (ordinal !== undefined && env.KASPER_INSTANCE_INDEX === undefined && assignment !== 'group') {
    set(['instance', 'index'], ordinal, {
      variable: 'KASPER_POD_NAME',
      derivation: `${ordinal}, the ordinal of pod ${podName}`,
    })
  }
  for (const { variable, path, parse } of environmentOverrides) {
    const value = env[variable]
    if (value === undefined || value === '') continue
    set(path, parse(value), { variable })
  }
  const stores = typeof config.stores === 'object' && config.stores !== null ? (config.stores as Tree) : {}
  for (const [variable, value] of Object.entries(env)) {
    const match = storePassword.exec(variable)
    if (!match || value === undefined) continue
    const name = Object.keys(stores).find((store) => store.toUpperCase() === match[1])
    if (name === undefined) continue
    set(['stores', name, 'password'], value, { variable })
  }
  return { config, origins }
}
