/** Waits `ms`, or less if `signal` aborts; never throws, so loops can check `signal.aborted` after. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

/** Exponential backoff with jitter: attempt 0 waits ~base, doubling up to `max`. */
export function backoffMs(attempt: number, base = 50, max = 5_000): number {
  const ceiling = Math.min(max, base * 2 ** attempt)
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
}
