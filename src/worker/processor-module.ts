import { existsSync, readFileSync } from 'node:fs'
import { dirname, extname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { KasperConfig } from '../config/types.ts'
import type { Logger } from '../logging/types.ts'
import type { MetricsProvider } from '../metrics/types.ts'
import type { MessageProcessor } from '../processor/types.ts'
import type { MultiStore, Store } from '../stores/types.ts'

/** What the runtime hands the user's factory for each partition. */
export interface ProcessorContext {
  partition: number
  /** Carries processor, worker and partition in every line. */
  logger: Logger
  metrics: MetricsProvider
  /** The whole (validated) configuration; secrets included, so do not log it. */
  config: KasperConfig
  /** `processor.options` from the configuration file. */
  options: Record<string, unknown>
  /** Stores declared under `stores:`, by name, shared by the partitions of this worker thread. */
  stores: ReadonlyMap<string, Store | MultiStore>
}

/**
 * The user's module exports this as `default` or as `createProcessor`. The type parameters are what the
 * configured serdes decode inputs to and encode outputs from (see MessageProcessor).
 */
export type ProcessorFactory<
  Key = Buffer | null,
  Value = Buffer | null,
  OutKey = Buffer | string | null,
  OutValue = Buffer | string | null,
> = (
  context: ProcessorContext,
) => MessageProcessor<Key, Value, OutKey, OutValue> | Promise<MessageProcessor<Key, Value, OutKey, OutValue>>

/** The processor module cannot be used; retrying will not help. */
export class ProcessorModuleError extends Error {
  override name = 'ProcessorModuleError'
}

/** The package.json nearest above `file`, and the module type it declares. */
function nearestPackage(file: string): { packageJson: string; type: unknown } | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const packageJson = join(dir, 'package.json')
    if (existsSync(packageJson)) {
      try {
        return {
          packageJson,
          type: (JSON.parse(readFileSync(packageJson, 'utf8')) as { type?: unknown }).type,
        }
      } catch {
        return undefined
      }
    }
    if (dirname(dir) === dir) return undefined
  }
}

/**
 * What to change when Node read an ES module (export, import) as CommonJS: a .cjs/.cts file always is one; a
 * .js/.ts file is in a package of "type": "commonjs" (what `npm init` writes).
 */
function commonJsHint(modulePath: string, error: unknown): string | undefined {
  if (!(error instanceof SyntaxError) || !/\bexport\b|\bimport\b/.test(error.message)) return undefined
  const extension = extname(modulePath)
  const esmExtension = extension.endsWith('ts') ? '.mts' : '.mjs'
  if (extension === '.cjs' || extension === '.cts')
    return `a ${extension} file is CommonJS, and this one uses export or import: rename it to ${esmExtension}, or use module.exports`
  const found = nearestPackage(modulePath)
  if (!found || found.type === 'module') return undefined
  return `Node reads a ${extension} file as CommonJS in a package of "type": ${JSON.stringify(found.type ?? 'commonjs')} (${found.packageJson}), and this one uses export or import: set "type": "module" in that package.json, or rename the file to ${esmExtension}`
}

export async function loadProcessorFactory(modulePath: string): Promise<ProcessorFactory> {
  let loaded: Record<string, unknown>
  try {
    loaded = await import(pathToFileURL(modulePath).href)
  } catch (error) {
    const reason = commonJsHint(modulePath, error) ?? (error instanceof Error ? error.message : String(error))
    throw new ProcessorModuleError(`processor.module: cannot load ${modulePath}: ${reason}`, { cause: error })
  }
  const factory = loaded.createProcessor ?? loaded.default
  if (typeof factory !== 'function') {
    throw new ProcessorModuleError(
      `processor.module: ${modulePath} exports no factory (export default or export createProcessor, a function returning a MessageProcessor)`,
    )
  }
  return factory as ProcessorFactory
}

/** Builds one MessageProcessor per partition; a factory that throws or returns no processor is a module error. */
export async function buildProcessors(
  factory: ProcessorFactory,
  partitions: number[],
  context: (partition: number) => ProcessorContext,
): Promise<Map<number, MessageProcessor>> {
  const processors = new Map<number, MessageProcessor>()
  for (const partition of partitions) {
    let processor: MessageProcessor
    try {
      processor = await factory(context(partition))
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw new ProcessorModuleError(
        `processor.module: the factory threw for partition ${partition}: ${reason}`,
        {
          cause: error,
        },
      )
    }
    if (!processor || typeof processor.process !== 'function') {
      throw new ProcessorModuleError(
        `processor.module: the factory returned no MessageProcessor (an object with a process method) for partition ${partition}`,
      )
    }
    processors.set(partition, processor)
  }
  return processors
}
