/** A point of a trend: when (ms) and the value then; undefined values are left out. */
export interface TrendPoint {
  atMs: number
  value: number | undefined
}

export interface SparklineOptions {
  /** What the line shows, for the title (a tooltip without JavaScript) and the test's selectors. */
  label: string
  /** The longest time span the x axis covers, ending at the last point (shorter while the data is). */
  spanMs: number
  width?: number
  height?: number
}

const round = (value: number) => Math.round(value * 10) / 10

/**
 * A trend as an inline SVG polyline: time on x (the last `spanMs`, ending at the newest point), the value on
 * y from 0 to the window's maximum. `data-points` says how many points it draws.
 */
export function sparkline(points: readonly TrendPoint[], options: SparklineOptions): string {
  const width = options.width ?? 160
  const height = options.height ?? 28
  const known = points.filter((p): p is { atMs: number; value: number } => p.value !== undefined)
  const end = known.at(-1)?.atMs ?? 0
  const span = Math.max(1, Math.min(options.spanMs, end - (known[0]?.atMs ?? end)))
  const max = Math.max(0, ...known.map((p) => p.value))
  const x = (atMs: number) => round(width - ((end - atMs) / span) * width)
  const y = (value: number) => round(height - 1 - (max === 0 ? 0 : (value / max) * (height - 2)))
  const coordinates = known.map((p) => `${Math.max(0, x(p.atMs))},${y(p.value)}`).join(' ')
  const latest = known.at(-1)?.value
  const title = `${options.label}: ${latest === undefined ? 'no data yet' : `now ${round(latest)}, max ${round(max)}`}`
  return `<svg class="trend" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" data-trend="${options.label}" data-points="${known.length}"><title>${title}</title><polyline fill="none" stroke="currentColor" stroke-width="1.5" points="${coordinates}"/></svg>`
}
