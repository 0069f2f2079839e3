import { existsSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import type * as z from 'zod'
import type { ConfigurationError } from '../processor/errors.ts'
import { secretKeys } from './derive.ts'
import { applyEnvironment, type Origin } from './env.ts'
import { ConfigFileError } from './errors.ts'
import { configSchema, type KasperConfig, type RelatedKeys } from './schema.ts'
import { resolveSerdesFiles } from './serdes.ts'

type Env = Record<string, string | undefined>

const describeValue = (value: unknown): string =>
  Array.isArray(value)
    ? 'a list'
    : value === null
      ? 'null'
      : typeof value === 'object'
        ? 'a mapping'
        : JSON.stringify(value)

const expectedType: Partial<Record<string, string>> = {
  array: 'a list',
  int: 'an integer',
  object: 'a mapping',
  record: 'a mapping',
}

/** Messages a user reads: "required", "must be a number, got "abc"" rather than zod's generic wording. */
const errorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'required'
    const expected = expectedType[issue.expected] ?? `a ${issue.expected}`
    // A secret's value is never printed, whatever YAML made of it (password: 9081726354 is a number).
    if (secretKeys.has(String(issue.path?.at(-1))))
      return `must be ${expected}, got ${issue.input === null ? 'null' : `a ${typeof issue.input}`} (quote it in YAML)`
    return `must be ${expected}, got ${describeValue(issue.input)}`
  }
  // A record's key (a store's name) that breaks the key's rule: the rule, not zod's "Invalid key in record".
  if (issue.code === 'invalid_key') return issue.issues[0]?.message
  if (issue.code === 'invalid_value') {
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(issue.input)}`
  }
  if (issue.code === 'unrecognized_keys')
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`
  if (issue.code === 'invalid_union') {
    if (issue.note === 'No matching discriminator')
      return `must be one of map, multi-map, redis, multi-redis, elasticsearch, multi-elasticsearch`
    return `not valid: got ${describeValue(issue.input)}`
  }
  return undefined
}

/** The other keys (dotted, from the top) an issue names: a cross-key check's, or the unknown keys found. */
function relatedKeys(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => [...issue.path, key].join('.'))
  if (issue.code === 'custom') return (issue.params as Partial<RelatedKeys> | undefined)?.relatedKeys ?? []
  return []
}

const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (text, key) =>
      typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
    '',
  )

/** `KASPER_BATCH_SIZE (processor.batchSize): reason`, or with a derived value `… (instance.index = 7, …)`. */
const blamingVariable = (path: string, origin: Origin, reason: string): string =>
  `${origin.variable} (${origin.derivation ? `${path} = ${origin.derivation}` : path}): ${reason}`

/** Where each loaded configuration's values came from, for problems found after loading. */
const loadedOrigins = new WeakMap<KasperConfig, ReadonlyMap<string, Origin>>()

/**
 * A configuration problem found after loading (against Kafka's metadata, for example), blamed like the
 * loader's own: on the KASPER_* variable that set one of its `keys`, else on `file`.
 */
export function blameLoaded(config: KasperConfig, file: string, error: ConfigurationError): ConfigFileError {
  const origins = loadedOrigins.get(config) ?? new Map<string, Origin>()
  for (const key of error.keys) {
    const origin = originOf(key.split('.'), origins)
    const reason = error.message.replace(/^[\w.[\]]+: /, '')
    if (origin) return new ConfigFileError(undefined, [blamingVariable(key, origin, reason)])
  }
  return new ConfigFileError(file, [error.message])
}

/** The variable that set `path` or a key above it (a list item's problem is its list's variable's). */
function originOf(path: readonly PropertyKey[], origins: ReadonlyMap<string, Origin>): Origin | undefined {
  for (let length = path.length; length > 0; length--) {
    const origin = origins.get(path.slice(0, length).map(String).join('.'))
    if (origin) return origin
  }
  return undefined
}

function readSecretFile(
  file: string,
  field: string,
  baseDir: string,
  problems: string[],
): string | undefined {
  const path = isAbsolute(file) ? file : resolve(baseDir, file)
  try {
    return readFileSync(path, 'utf8').trim()
  } catch (error) {
    problems.push(`${field}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
    return undefined
  }
}

/** Reads `*File` secrets, checks TLS files and the processor module, and makes paths absolute. */
function resolveFiles(config: KasperConfig, baseDir: string): string[] {
  const problems: string[] = []
  const { sasl, tls } = config.kafka
  if (sasl) {
    if (sasl.passwordFile)
      sasl.password = readSecretFile(sasl.passwordFile, 'kafka.sasl.passwordFile', baseDir, problems)
    else if (sasl.password === undefined) {
      problems.push(
        'kafka.sasl.password: required (set KASPER_KAFKA_SASL_PASSWORD or kafka.sasl.passwordFile)',
      )
    }
  }
  if (tls) {
    for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
      const file = tls[key]
      if (file === undefined) continue
      tls[key] = isAbsolute(file) ? file : resolve(baseDir, file)
      if (!existsSync(tls[key])) problems.push(`kafka.tls.${key}: no such file ${tls[key]}`)
    }
  }
  for (const [name, store] of Object.entries(config.stores)) {
    if ('passwordFile' in store && store.passwordFile) {
      store.password = readSecretFile(store.passwordFile, `stores.${name}.passwordFile`, baseDir, problems)
    }
  }
  problems.push(...resolveSerdesFiles(config.serdes, baseDir))
  const module = config.processor.module
  config.processor.module = isAbsolute(module) ? module : resolve(baseDir, module)
  if (!existsSync(config.processor.module)) {
    problems.push(`processor.module: no such file ${config.processor.module}`)
  }
  return problems
}

/** Validates a parsed configuration object; `source` names it in errors, `baseDir` anchors relative paths. */
export function parseConfig(
  raw: unknown,
  options: { source: string; baseDir: string; env?: Env },
): KasperConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigFileError(options.source, ['must be a mapping with kafka and processor sections'])
  }
  const { config, origins } = applyEnvironment(raw as Record<string, unknown>, options.env ?? process.env)
  const result = configSchema.safeParse(config, { error: errorMap })
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = formatPath(issue.path) || '(top level)'
      const origin = originOf(issue.path, origins)
      if (origin) return { fromFile: false, text: blamingVariable(path, origin, issue.message) }
      // A check across keys, or an unknown key, is the variable's that set one of the keys involved.
      for (const key of relatedKeys(issue)) {
        const related = originOf(key.split('.'), origins)
        if (related)
          return { fromFile: false, text: blamingVariable(key, related, `${path}: ${issue.message}`) }
      }
      return { fromFile: true, text: `${path}: ${issue.message}` }
    })
    throw new ConfigFileError(
      problems.some((p) => p.fromFile) ? options.source : undefined,
      problems.map((p) => p.text),
    )
  }
  const problems = resolveFiles(result.data, options.baseDir)
  if (problems.length > 0) throw new ConfigFileError(options.source, problems)
  loadedOrigins.set(result.data, origins)
  return result.data
}

/** Reads a YAML (or JSON) configuration file and applies KASPER_* environment overrides. */
export function loadConfig(file: string, env: Env = process.env): KasperConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ConfigFileError(file, [
      code === 'ENOENT' ? 'no such file' : `cannot read: ${code ?? String(error)}`,
    ])
  }
  let raw: unknown
  try {
    raw = parseYaml(text, { prettyErrors: true })
  } catch (error) {
    throw new ConfigFileError(file, [`not valid YAML: ${(error as Error).message.split('\n')[0]}`])
  }
  return parseConfig(raw ?? {}, { source: file, baseDir: dirname(resolve(file)), env })
}
