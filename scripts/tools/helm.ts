// Helm for the chart tests, provisioned as the harness provisions Redis: KASPER_HELM, .tools/bin/helm, helm on
// the PATH, else built into .tools/bin with `go install` through the Go module proxy (Debian packages no Helm).
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { findOnPath, runCommand } from '../services/process.ts'
import { localHelm, toolAvailable } from './optional.ts'

export const helmVersion = process.env.HELM_VERSION ?? 'v3.22.0'

export type HelmProvision = { ready: true; installed: boolean } | { ready: false; why: string }

/** Makes `helm` runnable (see toolCommand); says why not when it cannot (no Go toolchain, a failed build). */
export async function provisionHelm(log: (line: string) => void = console.error): Promise<HelmProvision> {
  if (toolAvailable('helm')) return { ready: true, installed: false }
  if (process.env.KASPER_HELM)
    return { ready: false, why: `KASPER_HELM=${process.env.KASPER_HELM} does not run` }
  if (!findOnPath('go'))
    return { ready: false, why: 'Helm is missing and there is no Go toolchain to build it' }
  log(`installing helm ${helmVersion} into ${dirname(localHelm)} (go install through the Go module proxy)`)
  mkdirSync(dirname(localHelm), { recursive: true })
  // Built in a staging folder and moved in whole: a concurrent run never finds half a binary.
  const staging = mkdtempSync(`${localHelm}.staging-`)
  try {
    const result = await runCommand('go', ['install', `helm.sh/helm/v3/cmd/helm@${helmVersion}`], {
      env: { ...process.env, GOBIN: staging, GOFLAGS: '-mod=mod' },
    })
    if (result.status !== 0)
      return { ready: false, why: `go install helm failed: ${result.output.trim().split('\n').at(-1)}` }
    if (!existsSync(localHelm)) renameSync(join(staging, 'helm'), localHelm)
    return { ready: true, installed: true }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}
