import type { Logger } from '../core/logger.js'
import { backoffMs, sleep } from '../core/sleep.js'
import type { Store } from '../core/store.js'
import type { MarginCallRow } from './schema.js'

/** Tries per margin call before the webhook is marked failed. */
export const WEBHOOK_MAX_ATTEMPTS = 8
const TIMEOUT_MS = 5_000

/**
 * POSTs every margin call's payload to the operator's webhook, in its own loop so a slow or dead
 * endpoint never delays a liquidation. What is left to deliver is in the database (`webhook_status`
 * pending), so calls made before a restart are still delivered after it. Retries back off
 * exponentially (0.5 s doubling to 30 s), at most WEBHOOK_MAX_ATTEMPTS times.
 */
export class WebhookNotifier {
  private idle: AbortController | undefined

  constructor(
    private readonly db: Store,
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  /** A new call is due: stop waiting now. */
  wake(): void {
    this.idle?.abort()
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const due = this.db
        .prepare(
          "SELECT * FROM margin_calls WHERE webhook_status = 'pending' AND webhook_next_at <= ? ORDER BY id LIMIT 50",
        )
        .all(Date.now()) as MarginCallRow[]
      for (const call of due) {
        if (signal.aborted) return
        await this.deliver(call, signal)
      }
      const next = this.db
        .prepare("SELECT MIN(webhook_next_at) FROM margin_calls WHERE webhook_status = 'pending'")
        .pluck()
        .get() as number | null
      this.idle = new AbortController()
      const wait = next === null ? 1_000 : Math.max(0, Math.min(1_000, next - Date.now()))
      await sleep(wait, AbortSignal.any([signal, this.idle.signal]))
      this.idle = undefined
    }
  }

  private async deliver(call: MarginCallRow, signal: AbortSignal): Promise<void> {
    let error: string | undefined
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: call.payload,
        signal: AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]),
      })
      await response.arrayBuffer().catch(() => undefined)
      if (!response.ok) error = `HTTP ${response.status}`
    } catch (cause) {
      error = (cause as Error).message
    }
    const attempts = call.webhook_attempts + 1
    if (!error) {
      this.db
        .prepare(
          "UPDATE margin_calls SET webhook_status = 'delivered', webhook_attempts = ?, webhook_error = NULL WHERE id = ?",
        )
        .run(attempts, call.id)
      this.logger.info({ call: call.id, account: call.account, attempts }, 'margin call webhook delivered')
      return
    }
    const failed = attempts >= WEBHOOK_MAX_ATTEMPTS
    this.db
      .prepare(
        'UPDATE margin_calls SET webhook_status = ?, webhook_attempts = ?, webhook_next_at = ?, webhook_error = ? WHERE id = ?',
      )
      .run(
        failed ? 'failed' : 'pending',
        attempts,
        Date.now() + backoffMs(attempts - 1, 500, 30_000),
        error,
        call.id,
      )
    this.logger.warn(
      { call: call.id, account: call.account, attempts, err: error },
      failed ? 'margin call webhook failed: giving up' : 'margin call webhook failed: will retry',
    )
  }
}
