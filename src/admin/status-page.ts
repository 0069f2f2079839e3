import type { PartitionStatus, StatusReport, WorkerStatus } from './status.ts'

/** The page reloads itself (meta refresh): no JavaScript, no front-end build. */
export const statusPageRefreshSeconds = 5

const escapeHtml = (value: unknown): string =>
  String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')

const unknown = '–'
const integer = (value: number | undefined) => (value === undefined ? unknown : value.toLocaleString('en-US'))
const decimal = (value: number | undefined, digits: number) =>
  value === undefined ? unknown : value.toFixed(digits)
const mebibytes = (bytes: number | undefined) =>
  bytes === undefined ? unknown : `${(bytes / 1024 / 1024).toFixed(1)} MiB`

/** A cell whose text is escaped; `field` names the /status field it shows (the browser test reads it). */
const cell = (field: string, text: string, className?: string) =>
  `<td data-field="${field}"${className ? ` class="${className}"` : ''}>${escapeHtml(text)}</td>`

const flag = (name: string, on: boolean) =>
  `<span class="flag ${on ? 'ok' : 'bad'}" data-field="${name}" data-value="${on}">${escapeHtml(name)}: ${on ? 'yes' : 'no'}</span>`

function workerRow(w: WorkerStatus): string {
  return `<tr data-worker="${w.id}">${[
    cell('id', String(w.id)),
    cell('status', w.status, w.status === 'running' ? 'ok' : 'bad'),
    cell('ready', w.ready ? 'yes' : 'no'),
    cell('partitions', w.partitions.join(', ')),
    cell('restarts', String(w.restarts), w.restarts > 0 ? 'warn' : undefined),
    cell('lastHeartbeatAgoMs', w.lastHeartbeatAgoMs === undefined ? unknown : `${w.lastHeartbeatAgoMs} ms`),
    cell('recordsPerSecond', decimal(w.recordsPerSecond, 1)),
    cell('heapUsedBytes', mebibytes(w.heapUsedBytes)),
    cell('lastError', w.lastError ?? '', 'error'),
  ].join('')}</tr>`
}

function partitionRow(worker: number, p: PartitionStatus): string {
  const seen = p.stale ? `stale: last seen ${(p.lastSeenAgoMs / 1000).toFixed(1)} s ago` : 'live'
  return `<tr data-topic="${escapeHtml(p.topic)}" data-partition="${p.partition}"${p.stale ? ' class="stale"' : ''}>${[
    cell('topic', p.topic),
    cell('partition', String(p.partition)),
    cell('worker', String(worker)),
    cell('next', integer(p.next)),
    cell('logEnd', integer(p.logEnd)),
    cell('lag', integer(p.lag), p.lag ? 'warn' : undefined),
    cell('lagSeconds', decimal(p.lagSeconds, 1), p.lagSeconds ? 'warn' : undefined),
    cell('stale', seen, p.stale ? 'warn' : undefined),
  ].join('')}</tr>`
}

const style = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; background: #fff; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.facts { color: #57606a; margin-bottom: .6rem; }
.flag { display: inline-block; padding: .15rem .6rem; border-radius: 1rem; margin-right: .4rem; font-weight: 600; }
.flag.ok { background: #dafbe1; color: #116329; } .flag.bad { background: #ffebe9; color: #a40e26; }
table { border-collapse: collapse; min-width: 40rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: .3rem .7rem; text-align: left; white-space: nowrap; }
th { background: #f6f8fa; } td.ok { color: #116329; } td.bad, td.error { color: #a40e26; } td.warn { color: #9a6700; }
td.error { white-space: normal; max-width: 40rem; } tr.stale td { color: #57606a; font-style: italic; }
footer { margin-top: 1.5rem; color: #57606a; }
`

/** The status page: the same report as /status, as one self-contained HTML document. */
export function renderStatusPage(report: StatusReport): string {
  const processor = String(report.processor ?? '')
  const instance = report.instance as { index?: number; count?: number } | undefined
  const group = report.group as
    | { groupId?: string; state?: string; memberId?: string; generationId?: number; leader?: boolean }
    | undefined
  const assignment = group
    ? `member ${group.memberId ?? unknown} of group ${group.groupId ?? unknown}, ${group.state === 'stable' ? `generation ${group.generationId}${group.leader ? ', leader' : ''}` : `${group.state} (rebalance)`}`
    : `instance ${instance?.index ?? unknown} of ${instance?.count ?? unknown}`
  const partitionRows = report.workers.flatMap((w) => w.progress.map((p) => partitionRow(w.id, p)))
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${statusPageRefreshSeconds}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(processor)} · Kasper</title>
<style>${style}</style>
</head>
<body>
<h1 data-field="processor">${escapeHtml(processor)}</h1>
<div class="facts"><span data-field="instance">${escapeHtml(assignment)}</span>
· up <span data-field="uptimeSeconds">${escapeHtml(report.uptimeSeconds)}</span> s
· <span data-field="recordsPerSecond">${escapeHtml(decimal(report.recordsPerSecond, 1))}</span> records/s
· <span data-field="restarts">${escapeHtml(report.restarts)}</span> restarts</div>
<div>${flag('live', report.live)}${flag('ready', report.ready)}${flag('drained', report.drained)}</div>
<h2>Workers</h2>
<table id="workers">
<thead><tr><th>worker</th><th>state</th><th>ready</th><th>partitions</th><th>restarts</th><th>heartbeat age</th><th>records/s</th><th>heap used</th><th>last error</th></tr></thead>
<tbody>
${report.workers.map(workerRow).join('\n')}
</tbody>
</table>
<h2>Partitions</h2>
<table id="partitions">
<thead><tr><th>topic</th><th>partition</th><th>worker</th><th>next offset</th><th>log end</th><th>lag (records)</th><th>lag (seconds)</th><th>values</th></tr></thead>
<tbody>
${partitionRows.join('\n')}
</tbody>
</table>
<footer>Refreshes every ${statusPageRefreshSeconds} s. Log ends and drained are as of each worker's latest fetch; a worker that is down keeps its partitions at their last known values, marked stale; <a href="/drained">/drained</a> asks Kafka. JSON: <a href="/status">/status</a> · metrics: <a href="/metrics">/metrics</a></footer>
</body>
</html>
`
}
