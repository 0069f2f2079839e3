import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sparkline } from '../../src/admin/status-page/sparkline.ts'

const pointsOf = (svg: string) =>
  /<polyline[^>]* points="([^"]*)"/
    .exec(svg)![1]!
    .split(' ')
    .filter(Boolean)
    .map((pair) => pair.split(',').map(Number))

test('a sparkline draws every known value, newest at the right edge, the maximum at the top', () => {
  const svg = sparkline(
    [
      { atMs: 0, value: 0 },
      { atMs: 1000, value: undefined },
      { atMs: 2000, value: 10 },
      { atMs: 4000, value: 5 },
    ],
    { label: 'lag', spanMs: 60_000, width: 100, height: 21 },
  )
  assert.match(svg, /data-points="3"/)
  assert.match(svg, /<title>lag: now 5, max 10<\/title>/)
  assert.deepEqual(pointsOf(svg), [
    [0, 20],
    [50, 1],
    [100, 10.5],
  ])
})

test('points older than the span are clamped to the left edge; no data draws nothing', () => {
  const svg = sparkline(
    [
      { atMs: 0, value: 1 },
      { atMs: 10_000, value: 1 },
    ],
    { label: 'records/s', spanMs: 5000, width: 100 },
  )
  assert.deepEqual(
    pointsOf(svg).map(([x]) => x),
    [0, 100],
  )
  assert.match(sparkline([], { label: 'lag', spanMs: 1000 }), /data-points="0".*no data yet/)
})
