export interface LaunchPlan {
  command: string
  args: string[]
  cwd: string
  env: NodeJS.ProcessEnv
  uid?: number
  gid?: number
  /** What tells this run's server apart from another checkout's on the same port (cluster id, data dir). */
  identity: string
}

/** One loopback service the tests need. */
export interface ServiceDefinition {
  name: 'kafka' | 'redis' | 'elasticsearch' | 'schema-registry'
  ports: number[]
  /** Environment variables telling tests where the service is. */
  testEnv: Record<string, string>
  /** Variables that, when one is already set, point tests at an external server instead of this one. */
  overrideVariables: string[]
  readyTimeoutMs: number
  stopTimeoutMs: number
  /** Fetches binaries if needed and prepares `runDir` (fresh and empty); returns how to start. */
  prepare(runDir: string): Promise<LaunchPlan>
  /** Ready, and the server answering is the one started with `identity`. */
  healthy(identity: string): Promise<boolean>
}
