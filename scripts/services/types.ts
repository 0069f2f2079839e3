export interface LaunchPlan {
  command: string
  args: string[]
  cwd: string
  env: NodeJS.ProcessEnv
  uid?: number
  gid?: number
}

/** One loopback service the tests need. */
export interface ServiceDefinition {
  name: 'kafka' | 'redis' | 'elasticsearch'
  ports: number[]
  /** Environment variables telling tests where the service is. */
  testEnv: Record<string, string>
  /** The variable that, when already set, points tests at an external server instead. */
  overrideVariable: string
  readyTimeoutMs: number
  stopTimeoutMs: number
  /** Fetches binaries if needed and prepares `runDir` (fresh and empty); returns how to start. */
  prepare(runDir: string): LaunchPlan
  healthy(): Promise<boolean>
}
