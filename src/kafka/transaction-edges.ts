/**
 * Test-only: `KASPER_TEST_KILL_AT_EDGE=<edge>[@<n>]` makes the process kill itself (SIGKILL) the n-th time
 * (the first by default) one of its exactly-once transactions reaches `edge`, so that the fault suite can
 * kill a worker at a precise point of the transaction. Unset (everywhere but that suite), `killAtEdge` is
 * undefined and each edge costs one check.
 */
export const transactionEdges = ['after-produce', 'after-txn-offset-commit', 'before-end-txn'] as const
export type TransactionEdge = (typeof transactionEdges)[number]

const variable = 'KASPER_TEST_KILL_AT_EDGE'

function parse(value: string | undefined): ((edge: TransactionEdge) => void) | undefined {
  if (!value) return undefined
  const match = /^([a-z-]+)(?:@([1-9]\d*))?$/.exec(value)
  const target = match?.[1] as TransactionEdge | undefined
  if (!match || !target || !transactionEdges.includes(target))
    throw new Error(
      `${variable}: "${value}" is not <edge>[@<n>] with edge one of ${transactionEdges.join(', ')}`,
    )
  let remaining = Number(match[2] ?? 1)
  return (edge) => {
    if (edge === target && --remaining === 0) process.kill(process.pid, 'SIGKILL')
  }
}

export const killAtEdge = parse(process.env[variable])
