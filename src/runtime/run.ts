import { setTimeout as sleep } from 'node:timers/promises'
import type { AdminOptions, startAdminServer } from '../admin/server.ts'
import { instancePartitions, redactConfig, serdesSummary, workerThreadCount } from '../config/index.ts'
import type { KasperConfig } from '../config/types.ts'
import { describeKafkaError, hasKafkaError, isTransient } from '../kafka/index.ts'
import { createLogger, StartupTimeline } from '../logging/index.ts'
import type { Logger } from '../logging/types.ts'
import { PrometheusMetrics } from '../metrics/prometheus.ts'
import { ConfigurationError } from '../processor/errors.ts'
import { consumerGroupId } from '../processor/options.ts'
import { exitCodes } from '../supervisor/exit-codes.ts'
import { workerResourceLimits } from '../supervisor/heap-limits.ts'
import { Supervisor, splitPartitions } from '../supervisor/index.ts'
import { OutageWatch } from '../supervisor/outage.ts'
import { backoffMs } from '../supervisor/restart.ts'
import { describeWorkerStates } from '../supervisor/worker-state.ts'
import { ProcessorModuleError } from '../worker/processor-module.ts'
import type { SerializedError } from '../worker/protocol.ts'
import { StartupError } from './errors.ts'
import { newGroupView, runGroupMember } from './group-mode.ts'
import { partitionCountInThread } from './partition-count.ts'
import { StopSignals } from './signals.ts'
import { statusFacts } from './status-facts.ts'

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

/**
 * A worker's fatal error, rethrown in the main thread so that the CLI prints it on stderr (no stack: the
 * user's to fix) and exits with the code the restart decision chose: 2 for the configuration or the
 * processor module, 1 for Kafka refusing us.
 */
const rethrowable = (error: SerializedError, exitCode: number): Error => {
  if (exitCode !== exitCodes.badConfiguration)
    return new StartupError(`Kafka refused a worker, and no restart can change that: ${error.message}`)
  return error.name === 'ProcessorModuleError'
    ? new ProcessorModuleError(error.message)
    : new ConfigurationError(error.message)
}

/**
 * The input topics' partition count, read on a thread of the worker pool (partitionCountInThread). While Kafka is
 * unreachable (an outage: refused, reset, timed out, a name that does not resolve yet) it waits with the
 * restart backoff, logging once per interval what it cannot reach; what a retry cannot fix (TLS,
 * authentication) is a StartupError. Resolves undefined once `stop` aborts.
 */
async function partitionCount(
  config: KasperConfig,
  supervisor: Supervisor,
  logger: Logger,
  stop: AbortSignal,
): Promise<number | undefined> {
  const outage = new OutageWatch()
  const brokers = config.kafka.brokers.join(', ')
  while (!stop.aborted) {
    try {
      return await partitionCountInThread(config, supervisor)
    } catch (error) {
      if (!isTransient(error)) throw error
      const { failures, downForMs, log } = outage.failed(Date.now())
      const { initialBackoffMs, maxBackoffMs } = config.restart
      const delayMs = backoffMs(failures, initialBackoffMs, maxBackoffMs)
      if (log)
        logger.warn('outage at start: waiting for Kafka; not ready', {
          unreachable: `Kafka (kafka.brokers ${brokers})`,
          downForSeconds: Math.round(downForMs / 1000),
          attempts: failures,
          delayMs,
          error: (error as Error).message,
        })
      await sleep(delayMs, undefined, { signal: stop }).catch(() => {})
    }
  }
  return undefined
}

async function signalledBeforeStart(signals: StopSignals, logger: Logger): Promise<void> {
  logger.info('signal received before the workers started; stopping', { signal: await signals.first })
}

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
      if ((await supervisor.drainReport()).drained) {
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
 * or rejects with the ConfigurationError, ProcessorModuleError or StartupError (Kafka refusing us for good)
 * that stopped a worker.
 */
export async function runKasper(config: KasperConfig, options: RunOptions): Promise<number> {
  const signals = options.signals ?? new StopSignals()
  try {
    return await runUntilStopped(config, options, signals)
  } finally {
    signals.dispose()
  }
}

type AdminServer = Awaited<ReturnType<typeof startAdminServer>>

/** The admin server on admin.host:admin.port; its module (fastify) loads here, while prestarted workers boot. */
async function listenAdmin(
  config: KasperConfig,
  options: Omit<AdminOptions, 'host' | 'port'>,
): Promise<AdminServer> {
  const { host, port } = config.admin
  const { startAdminServer } = await import('../admin/server.ts')
  return startAdminServer({ host, port, ...options }).catch((error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error)
    throw new StartupError(`admin: cannot listen on ${host}:${port}: ${reason}`)
  })
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
  const startup = new StartupTimeline(logger)
  startup.mark('config')
  const metrics = new PrometheusMetrics({ collectDefaultMetrics: true })
  const supervisor = new Supervisor(config, logger, metrics, () => startup.origin())
  const { instance } = config
  const group = instance.assignment === 'group' ? newGroupView(config) : undefined
  const redacted = redactConfig(config)
  const serdes = serdesSummary(config.processor.inputTopics, config.serdes)
  // Static: this instance's partitions, known once Kafka has answered. Group: the group assigns them.
  let partitions: number[] = []
  const staticFacts = statusFacts(config)
  const facts = () => ({
    processor: config.processor.name,
    ...staticFacts,
    instance,
    partitions: group ? group.partitions : partitions,
    ...(group ? { group } : {}),
    serdes,
    config: redacted,
  })
  // The worker threads boot and load the Kafka client library while the admin server loads and starts.
  supervisor.prestart()
  let admin: AdminServer | undefined
  try {
    // Up before Kafka is asked anything, so that a probe sees a process waiting for Kafka as alive, not ready.
    admin = config.admin.enabled
      ? await listenAdmin(config, {
          registry: metrics.registry,
          source: supervisor,
          describe: facts,
          workerStates: describeWorkerStates(),
        })
      : undefined
    if (admin) {
      const address = admin.server.address()
      const port = typeof address === 'object' && address ? address.port : config.admin.port
      logger.info('admin server listening', { url: `http://${config.admin.host}:${port}`, port })
    }
    startup.mark('admin server')
    const stopWaiting = new AbortController()
    void signals.first.then(() => stopWaiting.abort())
    const countPartitions = () => partitionCount(config, supervisor, logger, stopWaiting.signal)
    const count = await countPartitions()
    if (count === undefined) {
      await signalledBeforeStart(signals, logger)
      return exitCodes.ok
    }
    startup.mark('partition count')
    if (instance.assignment === 'group') {
      const view = group!
      const membership = () => runGroupMember(config, instance.group, supervisor, view, logger)
      return await supervise(supervisor, { config, options, signals, logger, membership })
    }
    partitions = instancePartitions(config, count)
    if (partitions.length === 0) {
      throw new ConfigurationError(
        `instance: instance ${instance.index} of ${instance.count} has no partitions to process (fewer partitions than instances)`,
        { keys: ['instance.index', 'instance.count'] },
      )
    }
    const sets = splitPartitions(partitions, workerThreadCount(config))
    const start = () => {
      logger.info('starting workers', {
        instance,
        partitions,
        workers: sets,
        resourceLimits: workerResourceLimits(config.workers.resourceLimits, sets.length),
      })
      supervisor.start(sets)
    }
    return await supervise(supervisor, { config, options, signals, logger, start })
  } finally {
    await Promise.all([admin?.close(), supervisor.discardPrestarted()])
  }
}

/**
 * Starts the workers (static: `start`; group: `membership`, which starts them at each assignment and resolves
 * once the supervisor stopped), and resolves with the exit code once they have stopped.
 */
async function supervise(
  supervisor: Supervisor,
  run: {
    config: KasperConfig
    options: RunOptions
    signals: StopSignals
    logger: Logger
    start?: () => void
    membership?: () => Promise<void>
  },
): Promise<number> {
  const { config, options, signals, logger, start, membership } = run
  let member: Promise<void> = Promise.resolve()
  let membershipError: unknown
  if (signals.count > 0) {
    await signalledBeforeStart(signals, logger)
    void supervisor.stop(await signals.first)
  } else if (membership && config.instance.assignment === 'group') {
    member = membership().catch((error: unknown) => {
      membershipError = error
      void supervisor.stop('group membership failed', exitCodes.failure)
    })
  } else {
    start?.()
  }
  watchSignals(signals, supervisor, logger)
  const stopWatchingDrain = options.exitWhenDrained ? watchDrain(supervisor, logger) : () => {}
  const code = await supervisor.done
  stopWatchingDrain()
  await member
  logger.info('stopped', { exitCode: code })
  if (supervisor.fatalError) throw rethrowable(supervisor.fatalError, code)
  if (membershipError !== undefined) {
    if (membershipError instanceof ConfigurationError) throw membershipError
    const { instance } = config
    if (instance.assignment === 'group' && hasKafkaError(membershipError, 'INVALID_SESSION_TIMEOUT'))
      throw new ConfigurationError(
        `instance.group.sessionTimeoutMs: the broker refuses ${instance.group.sessionTimeoutMs} ms: it must be within the broker's group.min.session.timeout.ms and group.max.session.timeout.ms (6000 and 1800000 by default)`,
        { keys: ['instance.group.sessionTimeoutMs'] },
      )
    throw new StartupError(
      `instance.assignment group: cannot stay in consumer group ${consumerGroupId(config.processor.name)}: ${describeKafkaError(membershipError)}`,
    )
  }
  return code
}
