#!/usr/bin/env node
import { StopSignals } from '../runtime/signals.ts'

// Before anything else loads: a SIGTERM while modules load or the configuration is read stops cleanly.
const signals = new StopSignals()
const { runCli } = await import('./commands.ts')
const code = await runCli(
  process.argv.slice(2),
  {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  },
  signals,
)
process.exit(code)
