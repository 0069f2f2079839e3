// The contenders that are built at bench time (Go programs, JVM classes) and the JVM output counter. A build
// that cannot be made says why: its contenders are listed as skipped and the bench runs on.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { kafkaLibs, kafkaVersion } from '../scripts/services/kafka.ts'
import { copyDependencies } from '../scripts/services/maven.ts'
import { projectDir, stateDir } from '../scripts/services/paths.ts'

export type Build<T> = { ok: true; value: T } | { ok: false; reason: string }

const benchDir = import.meta.dirname

function run(command: string, args: string[], cwd?: string): string | undefined {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' })
  if (result.error) return `cannot run ${command}, is it installed? (${result.error.message})`
  if (result.status !== 0)
    return `${command} failed: ${`${result.stdout}${result.stderr}`.trim().slice(-2000)}`
  return undefined
}

/** Builds the Go module in bench/contenders/<name> into the bench state folder. */
export function buildGo(name: string): Build<string> {
  const binary = join(stateDir('bench'), name)
  // -buildvcs=false: the module sits inside this repository, and stamping needs a git the build may not see.
  // -mod=mod: go.sum is completed from the module proxy when a replaced module's requirements differ.
  const failed = run(
    'go',
    ['build', '-buildvcs=false', '-mod=mod', '-o', binary, '.'],
    join(benchDir, 'contenders', name),
  )
  return failed ? { ok: false, reason: failed } : { ok: true, value: binary }
}

/** Go Kasper's source, beside this repository (the go-kasper module's `replace` points there). */
export const goKasperSource = join(projectDir, '../shared/reference/kasper-go')

export function buildGoKasper(): Build<string> {
  if (!existsSync(join(goKasperSource, 'go.mod'))) {
    return { ok: false, reason: `Go Kasper's source is not at ${goKasperSource}` }
  }
  return buildGo('go-kasper')
}

export interface JvmProgram {
  /** `java` arguments up to the main class: the class path and the logging configuration. */
  javaArgs: string[]
}

async function compileJava(name: string, source: string, libs: string): Promise<Build<JvmProgram>> {
  const classes = join(stateDir('bench'), `${name}-classes`)
  rmSync(classes, { recursive: true, force: true })
  mkdirSync(classes, { recursive: true })
  const failed = run('javac', ['-d', classes, '-cp', `${libs}/*`, source])
  if (failed) return { ok: false, reason: failed }
  return { ok: true, value: { javaArgs: ['-cp', `${classes}:${libs}/*`] } }
}

/** The Kafka Streams pass-through, compiled against kafka-streams of the broker's version from Maven. */
export async function buildKafkaStreams(): Promise<Build<JvmProgram>> {
  const dir = join(benchDir, 'contenders/kafka-streams')
  const libs = join(stateDir('bench'), `kafka-streams-libs-${kafkaVersion}`)
  try {
    await copyDependencies('bench', join(dir, 'pom.xml'), libs, { 'kafka.version': kafkaVersion })
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) }
  }
  const built = await compileJava('kafka-streams', join(dir, 'PassThrough.java'), libs)
  if (!built.ok) return built
  const logging = `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`
  return { ok: true, value: { javaArgs: [logging, ...built.value.javaArgs] } }
}

/** bench/verify/OutputCount.java against the broker's jars (kafka-clients): an independent reader. */
export async function buildOutputCount(): Promise<Build<JvmProgram>> {
  return compileJava('output-count', join(benchDir, 'verify/OutputCount.java'), await kafkaLibs())
}
