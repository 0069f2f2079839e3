import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')

/** The pass-through processor module that `kasper run` contenders load. */
export const passThroughModule = join(root, 'bench/contenders/passthrough-processor.js')

let nodeArgs: string[] | undefined

/**
 * `kasper` as the image runs it: node's arguments from the Dockerfile's ENTRYPOINT (its flags, then the compiled
 * CLI under /app, here this checkout), with the build rebuilt once per bench run.
 */
export function kasperNodeArgs(): string[] {
  nodeArgs ??= buildAndReadEntrypoint()
  return nodeArgs
}

function buildAndReadEntrypoint(): string[] {
  // package.json's build: the compiled sources and the bundled Kafka library.
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, encoding: 'utf8' })
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`)
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))
  if (!entrypoint) throw new Error('the Dockerfile has no ENTRYPOINT in exec form')
  const [node, ...args] = JSON.parse(entrypoint[1] as string) as string[]
  if (node !== 'node') throw new Error(`the Dockerfile's ENTRYPOINT runs ${node}, not node`)
  return args.map((arg) => (arg.startsWith('/app/') ? join(root, arg.slice('/app/'.length)) : arg))
}
