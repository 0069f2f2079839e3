import { createRequire } from 'node:module'

interface RequestQueue {
  pending: unknown[]
  throttledUntil: number
  scheduleCheckPendingRequests(): void
}

/**
 * kafkajs 2.2.4's RequestQueue schedules its next check of pending requests at `throttledUntil - now` even
 * when nothing is pending and no throttle is in force: a negative delay, which Node runs after 1 ms and
 * reports with a TimeoutNegativeWarning, and whose check schedules the next one: a 1 ms loop per connection.
 * With nothing pending and no throttle there is nothing to check (a new request or a throttle schedules
 * again), so the check is not scheduled then. Applied once, when the client module loads.
 */
export function patchRequestQueue(): void {
  const require = createRequire(import.meta.url)
  const prototype = (require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue })
    .prototype
  const schedule = prototype.scheduleCheckPendingRequests
  if ((schedule as { kasperPatched?: boolean }).kasperPatched) return
  const patched = function (this: RequestQueue) {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return
    schedule.call(this)
  }
  prototype.scheduleCheckPendingRequests = Object.assign(patched, { kasperPatched: true })
}
