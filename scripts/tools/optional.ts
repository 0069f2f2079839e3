// The programs some test suites need beyond Node: Helm is provisioned like Redis (scripts/tools/helm.ts);
// the others need root to install, so without them their suites are skipped and `npm test` ends naming each
// one with the command that enables it. A KASPER_REQUIRE_* variable (CI sets them) turns the skip into a failure.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { projectDir } from '../services/paths.ts'

export interface OptionalTool {
  /** The program as the suites run it. */
  name: 'helm' | 'promtool' | 'prometheus' | 'chromium'
  /** Set to 1 (or any value for helm, as CI always did), a missing tool fails the suites instead. */
  requireVariable: string
  /** The command that makes the suites run. */
  enable: string
  /** The suites that need it, as paths from the project's folder. */
  suites: string[]
}

export const localHelm = join(projectDir, '.tools/bin/helm')

export const optionalTools: readonly OptionalTool[] = [
  {
    name: 'helm',
    requireVariable: 'KASPER_REQUIRE_HELM',
    enable: 'install Go (npm test then installs Helm into .tools/bin) or set KASPER_HELM',
    suites: [
      'test/packaging/helm.test.ts',
      'test/packaging/alerts.test.ts',
      'test/integration/dashboard-queries.test.ts',
    ],
  },
  {
    name: 'promtool',
    requireVariable: 'KASPER_REQUIRE_PROMTOOL',
    enable: 'apt-get install prometheus',
    suites: ['test/packaging/alerts.test.ts'],
  },
  {
    name: 'prometheus',
    requireVariable: 'KASPER_REQUIRE_PROMTOOL',
    enable: 'apt-get install prometheus',
    suites: ['test/integration/dashboard-queries.test.ts'],
  },
  {
    name: 'chromium',
    requireVariable: 'KASPER_REQUIRE_CHROMIUM',
    enable: 'apt-get install chromium',
    suites: ['test/integration/status-page.test.ts'],
  },
]

/** The command that runs `name`: Helm from KASPER_HELM or .tools/bin first, the others from the PATH. */
export function toolCommand(name: OptionalTool['name']): string {
  if (name !== 'helm') return name
  return process.env.KASPER_HELM ?? (existsSync(localHelm) ? localHelm : 'helm')
}

const versionFlag: Record<OptionalTool['name'], string[]> = {
  helm: ['version', '--short'],
  promtool: ['--version'],
  prometheus: ['--version'],
  chromium: ['--version'],
}

export function toolAvailable(name: OptionalTool['name']): boolean {
  const result = spawnSync(toolCommand(name), versionFlag[name], { stdio: 'ignore', timeout: 60_000 })
  return result.status === 0
}

const toolNamed = (name: OptionalTool['name']): OptionalTool =>
  optionalTools.find((tool) => tool.name === name)!

/**
 * For a suite: false when every tool it needs is there, else the node:test skip reason naming the tool and
 * the command that enables it. Throws when the tool's KASPER_REQUIRE_* variable is set.
 */
export function skipUnless(...names: OptionalTool['name'][]): string | false {
  return skipReason(names, toolAvailable, process.env)
}

/** skipUnless, given how to tell a tool is there and the environment. */
export function skipReason(
  names: readonly OptionalTool['name'][],
  available: (name: OptionalTool['name']) => boolean,
  env: NodeJS.ProcessEnv,
): string | false {
  const missing = names.filter((name) => !available(name)).map(toolNamed)
  for (const tool of missing) {
    if (env[tool.requireVariable])
      throw new Error(`${tool.name} not found (${toolCommand(tool.name)}) and ${tool.requireVariable} is set`)
  }
  return missing.length === 0
    ? false
    : missing.map((tool) => `${tool.name} is not installed (${tool.enable})`).join('; ')
}

/**
 * The line `npm test` ends with when some of `files` are skipped for a missing tool: each suite and the
 * command that enables it; undefined when none is.
 */
export function skippedSuitesLine(
  files: readonly string[],
  available: (name: OptionalTool['name']) => boolean = toolAvailable,
): string | undefined {
  const skipped = new Map<string, string[]>()
  for (const tool of optionalTools) {
    const suites = tool.suites.filter((suite) => files.includes(suite))
    if (suites.length === 0 || available(tool.name)) continue
    for (const suite of suites) skipped.set(suite, [...(skipped.get(suite) ?? []), tool.enable])
  }
  if (skipped.size === 0) return undefined
  const listed = [...skipped].map(([suite, enable]) => `${suite} (${[...new Set(enable)].join('; ')})`)
  return `skipped for missing tools: ${listed.join(', ')}`
}
