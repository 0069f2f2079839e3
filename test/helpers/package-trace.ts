// Which third-party packages a module graph loads: a child Node process imports the given module (on a
// worker thread when asked, with workerData), and a resolve hook on each thread names the package of every
// module imported or required.
import { spawnSync } from 'node:child_process'
import { bundlePath } from '../../scripts/bundle/kafka-library-file.ts'

/** @platformatic/kafka as Kasper loads it (scripts/bundle/kafka-library.ts): its path, and the name traces give it (its specifier). */
export const bundledLibrary = { path: bundlePath, name: '#platformatic-kafka' }

// module.registerHooks: in-thread hooks that also see require(), which libraries loaded on first use go through.
const register = `
import { registerHooks } from 'node:module'
const seen = new Set()
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context)
    const name = resolved.url.endsWith(${JSON.stringify(bundledLibrary.path)})
      ? ${JSON.stringify(bundledLibrary.name)}
      : /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(resolved.url)?.[1]
    if (name && !seen.has(name)) {
      seen.add(name)
      process._rawDebug('loaded-package ' + name)
    }
    return resolved
  },
})`

/** The packages loaded by importing `moduleUrl`, on the main thread or on a worker thread given `workerData`. */
export function loadedPackages(moduleUrl: URL, options: { workerData?: unknown } = {}): Set<string> {
  const registerHooks = `data:text/javascript,${encodeURIComponent(register)}`
  const load =
    options.workerData === undefined
      ? `await import(${JSON.stringify(moduleUrl.href)})`
      : `const { Worker } = await import('node:worker_threads')
         const worker = new Worker(new URL(${JSON.stringify(moduleUrl.href)}), {
           workerData: ${JSON.stringify(options.workerData)},
           execArgv: ['--import', ${JSON.stringify(registerHooks)}],
         })
         await new Promise((resolve, reject) => { worker.on('error', reject); worker.on('exit', resolve) })`
  const child = spawnSync(process.execPath, ['--import', registerHooks, '--input-type=module', '-e', load], {
    encoding: 'utf8',
    timeout: 60_000,
  })
  const lines = child.stderr.split('\n')
  if (child.status !== 0) throw new Error(`importing ${moduleUrl} failed (${child.status}):\n${child.stderr}`)
  return new Set(lines.flatMap((line) => /^loaded-package (\S+)$/.exec(line)?.slice(1) ?? []))
}
