import { existsSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { servicePort, stateDir } from './paths.ts'
import { launchEnv, requireCommand, runOrFail } from './process.ts'
import type { ServiceDefinition } from './types.ts'

/**
 * rivven-schema from crates.io: a schema registry with Confluent's REST API (Avro, Protobuf, JSON Schema,
 * compatibility checks) and in-memory storage, built once with cargo. Confluent's registry is not on Maven
 * Central, Karapace is not on PyPI, and Apicurio's application needs artifacts Maven Central does not serve here.
 */
const version = process.env.KASPER_SCHEMA_REGISTRY_VERSION ?? '0.0.22'
const port = servicePort(18081)
const url = `http://127.0.0.1:${port}`
const contentType = 'application/vnd.schemaregistry.v1+json'

/** The subject whose presence tells this run's registry apart from another checkout's on the same port. */
const identitySubject = (identity: string) => `kasper-harness-${identity}`

async function binary(): Promise<string> {
  const state = stateDir('schema-registry')
  const root = join(state, `rivven-schema-${version}`)
  const built = join(root, 'bin/rivven-schema')
  if (existsSync(built)) return built
  requireCommand('schema-registry', 'cargo', 'install Rust with rustup (Debian: apt-get install cargo)')
  const partial = `${root}.partial`
  rmSync(partial, { recursive: true, force: true })
  // A build interrupted (a timeout, a killed run) resumes from what it compiled into the kept target folder.
  const target = join(state, 'cargo-target')
  const args = ['install', '--quiet', '--locked', 'rivven-schema', '--version', version, '--root', partial]
  args.push('--target-dir', target)
  await runOrFail('schema-registry', `cargo could not build rivven-schema ${version}`, 'cargo', args)
  renameSync(partial, root)
  rmSync(target, { recursive: true, force: true })
  return built
}

async function registry(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${url}/${path}`, {
    ...init,
    headers: { accept: contentType, 'content-type': contentType },
    signal: AbortSignal.timeout(3000),
  })
}

export const schemaRegistry: ServiceDefinition = {
  name: 'schema-registry',
  ports: [port],
  testEnv: { KASPER_TEST_SCHEMA_REGISTRY_URL: url },
  overrideVariables: ['KASPER_TEST_SCHEMA_REGISTRY_URL'],
  // The first start builds the registry (several minutes on two cores); that happens in prepare, before this.
  readyTimeoutMs: 60_000,
  stopTimeoutMs: 10_000,
  async prepare(runDir) {
    const command = await binary()
    return {
      command,
      args: ['serve', '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn'],
      cwd: runDir,
      env: launchEnv(),
      identity: `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    }
  },
  /** Ours when it holds our identity subject; a fresh registry holding no harness subject is given ours. */
  async healthy(identity) {
    const response = await registry('subjects')
    if (response.status !== 200) return false
    const subjects = (await response.json()) as string[]
    const harness = subjects.filter((subject) => subject.startsWith('kasper-harness-'))
    if (harness.length > 0) return harness.includes(identitySubject(identity))
    const registered = await registry(`subjects/${identitySubject(identity)}/versions`, {
      method: 'POST',
      body: JSON.stringify({ schema: '"string"' }),
    })
    return registered.status === 200
  },
}
