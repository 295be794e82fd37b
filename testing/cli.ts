/** Runs the real `bin/isthmus` in a child process, for tests of what a user sees. */
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'

export type CliRun = {
  child: ChildProcess
  /** Resolves with the first stdout line matching `pattern`; rejects if the process exits first. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>
  /** SIGKILLs the process if it still runs; for `after` hooks. */
  kill(): void
}

export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliRun {
  const bin = join(options.cwd ?? process.cwd(), 'bin/isthmus')
  // Supervised: a long-running command (a devnet, a service) ends when this process does, even
  // when it dies without running its `after` hooks.
  const child = spawn(bin, args, {
    cwd: options.cwd,
    env: { ...process.env, ISTHMUS_SUPERVISED: '1', ...options.env },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<{
    code: number | null
    signal: NodeJS.Signals | null
    stdout: string
    stderr: string
  }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })))
  return {
    child,
    exited,
    waitForLine(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => done(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${stdout}${stderr}`)),
          timeoutMs,
        )
        const check = () => {
          const line = stdout.split('\n').find((l) => pattern.test(l))
          if (line) done(undefined, line)
        }
        const onExit = () => done(new Error(`exited before a line matching ${pattern}:\n${stdout}${stderr}`))
        const done = (error?: Error, line?: string) => {
          clearTimeout(timer)
          child.stdout.off('data', check)
          child.off('close', onExit)
          if (error) reject(error)
          else resolve(line!)
        }
        child.stdout.on('data', check)
        child.once('close', onExit)
        check()
      })
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    },
  }
}
