/**
 * The fields the Kafka client libraries, Node's sockets and Kasper put on an error, as this module reads
 * them: kafkajs's `type` (an error name such as NOT_LEADER_OR_FOLLOWER) and `broker` ("host:port"),
 * @platformatic/kafka's `apiId`/`apiCode` (its ProtocolError) and `code` (PLT_KFK_…), Node's socket `code`
 * (ECONNREFUSED…) with `address` and `port`, and Kasper's own markers.
 */
export interface ErrorNode {
  name?: unknown
  message?: unknown
  code?: unknown
  type?: unknown
  apiId?: unknown
  apiCode?: unknown
  broker?: unknown
  address?: unknown
  port?: unknown
  transient?: unknown
  service?: unknown
  retriable?: unknown
  canRetry?: unknown
  hasStaleMetadata?: unknown
  errors?: unknown
  cause?: unknown
}

/** How deep wrappers of wrappers are followed (the libraries nest 2 or 3). */
const depthLimit = 8

const inner = (node: ErrorNode): unknown[] => [
  ...(Array.isArray(node.errors) ? node.errors : []),
  ...(node.cause ? [node.cause] : []),
]

/**
 * The one walker of an error's causes: `error` and everything it wraps (its `cause`, and the `errors` of an
 * aggregate or of a library's retry), depth first, each with its depth and whether it wraps nothing.
 */
export function* errorNodes(
  error: unknown,
  depth = 0,
): Generator<{ node: ErrorNode; depth: number; leaf: boolean }> {
  if (!error || typeof error !== 'object' || depth > depthLimit) return
  const node = error as ErrorNode
  const nested = inner(node)
  yield { node, depth, leaf: nested.length === 0 }
  for (const next of nested) yield* errorNodes(next, depth + 1)
}

/** True when `error` or anything it wraps satisfies `test`. */
export function someCause(error: unknown, test: (node: ErrorNode) => boolean): boolean {
  for (const { node } of errorNodes(error)) if (test(node)) return true
  return false
}

/** The innermost errors: what actually went wrong under the wrappers ("metadata failed 4 times", …). */
export function rootCauses(error: unknown): ErrorNode[] {
  return [...errorNodes(error)].filter((entry) => entry.leaf).map((entry) => entry.node)
}
