import {
  type PartitionHistory,
  ratePerSecond,
  trendSampleIntervalMs,
  trendWindowMs,
} from './partition-history.ts'
import { statusWindowSamples } from './partition-status.ts'
import type { PartitionRow, StatusReport, WorkerStatus } from './status.ts'
import { sparkline, type TrendPoint } from './status-page/sparkline.ts'

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

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`

const age = (seconds: number | undefined) =>
  seconds === undefined
    ? unknown
    : seconds < 120
      ? `${seconds} s ago`
      : seconds < 7200
        ? `${Math.round(seconds / 60)} min ago`
        : `${Math.round(seconds / 3600)} h ago`

/** The last error with its time, age and count; "recovered" once the worker runs again. */
function errorCell(w: WorkerStatus): string {
  if (w.lastError === undefined) return cell('lastError', '')
  const batch = w.lastFailedBatch ? `; failed batch ${w.lastFailedBatch.join(', ')}` : ''
  const when = `${w.lastErrorAt ?? unknown} (${age(w.lastErrorAgeSeconds)}), ${plural(w.errors, 'error')}${batch}`
  const state = w.recovered ? 'recovered' : 'failing'
  return `<td data-field="lastError" data-state="${state}" class="${w.recovered ? 'recovered' : 'error'}">${w.recovered ? '<strong>recovered</strong> · ' : ''}${escapeHtml(w.lastError)}<br><small data-field="lastErrorAt">${escapeHtml(when)}</small></td>`
}

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
    errorCell(w),
  ].join('')}</tr>`
}

const statusClass = { OK: 'ok', WARN: 'warn', STALL: 'bad', STOP: 'bad' } as const

function partitionTrends(history: PartitionHistory, p: PartitionRow): string {
  const samples = history.samples(p.topic, p.partition)
  const rates: TrendPoint[] = samples.map((s, i) => ({
    atMs: s.atMs,
    value: i === 0 ? undefined : ratePerSecond(samples[i - 1]!, s),
  }))
  const lags: TrendPoint[] = samples.map((s) => ({ atMs: s.atMs, value: s.lag }))
  return `<td data-field="trend">${sparkline(rates, { label: 'records/s', spanMs: trendWindowMs })} ${sparkline(lags, { label: 'lag', spanMs: trendWindowMs })}</td>`
}

function partitionRow(p: PartitionRow, history: PartitionHistory): string {
  const seen = p.stale ? `stale: last seen ${(p.lastSeenAgoMs / 1000).toFixed(1)} s ago` : 'live'
  return `<tr data-topic="${escapeHtml(p.topic)}" data-partition="${p.partition}"${p.stale ? ' class="stale"' : ''}>${[
    cell('topic', p.topic),
    cell('partition', String(p.partition)),
    cell('worker', String(p.worker)),
    cell('status', p.status, statusClass[p.status]),
    cell('next', integer(p.next)),
    cell('logEnd', integer(p.logEnd)),
    cell('lag', integer(p.lag), p.lag ? 'warn' : undefined),
    cell('lagSeconds', decimal(p.lagSeconds, 1), p.lagSeconds ? 'warn' : undefined),
    cell('lastCommitAt', p.lastCommitAt ?? unknown),
    cell('deadLettered', String(p.deadLettered), p.deadLettered ? 'warn' : undefined),
    cell('skipped', String(p.skipped), p.skipped ? 'warn' : undefined),
    partitionTrends(history, p),
    cell('stale', seen, p.stale ? 'warn' : undefined),
  ].join('')}</tr>`
}

/** The totals table: lag per topic and for the pod, the oldest record's age, the policy counters. */
function totalsTable(report: StatusReport, history: PartitionHistory): string {
  const { totals } = report
  const topics = Object.entries(totals.lagByTopic).sort(([a], [b]) => a.localeCompare(b))
  const points = history.totals()
  const rates = points.map((t) => ({ atMs: t.atMs, value: t.recordsPerSecond }))
  const lags = points.map((t) => ({ atMs: t.atMs, value: t.lag }))
  const row = (field: string, label: string, value: string, className?: string) =>
    `<tr><th>${escapeHtml(label)}</th>${cell(field, value, className)}</tr>`
  return `<table id="totals">
<tbody>
${topics.map(([topic, lag]) => `<tr data-topic="${escapeHtml(topic)}"><th>lag of ${escapeHtml(topic)}</th>${cell('lagByTopic', integer(lag), lag ? 'warn' : undefined)}</tr>`).join('\n')}
${row('lag', 'lag (pod)', integer(totals.lag), totals.lag ? 'warn' : undefined)}
${row('maxLagSeconds', 'oldest unprocessed record (s)', decimal(totals.maxLagSeconds, 1), totals.maxLagSeconds ? 'warn' : undefined)}
${row('deadLettered', 'dead-lettered', String(totals.deadLettered), totals.deadLettered ? 'warn' : undefined)}
${row('skipped', 'skipped', String(totals.skipped), totals.skipped ? 'warn' : undefined)}
${row('retried', 'retried', String(totals.retried), totals.retried ? 'warn' : undefined)}
${row('timedOut', 'timed out', String(totals.timedOut), totals.timedOut ? 'warn' : undefined)}
${row('errors', 'errors', String(totals.errors), totals.errors ? 'bad' : undefined)}
<tr><th>last 15 min</th><td data-field="trend">${sparkline(rates, { label: 'records/s', spanMs: trendWindowMs, width: 240 })} ${sparkline(lags, { label: 'lag', spanMs: trendWindowMs, width: 240 })}</td></tr>
</tbody>
</table>`
}

interface Facts {
  version?: string
  consumerGroup?: string
  inputTopics?: string[]
  deadLetterTopic?: string
  serdes?: Record<'inputs' | 'outputs', Record<string, { key: string; value: string }>>
  settings?: Record<string, unknown>
  links?: { runbook?: string; dashboard?: string }
}

/** Each topic's key and value serde, inputs then outputs; outputs not named are bytes. */
function serdesText(serdes: Facts['serdes']): string {
  const side = (direction: string, topics: Record<string, { key: string; value: string }>) =>
    Object.entries(topics).map(
      ([topic, { key, value }]) => `${direction} ${topic}: key ${key}, value ${value}`,
    )
  const named = [...side('in', serdes?.inputs ?? {}), ...side('out', serdes?.outputs ?? {})]
  return [...named, 'other outputs: bytes'].join(' · ')
}

function factsList(report: StatusReport): string {
  const facts = report as Facts
  const item = (field: string, label: string, value: string) =>
    `<dt>${escapeHtml(label)}</dt><dd data-field="${field}">${escapeHtml(value)}</dd>`
  const settings = Object.entries(facts.settings ?? {})
    .map(([key, value]) => `${key} ${String(value)}`)
    .join(' · ')
  return `<dl class="facts-list">
${item('consumerGroup', 'consumer group', facts.consumerGroup ?? unknown)}
${item('inputTopics', 'input topics', (facts.inputTopics ?? []).join(', '))}
${item('outputTopics', 'output topics (produced to so far)', report.outputTopics.join(', ') || unknown)}
${item('deadLetterTopic', 'dead-letter topic', facts.deadLetterTopic ?? 'none (errorPolicy.onFailure is not dead-letter)')}
${item('serdes', 'serdes', serdesText(facts.serdes))}
${item('settings', 'settings', settings)}
${item('version', 'Kasper version', facts.version ?? unknown)}
</dl>`
}

function links(report: StatusReport): string {
  const { links: given } = report as Facts
  const link = (href: string | undefined, text: string, field: string) =>
    href ? ` · <a data-field="${field}" href="${escapeHtml(href)}">${text}</a>` : ''
  return `${link(given?.runbook, 'runbook', 'runbook')}${link(given?.dashboard, 'dashboard', 'dashboard')}`
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
td.error, td.recovered { white-space: normal; max-width: 40rem; } td.recovered { color: #57606a; }
tr.stale td { color: #57606a; font-style: italic; }
td.recovered strong { color: #116329; } small { color: #57606a; }
svg.trend { vertical-align: middle; color: #0969da; }
dl.facts-list { display: grid; grid-template-columns: max-content auto; gap: .1rem 1rem; margin: .6rem 0; }
dl.facts-list dt { color: #57606a; } dl.facts-list dd { margin: 0; }
footer { margin-top: 1.5rem; color: #57606a; }
`

/** The status page: the same report as /status, as one self-contained HTML document. */
export function renderStatusPage(report: StatusReport, history: PartitionHistory): string {
  const processor = String(report.processor ?? '')
  const instance = report.instance as { index?: number; count?: number } | undefined
  const group = report.group as
    | { groupId?: string; state?: string; memberId?: string; generationId?: number; leader?: boolean }
    | undefined
  const assignment = group
    ? `member ${group.memberId ?? unknown} of group ${group.groupId ?? unknown}, ${group.state === 'stable' ? `generation ${group.generationId}${group.leader ? ', leader' : ''}` : `${group.state} (rebalance)`}`
    : `instance ${instance?.index ?? unknown} of ${instance?.count ?? unknown}`
  const partitionRows = report.partitions.map((p) => partitionRow(p, history))
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
· <span data-field="restarts" data-value="${report.restarts}">${escapeHtml(plural(report.restarts, 'restart'))}</span>${links(report)}</div>
${factsList(report)}
<div>${flag('live', report.live)}${flag('ready', report.ready)}${flag('drained', report.drained)}</div>
<h2>Totals</h2>
${totalsTable(report, history)}
<h2>Workers</h2>
<table id="workers">
<thead><tr><th>worker</th><th>state</th><th>ready</th><th>partitions</th><th>restarts</th><th>heartbeat age</th><th>records/s</th><th>heap used</th><th>last error</th></tr></thead>
<tbody>
${report.workers.map(workerRow).join('\n')}
</tbody>
</table>
<h2>Partitions</h2>
<table id="partitions">
<thead><tr><th>topic</th><th>partition</th><th>worker</th><th>status</th><th>next offset</th><th>log end</th><th>lag (records)</th><th>lag (seconds)</th><th>last commit</th><th>dead-lettered</th><th>skipped</th><th>last 15 min: records/s, lag</th><th>values</th></tr></thead>
<tbody>
${partitionRows.join('\n')}
</tbody>
</table>
<footer>Refreshes every ${statusPageRefreshSeconds} s. Status (Burrow's terms, over the last ${statusWindowSamples} samplings every ${trendSampleIntervalMs / 1000} s): OK; WARN: lag grows; STALL: lagging and the committed offset does not move; STOP: lagging and its worker is not running. Retries, timeouts and errors are counted per pod (totals). Log ends and drained are as of each worker's latest fetch; a worker that is down keeps its partitions at their last known values, marked stale; <a href="/drained">/drained</a> asks Kafka. JSON: <a href="/status">/status</a> · metrics: <a href="/metrics">/metrics</a></footer>
</body>
</html>
`
}
