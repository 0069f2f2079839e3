import { startAdminServer } from '../admin/server.ts'
import { instancePartitions, redactConfig, workerThreadCount } from '../config/index.ts'
import type { KasperConfig } from '../config/types.ts'
import { createLogger } from '../logging/index.ts'
import type { Logger } from '../logging/types.ts'
import { PrometheusMetrics } from '../metrics/prometheus.ts'
import { ConfigurationError } from '../processor/errors.ts'
import { exitCodes } from '../supervisor/exit-codes.ts'
import { Supervisor, splitPartitions } from '../supervisor/index.ts'
import { ProcessorModuleError } from '../worker/processor-module.ts'
import type { SerializedError } from '../worker/protocol.ts'
import { StartupError } from './errors.ts'
import { partitionCountInThread } from './partition-count.ts'
import { StopSignals } from './signals.ts'

export interface RunOptions {
  /** Exit 0 once every assigned partition is processed up to its log end and committed. */
  exitWhenDrained: boolean
  /**
   * Signals caught since the process started (the CLI builds them first thing); without them runKasper
   * catches SIGTERM and SIGINT from its own start.
   */
  signals?: StopSignals
}

const drainPollMs = 250

/** A worker's fatal error, rethrown in the main thread so that the CLI prints it on stderr (no stack: the user's to fix). */
const rethrowable = (error: SerializedError): Error =>
  error.name === 'ProcessorModuleError'
    ? new ProcessorModuleError(error.message)
    : new ConfigurationError(error.message)

function watchSignals(signals: StopSignals, supervisor: Supervisor, logger: Logger): void {
  signals.handle((signal, count) => {
    if (count === 1) {
      logger.info('signal received; finishing batches in flight, then stopping', { signal })
      void supervisor.stop(signal)
    } else {
      supervisor.forceStop(`second signal (${signal})`)
    }
  })
}

function watchDrain(supervisor: Supervisor, logger: Logger): () => void {
  let checking = false
  const timer = setInterval(async () => {
    if (checking || supervisor.stopping || !supervisor.isReady()) return
    checking = true
    try {
      const collected = await supervisor.collect('drain')
      if (collected.every((c) => c.drain?.drained === true)) {
        logger.info('every assigned partition is drained and committed; exiting')
        void supervisor.stop('drained')
      }
    } finally {
      checking = false
    }
  }, drainPollMs)
  return () => clearInterval(timer)
}

/**
 * Runs the supervisor, its worker threads and the admin server until stopped; resolves with the exit code,
 * or rejects with the ConfigurationError or ProcessorModuleError that stopped a worker for good.
 */
export async function runKasper(config: KasperConfig, options: RunOptions): Promise<number> {
  const signals = options.signals ?? new StopSignals()
  try {
    return await runUntilStopped(config, options, signals)
  } finally {
    signals.dispose()
  }
}

async function runUntilStopped(
  config: KasperConfig,
  options: RunOptions,
  signals: StopSignals,
): Promise<number> {
  const logger = createLogger({
    format: config.logging.format,
    level: config.logging.level,
    processor: config.processor.name,
  }).child({ role: 'supervisor' })
  const signalledBeforeStart = async () =>
    logger.info('signal received before the workers started; stopping', { signal: await signals.first })
  const counting = partitionCountInThread(config)
  const count = await Promise.race([counting, signals.first.then(() => undefined)])
  if (count === undefined) {
    counting.catch(() => {})
    await signalledBeforeStart()
    return exitCodes.ok
  }
  const partitions = instancePartitions(config, count)
  const sets = splitPartitions(partitions, workerThreadCount(config))
  if (partitions.length === 0) {
    throw new ConfigurationError(
      `instance: instance ${config.instance.index} of ${config.instance.count} has no partitions to process (fewer partitions than instances)`,
    )
  }
  const metrics = new PrometheusMetrics({ collectDefaultMetrics: true })
  const supervisor = new Supervisor(config, sets, logger, metrics)
  // What /status and the page show about the instance; none of it changes while the process runs.
  const facts = {
    processor: config.processor.name,
    instance: config.instance,
    partitions,
    config: redactConfig(config),
  }
  const admin = config.admin.enabled
    ? await startAdminServer({
        host: config.admin.host,
        port: config.admin.port,
        registry: metrics.registry,
        source: supervisor,
        describe: () => facts,
      }).catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error)
        throw new StartupError(`admin: cannot listen on ${config.admin.host}:${config.admin.port}: ${reason}`)
      })
    : undefined
  if (admin) {
    const address = admin.server.address()
    const port = typeof address === 'object' && address ? address.port : config.admin.port
    logger.info('admin server listening', { url: `http://${config.admin.host}:${port}`, port })
  }
  if (signals.count > 0) {
    await signalledBeforeStart()
    void supervisor.stop(await signals.first)
  } else {
    logger.info('starting workers', {
      instance: config.instance,
      partitions,
      workers: sets,
      resourceLimits: supervisor.resourceLimits,
    })
    supervisor.start()
  }
  watchSignals(signals, supervisor, logger)
  const stopWatchingDrain = options.exitWhenDrained ? watchDrain(supervisor, logger) : () => {}
  const code = await supervisor.done
  stopWatchingDrain()
  await admin?.close()
  logger.info('stopped', { exitCode: code })
  if (supervisor.fatalError) throw rethrowable(supervisor.fatalError)
  return code
}
