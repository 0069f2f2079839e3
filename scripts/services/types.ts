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

/** One loopback service the tests need: one process, or several (a cluster's nodes). */
export interface ServiceDefinition {
  name: 'kafka' | 'kafka-cluster' | 'redis' | 'elasticsearch' | 'schema-registry'
  ports: number[]
  /** Environment variables telling tests where the service is. */
  testEnv: Record<string, string>
  /** Variables that, when one is already set, point tests at an external server instead of this one. */
  overrideVariables: string[]
  readyTimeoutMs: number
  stopTimeoutMs: number
  /**
   * The configuration the processes start with (a server.properties), as this checkout would write it: a
   * running service started with other settings (by an older checkout) is restarted rather than reused.
   */
  settings?(): string
  /** Fetches binaries if needed and prepares `runDir` (fresh and empty); returns how to start each process. */
  prepare(runDir: string): Promise<LaunchPlan | LaunchPlan[]>
  /**
   * Ready, and the server answering is the one started with `identity`; with `node` (an index into the
   * plans), only that process of a multi-process service is asked about.
   */
  healthy(identity: string, node?: number): Promise<boolean>
}
