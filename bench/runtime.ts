import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')

/** The pass-through processor module that `kasper run` contenders load. */
export const passThroughModule = join(root, 'bench/contenders/passthrough-processor.js')

let built = false

/** `kasper run` as users run it: the compiled build (the image's dist/), rebuilt once per bench run. */
export function kasperCli(): string {
  if (!built) {
    // package.json's build: the compiled sources and the bundled Kafka library.
    const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, encoding: 'utf8' })
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`)
    built = true
  }
  return join(root, 'dist/src/cli/main.js')
}
