import { pino } from 'pino'

export type Logger = pino.Logger

/**
 * Structured JSON logs (pino), one line per event, to stderr so stdout stays free for a command's
 * own output. ISTHMUS_LOG_LEVEL picks the level (default info; tests use warn).
 */
export function createLogger(
  service: string,
  destination: pino.DestinationStream = pino.destination(2),
): Logger {
  return pino({ level: process.env.ISTHMUS_LOG_LEVEL ?? 'info', base: { service } }, destination)
}
