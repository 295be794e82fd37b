import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** One benchmark figure; extra fields (chain, runs, …) are kept in the JSON and shown as columns. */
export type ResultRow = {
  system: string
  operation: string
  value: number
  unit: string
  [extra: string]: string | number
}

/** Prints the rows as a markdown table and writes bench/results/<name>.json for comparison across commits. */
export async function report(name: string, rows: ResultRow[], meta: Record<string, string | number> = {}) {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  const cell = (v: unknown) => (typeof v === 'number' ? formatNumber(v) : String(v ?? ''))
  const lines = [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map((c) => (c === 'value' ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${columns.map((c) => cell(r[c])).join(' | ')} |`),
  ]
  console.log(`\n## ${name}\n`)
  for (const [key, value] of Object.entries(meta)) console.log(`- ${key}: ${value}`)
  console.log(`\n${lines.join('\n')}\n`)
  const dir = join(process.cwd(), 'bench/results')
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, `${name}.json`), `${JSON.stringify(rows, null, 2)}\n`)
  await writeFile(
    join(dir, `${name}.md`),
    `# ${name}\n\n${Object.entries(meta)
      .map(([k, v]) => `- ${k}: ${v}`)
      .join('\n')}\n\n${lines.join('\n')}\n`,
  )
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US')
  return v.toLocaleString('en-US', { maximumFractionDigits: 2 })
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
