import {
  type Abi,
  type Address,
  type Chain,
  type ContractFunctionName,
  type ContractFunctionReturnType,
  createPublicClient,
  decodeFunctionResult,
  encodeFunctionData,
  getAddress,
  type Hex,
  http,
  type LocalAccount,
  type Log,
  maxUint256,
  type PublicClient,
  parseEventLogs,
  type TransactionReceipt,
  type Transport,
} from 'viem'
import { burnMintERC20Abi } from '../../sdk/abi/BurnMintERC20.js'
import { marginEngineAbi } from '../../sdk/abi/MarginEngine.js'
import { priceFeedAbi } from '../../sdk/abi/PriceFeed.js'
import { viemChain } from '../../sdk/client.js'
import { BaseError } from '../../sdk/errors.js'
import { type ChainEntry, chainByName, type Manifest } from '../../sdk/manifest.js'
import type { Logger } from '../core/logger.js'
import { revertReason, shortReason } from '../core/revertReason.js'
import { backoffMs, sleep } from '../core/sleep.js'
import { startService } from '../core/startService.js'
import type { Store } from '../core/store.js'
import { type Settled, TxSender } from '../core/txSender.js'
import { keeperRoutes } from './api.js'
import { keeperMigrations, keeperTxs, type LiquidationRow, type TxRow } from './schema.js'
import { WebhookNotifier } from './webhook.js'

export type KeeperOptions = {
  manifest: Manifest
  /** Signs and pays for margin calls and liquidations, and repays the debt it liquidates (USDC). */
  account: LocalAccount
  logger: Logger
  dbPath: string
  /** HTTP port; 0 picks a free one. */
  port: number
  /** Margin calls are POSTed here as JSON (with retries), when given. */
  webhookUrl?: string
  /** Aborting stops the keeper (like `stop()`). */
  signal?: AbortSignal
  /** The manifest chain of the MarginEngine (default "hub"). */
  hubChain?: string
  /** How often the hub's head is polled (default: a tenth of its block time, 10–50 ms). */
  pollMs?: number
  /** Every indebted account is re-checked at least this often even without events (default 5 s):
   * interest accrues and prices age between events. */
  recheckMs?: number
  /** A liquidation must be expected to earn at least this much, gas included (USD, default 0). */
  minProfitUsd?: number
  /** USD per unit of the hub's native token, for gas costs (default: the hub's PriceFeed.WETH). */
  nativeUsd?: number
  host?: string
}

export type RunningKeeper = { url: string; address: Address; stop(): Promise<void> }

export class KeeperError extends BaseError {
  override name = 'KeeperError'
}

export const WAD = 10n ** 18n
const LOG_CHUNK = 5_000n
/**
 * Triage after a price move by factor f (the largest drop in the block): an account whose last LHF
 * times f is below URGENT is read first, and acted on, before the rest of the book; below PREFETCH
 * its positions are read with its health (one round trip less to liquidate). LHF × f bounds the new
 * LHF from below, since only the collateral of the moved asset loses value.
 */
const URGENT_LHF = 1.25
const PREFETCH_LHF = 1.15
/** How long eth_maxPriorityFeePerGas stays cached. */
const PRIORITY_FEE_TTL_MS = 15_000

/** The engine's return types, from its ABI. */
type EngineView<F extends ContractFunctionName<typeof marginEngineAbi, 'view'>> = ContractFunctionReturnType<
  typeof marginEngineAbi,
  'view',
  F
>
type Health = EngineView<'healthOf'>
type Globals = EngineView<'globalParams'>
type Position = EngineView<'positionsOf'>[number]

type Asset = { feed: Address; decimals: number; liquidationThreshold: bigint }

/** What made the keeper look: the first block with a relevant event, and when the keeper saw it. */
export type Trigger = {
  block: bigint
  /** performance.now() when the keeper learned of the block. */
  seenAt: number
  kind: 'price' | 'account' | 'config' | 'periodic' | 'startup'
  /** The largest relative price drop among the block's price updates (1 = none; 0 = unknown). */
  priceFactor?: number
}

/** The keeper's memory of one account (mirrors its `accounts` row). */
type Known = {
  debtUsd: bigint | undefined
  lhf: bigint | undefined
  callId: number | null
  skipCode: string | null
  error: string | null
}

type Candidate = { account: Address; health: Health }

type Plan =
  | {
      account: Address
      health: Health
      action: 'send'
      target: Position
      repayAmount: bigint
      data: Hex
      gas: bigint
      expected: {
        repaid: bigint
        seized: bigint
        seizedValueUsd: bigint
        gasCostUsd: bigint
        profitUsd: bigint
      }
    }
  | {
      account: Address
      health: Health
      action: 'skip'
      code: string
      reason: string
      target?: Position
      repayAmount?: bigint
      expected?: {
        repaid: bigint
        seized: bigint
        seizedValueUsd: bigint
        gasCostUsd: bigint
        profitUsd: bigint
      }
      gas?: bigint
    }

/** Engine events that change the configuration every account is valued with. */
const CONFIG_EVENTS = new Set([
  'AssetListed',
  'AssetTokenSet',
  'ChainSet',
  'GlobalsSet',
  'RateModelSet',
  'Unpaused',
])
/** Engine events that change one account. */
const ACCOUNT_EVENTS = new Set([
  'Credited',
  'Borrowed',
  'Repaid',
  'Withdrawn',
  'Liquidated',
  'CreditRefunded',
  'InstructionFailed',
])

const watchAbi = [...marginEngineAbi, ...priceFeedAbi.filter((item) => item.type === 'event')] as const
/** Errors a liquidation or a margin call can revert with: the engine's and the token's. */
const errorAbi = [...marginEngineAbi, ...burnMintERC20Abi].filter((item) => item.type === 'error') as Abi

export const lhfNumber = (wad: bigint | string | null | undefined): number | null => {
  if (wad === null || wad === undefined) return null
  const value = BigInt(wad)
  return value === maxUint256 ? null : Number(value) / 1e18
}
const usd = (wad: bigint) => Number(wad) / 1e18
const round = (ms: number) => Math.round(ms * 10) / 10

/**
 * The keeper: follows the hub's MarginEngine and price feeds block by block, keeps every account
 * that ever held collateral in SQLite, and re-checks the accounts an event touched — every
 * indebted account when a price moves — on the state of that very block. Below the margin-call
 * level it records one margin call per episode (log, HTTP, webhook, and the engine's own
 * `marginCall` so the event is on chain); below LHF 1 it liquidates the largest position, up to
 * the close factor, when that pays for itself, and measures how long it took.
 */
export class Keeper {
  readonly client: PublicClient<Transport, Chain>
  readonly hub: ChainEntry
  readonly engine: Address
  readonly sender: TxSender<TxRow>
  readonly pollMs: number
  private readonly recheckMs: number
  private readonly minProfitWad: bigint
  private usdc: Address = '0x'
  private usdcScale = 1n
  private fullCloseLhf = (WAD * 95n) / 100n
  globals: Globals | undefined
  private readonly assets = new Map<number, Asset>()
  /** Every asset's feed (lowercase) and its last answer (undefined until known). */
  private readonly feeds = new Map<string, bigint | undefined>()
  private readonly nativeFeed: Address | undefined
  private readonly known = new Map<Address, Known>()
  /** Accounts with a liquidation in flight: never a second one until it ends. */
  private readonly pending = new Set<Address>()
  scanned = -1n
  private lastFullCheck = 0
  private priority: { fee: bigint; at: number } | undefined
  private baseFee = 0n
  /** The keeper's USDC and the native token's USD price (WAD), as of the last block read. */
  private usdcBalance = 0n
  private nativeUsd = 0n
  /** USDC promised to liquidations in flight, by account. */
  private readonly committed = new Map<Address, bigint>()
  /** Gas a liquidation takes, by the account's number of positions (the engine's loops follow it). */
  private readonly liquidationGas = new Map<number, bigint>()
  /** The last look at the whole book: how many accounts, how many urgent, and how long it took. */
  lastEvaluation:
    | {
        block: string
        trigger: string
        accounts: number
        urgent: number
        urgentMs: number
        readMs: number
        totalMs: number
      }
    | undefined
  readonly webhook: WebhookNotifier | undefined

  constructor(
    readonly db: Store,
    readonly options: KeeperOptions,
  ) {
    const { manifest } = options
    this.hub = chainByName(manifest, options.hubChain ?? 'hub')
    const engine = this.hub.contracts.MarginEngine
    if (!engine) throw new KeeperError(`no MarginEngine on ${this.hub.name} in the manifest`)
    this.engine = getAddress(engine)
    // JSON-RPC batching: the reads of one step (hundreds of healthOf calls) go as one HTTP request.
    this.client = createPublicClient({
      chain: viemChain(this.hub),
      transport: http(this.hub.rpcUrl, { batch: { batchSize: 1_000, wait: 0 }, retryCount: 1 }),
      cacheTime: 0,
    })
    this.pollMs = options.pollMs ?? Math.min(50, Math.max(10, Math.floor((this.hub.blockTimeMs || 100) / 10)))
    this.recheckMs = options.recheckMs ?? 5_000
    this.minProfitWad = BigInt(Math.round((options.minProfitUsd ?? 0) * 1e6)) * 10n ** 12n
    const weth = this.hub.contracts['PriceFeed.WETH']
    this.nativeFeed = weth ? getAddress(weth) : undefined
    this.sender = new TxSender({
      db,
      table: keeperTxs,
      client: this.client,
      account: options.account,
      chainId: this.hub.chainId,
      logger: options.logger,
      errorAbi,
      resendAfterMs: 30_000,
      // A broadcast with no answer fails like a refusal: its liquidation ends, the account is planned again.
      unanswered: 'fail',
    })
    this.webhook = options.webhookUrl
      ? new WebhookNotifier(db, options.webhookUrl, options.logger)
      : undefined
  }

  get address(): Address {
    return this.options.account.address
  }

  private get logger(): Logger {
    return this.options.logger
  }

  /** Everything before the loop: configuration, state from the database, approval, catch-up. */
  async init(): Promise<void> {
    this.checkDatabase()
    await this.loadConfig()
    for (const row of this.db
      .prepare('SELECT address, lhf, debt_usd, call_id, skip_code, error FROM accounts')
      .all() as {
      address: Address
      lhf: string | null
      debt_usd: string | null
      call_id: number | null
      skip_code: string | null
      error: string | null
    }[]) {
      this.known.set(row.address, {
        lhf: row.lhf === null ? undefined : BigInt(row.lhf),
        debtUsd: row.debt_usd === null ? undefined : BigInt(row.debt_usd),
        callId: row.call_id,
        skipCode: row.skip_code,
        error: row.error,
      })
    }
    // Transactions left in flight by an earlier run: read back by hash, or sent again byte for byte.
    await this.settle({ recovering: true })
    // A liquidation whose transaction failed before its row was updated (a crash in between).
    this.db
      .prepare(
        `UPDATE liquidations SET status = 'failed', updated_at = ?,
           reason = (SELECT reason FROM txs WHERE txs.id = liquidations.tx_id)
         WHERE status = 'pending' AND tx_id IN (SELECT id FROM txs WHERE status = 'failed')`,
      )
      .run(Date.now())
    for (const { account, repay_amount } of this.db
      .prepare("SELECT account, repay_amount FROM liquidations WHERE status = 'pending'")
      .all() as { account: Address; repay_amount: string }[]) {
      this.pending.add(account)
      this.committed.set(account, BigInt(repay_amount))
    }
    await this.settle()
    await this.approve()
    const stored = this.db.prepare("SELECT value FROM meta WHERE key = 'scanned_block'").pluck().get() as
      | string
      | undefined
    this.scanned = stored ? BigInt(stored) : BigInt(this.hub.deployBlock ?? 0) - 1n
    const head = await this.client.getBlockNumber()
    const seenAt = performance.now()
    while (this.scanned < head) {
      const to = this.scanned + LOG_CHUNK < head ? this.scanned + LOG_CHUNK : head
      this.apply(await this.logs(this.scanned + 1n, to))
      this.markScanned(to)
    }
    await this.refreshChainState(head)
    await this.sender.prime()
    await this.evaluateBook(new Set(), head, { block: head, seenAt, kind: 'startup' })
    this.logger.info(
      { block: Number(head), accounts: this.known.size, pending: this.pending.size },
      'keeper caught up',
    )
  }

  /** The database belongs to one engine on one chain: refuse another's. */
  private checkDatabase(): void {
    const id = `${this.hub.chainId}:${this.engine}`
    const stored = this.db.prepare("SELECT value FROM meta WHERE key = 'engine'").pluck().get() as
      | string
      | undefined
    if (stored && stored !== id)
      throw new KeeperError(
        `database ${this.options.dbPath} belongs to engine ${stored}, not ${id}: use another --data folder`,
      )
    if (!stored) this.db.prepare("INSERT INTO meta (key, value) VALUES ('engine', ?)").run(id)
  }

  private markScanned(block: bigint): void {
    this.scanned = block
    this.db
      .prepare(
        "INSERT INTO meta (key, value) VALUES ('scanned_block', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(block.toString())
  }

  /** The engine's assets, feeds, timing and thresholds, and its USDC. */
  private async loadConfig(): Promise<void> {
    const read = <T>(functionName: string, args: readonly unknown[] = []) =>
      this.client.readContract({
        address: this.engine,
        abi: marginEngineAbi,
        functionName: functionName as never,
        args: args as never,
      }) as Promise<T>
    const [usdc, fullClose, globals, count] = await Promise.all([
      read<Address>('usdc'),
      read<bigint>('FULL_CLOSE_LHF'),
      read<Globals>('globalParams'),
      read<number>('assetCount'),
    ])
    const decimals = await this.client.readContract({
      address: usdc,
      abi: burnMintERC20Abi,
      functionName: 'decimals',
    })
    this.usdc = usdc
    this.usdcScale = 10n ** BigInt(18 - decimals)
    this.fullCloseLhf = fullClose
    this.globals = globals
    const params = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        read<readonly [{ feed: Address; decimals: number; liquidationThreshold: bigint }, bigint]>(
          'assetParams',
          [i + 1],
        ),
      ),
    )
    const answers = await Promise.all(
      params.map(([p]) =>
        this.client
          .readContract({ address: p.feed, abi: priceFeedAbi, functionName: 'latestRoundData' })
          .then(([, answer]) => answer)
          .catch(() => undefined),
      ),
    )
    this.feeds.clear()
    for (const [i, [p]] of params.entries()) {
      this.assets.set(i + 1, {
        feed: p.feed,
        decimals: p.decimals,
        liquidationThreshold: p.liquidationThreshold,
      })
      this.feeds.set(p.feed.toLowerCase(), answers[i])
    }
  }

  /** The engine takes the repayment with transferFrom: approve it once, for good. */
  private async approve(): Promise<void> {
    const allowance = await this.client.readContract({
      address: this.usdc,
      abi: burnMintERC20Abi,
      functionName: 'allowance',
      args: [this.address, this.engine],
    })
    if (allowance >= maxUint256 / 2n) return
    const data = encodeFunctionData({
      abi: burnMintERC20Abi,
      functionName: 'approve',
      args: [this.engine, maxUint256],
    })
    const [gas, fees] = await Promise.all([
      this.client.estimateGas({ account: this.address, to: this.usdc, data }),
      this.feesNow(),
    ])
    const sent = await this.sender.send({
      kind: 'approve',
      to: this.usdc,
      data,
      gas: (gas * 13n) / 10n,
      ...fees,
    })
    if (sent.error) throw new KeeperError(`could not approve USDC: ${sent.error}`)
    this.logger.info(
      { tx: sent.hash, usdc: this.usdc, engine: this.engine },
      'USDC approved for liquidations',
    )
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline) {
      await this.settle()
      const status = this.db.prepare('SELECT status, reason FROM txs WHERE id = ?').get(sent.id) as {
        status: string
        reason: string | null
      }
      if (status.status === 'confirmed') return
      if (status.status === 'failed') throw new KeeperError(`USDC approval failed: ${status.reason}`)
      await sleep(Math.max(50, this.hub.blockTimeMs / 4), this.options.signal)
    }
    throw new KeeperError('USDC approval not mined within 60 s')
  }

  private async logs(from: bigint, to: bigint): Promise<Log[]> {
    return this.client.getLogs({
      address: [this.engine, ...[...this.feeds.keys()].map((f) => getAddress(f))],
      fromBlock: from,
      toBlock: to,
    })
  }

  /**
   * Learns from a range of logs: new accounts (Credited, Borrowed), the accounts touched, and
   * whether every account needs a look (a price moved, the configuration changed).
   */
  private apply(logs: readonly Log[]): {
    accounts: Set<Address>
    all: boolean
    config: boolean
    trigger?: { block: bigint; kind: Trigger['kind'] }
    priceFactor: number
  } {
    const accounts = new Set<Address>()
    let all = false
    let config = false
    /** Each moved feed's answer before this range. */
    const before = new Map<string, bigint | undefined>()
    let trigger: { block: bigint; kind: Trigger['kind'] } | undefined
    const mark = (block: bigint, kind: Trigger['kind']) => {
      if (!trigger || block < trigger.block) trigger = { block, kind }
      else if (block === trigger.block && kind === 'price') trigger.kind = kind
    }
    for (const log of parseEventLogs({ abi: watchAbi, logs: logs as Log[], strict: false })) {
      const block = log.blockNumber ?? 0n
      const address = log.address.toLowerCase()
      if (address !== this.engine.toLowerCase()) {
        if (this.feeds.has(address) && log.eventName === 'AnswerUpdated') {
          all = true
          mark(block, 'price')
          if (!before.has(address)) before.set(address, this.feeds.get(address))
          this.feeds.set(address, (log.args as { current?: bigint }).current)
        }
        continue
      }
      if (ACCOUNT_EVENTS.has(log.eventName)) {
        const account = getAddress((log.args as { account: Address }).account)
        if (!this.known.has(account)) this.discover(account, block)
        accounts.add(account)
        mark(block, 'account')
      } else if (CONFIG_EVENTS.has(log.eventName)) {
        all = true
        config = true
        mark(block, 'config')
      }
    }
    // The largest drop over the range (0 when a price before it is unknown: everyone is urgent).
    let priceFactor = 1
    for (const [feed, previous] of before) {
      const current = this.feeds.get(feed)
      priceFactor =
        previous && previous > 0n && current && current > 0n
          ? Math.min(priceFactor, Number(current) / Number(previous))
          : 0
    }
    return { accounts, all, config, trigger, priceFactor }
  }

  private discover(account: Address, block: bigint): void {
    this.db
      .prepare('INSERT OR IGNORE INTO accounts (address, discovered_block) VALUES (?, ?)')
      .run(account, Number(block))
    this.known.set(account, { debtUsd: undefined, lhf: undefined, callId: null, skipCode: null, error: null })
    this.logger.debug({ account, block: Number(block) }, 'account discovered')
  }

  /** Every account that can be at risk (it has debt, or it was never read), and `extra`. */
  private watchList(extra: Iterable<Address> = []): Address[] {
    const list = new Set<Address>(extra)
    for (const [account, state] of this.known) if (state.debtUsd !== 0n) list.add(account)
    return [...list]
  }

  async run(signal: AbortSignal): Promise<void> {
    let failures = 0
    while (!signal.aborted) {
      try {
        const worked = await this.tick()
        failures = 0
        if (!worked) await sleep(this.pollMs, signal)
      } catch (error) {
        this.logger.warn({ err: shortReason(error) }, 'keeper step failed, backing off')
        await sleep(backoffMs(failures++, 100, 5_000), signal)
      }
    }
  }

  /** One poll: a new block is read (logs, fees, receipts) and acted on. Returns whether there was work. */
  async tick(): Promise<boolean> {
    const head = await this.client.getBlockNumber({ cacheTime: 0 })
    if (head <= this.scanned) {
      if (Date.now() - this.lastFullCheck < this.recheckMs) return false
      await this.evaluateBook(new Set(), head, { block: head, seenAt: performance.now(), kind: 'periodic' })
      return true
    }
    const seenAt = performance.now()
    const from = this.scanned + 1n
    const to = head - from >= LOG_CHUNK ? from + LOG_CHUNK - 1n : head
    const [logs] = await Promise.all([this.logs(from, to), this.refreshChainState(to), this.settle()])
    const { accounts, all, config, trigger, priceFactor } = this.apply(logs)
    if (config) await this.loadConfig()
    if (all || Date.now() - this.lastFullCheck >= this.recheckMs) {
      await this.evaluateBook(accounts, to, {
        block: trigger?.block ?? to,
        seenAt,
        kind: trigger?.kind ?? 'periodic',
        priceFactor,
      })
    } else if (accounts.size) {
      await this.evaluate([...accounts], to, { block: trigger!.block, seenAt, kind: trigger!.kind })
    }
    this.markScanned(to)
    return true
  }

  /** Fees, the keeper's USDC and the native token's price at `block`: one batched request. */
  private async refreshChainState(block: bigint): Promise<void> {
    const stale = !this.priority || Date.now() - this.priority.at > PRIORITY_FEE_TTL_MS
    const [header, priority, balance, nativeUsd] = await Promise.all([
      this.client.getBlock({ blockNumber: block }),
      stale ? this.client.estimateMaxPriorityFeePerGas() : Promise.resolve(this.priority!.fee),
      this.client.readContract({
        address: this.usdc,
        abi: burnMintERC20Abi,
        functionName: 'balanceOf',
        args: [this.address],
        blockNumber: block,
      }),
      this.nativeUsdWad(block),
    ])
    this.baseFee = header.baseFeePerGas ?? 0n
    if (stale) this.priority = { fee: priority, at: Date.now() }
    this.usdcBalance = balance
    this.nativeUsd = nativeUsd
  }

  private async feesNow(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
    if (!this.priority) await this.refreshChainState(await this.client.getBlockNumber({ cacheTime: 0 }))
    return this.fees()
  }

  /** What the keeper offers: twice the base fee (room for it to rise) plus the node's tip. */
  private fees(): { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } {
    const tip = this.priority?.fee ?? 0n
    return { maxFeePerGas: this.baseFee * 2n + tip, maxPriorityFeePerGas: tip }
  }

  private read<T>(functionName: string, args: readonly unknown[], blockNumber?: bigint): Promise<T> {
    return this.client.readContract({
      address: this.engine,
      abi: marginEngineAbi,
      functionName: functionName as never,
      args: args as never,
      blockNumber,
    }) as Promise<T>
  }

  /**
   * Every account that can be at risk, most urgent first: those an event touched, those never read,
   * and those the block's price drop can have brought near the call level are read and acted on
   * before the rest of the book, so a large book does not delay the liquidations that matter.
   */
  private async evaluateBook(touched: ReadonlySet<Address>, block: bigint, trigger: Trigger): Promise<void> {
    const t0 = performance.now()
    const factor = Math.min(1, trigger.priceFactor ?? 1)
    const urgent: Address[] = []
    const rest: Address[] = []
    for (const account of this.watchList(touched)) {
      const lhf = this.known.get(account)?.lhf
      if (touched.has(account) || lhf === undefined || (Number(lhf) / 1e18) * factor < URGENT_LHF)
        urgent.push(account)
      else rest.push(account)
    }
    const first = await this.evaluate(urgent, block, trigger)
    const second = await this.evaluate(rest, block, trigger)
    this.lastFullCheck = Date.now()
    this.lastEvaluation = {
      block: block.toString(),
      trigger: trigger.kind,
      accounts: urgent.length + rest.length,
      urgent: urgent.length,
      urgentMs: round(first.totalMs),
      readMs: round(first.readMs + second.readMs),
      totalMs: round(performance.now() - t0),
    }
  }

  /**
   * Reads the health of `accounts` at `block` (one batched request, which also fetches the positions
   * of accounts already close to liquidation), then acts: margin calls for accounts newly below the
   * call level, liquidations for those below 1. Calls are sent before liquidations, so a call
   * records the account as it was before the liquidation healed it.
   */
  async evaluate(
    accounts: readonly Address[],
    block: bigint,
    trigger: Trigger,
  ): Promise<{ readMs: number; totalMs: number }> {
    const t0 = performance.now()
    if (!accounts.length) return { readMs: 0, totalMs: 0 }
    const factor = Math.min(1, trigger.priceFactor ?? 1)
    const prefetched = new Map<Address, Promise<readonly Position[] | undefined>>()
    for (const account of accounts) {
      const lhf = this.known.get(account)?.lhf
      if (lhf !== undefined && (Number(lhf) / 1e18) * factor < PREFETCH_LHF)
        prefetched.set(
          account,
          this.read<readonly Position[]>('positionsOf', [account], block).catch(() => undefined),
        )
    }
    const [globals, ...healths] = await Promise.allSettled([
      this.read<Globals>('globalParams', [], block),
      ...accounts.map((account) => this.read<Health>('healthOf', [account], block)),
    ])
    if (globals.status === 'fulfilled') this.globals = globals.value
    const level = this.globals!.marginCallLevel
    const readMs = performance.now() - t0
    const calls: Candidate[] = []
    const resolved: Address[] = []
    const liquidatable: Candidate[] = []
    const checked: { account: Address; health?: Health; error?: string }[] = []
    for (const [i, account] of accounts.entries()) {
      const result = healths[i]!
      const state = this.known.get(account)!
      if (result.status === 'rejected') {
        const error = revertReason(result.reason, errorAbi)
        if (state.error !== error)
          this.logger.warn({ account, err: error }, 'cannot read the health of an account')
        state.error = error
        checked.push({ account, error })
        continue
      }
      const health = result.value
      state.error = null
      state.debtUsd = health.debtUsd
      state.lhf = health.lhf
      checked.push({ account, health })
      if (health.lhf < level) {
        if (state.callId === null) calls.push({ account, health })
      } else if (state.callId !== null) resolved.push(account)
      if (health.lhf < WAD) {
        if (!this.pending.has(account)) liquidatable.push({ account, health })
      } else if (state.skipCode !== null) state.skipCode = null
    }
    const [callGas, plans] = await Promise.all([
      Promise.allSettled(
        calls.map(({ account }) =>
          this.client.estimateGas({
            account: this.address,
            to: this.engine,
            data: encodeFunctionData({ abi: marginEngineAbi, functionName: 'marginCall', args: [account] }),
          }),
        ),
      ),
      liquidatable.length ? this.plan(liquidatable, block, prefetched) : Promise.resolve([] as Plan[]),
    ])
    const planned = performance.now()
    for (const [i, call] of calls.entries()) await this.marginCall(call, block, level, callGas[i]!)
    const stages = {
      scanMs: round(t0 - trigger.seenAt),
      healthMs: round(readMs),
      planMs: round(planned - t0 - readMs),
      callsMs: round(performance.now() - planned),
    }
    for (const plan of plans) {
      if (plan.action === 'send') await this.liquidate(plan, trigger, stages)
      else this.skip(plan, trigger)
    }
    this.record(checked, resolved, block)
    return { readMs, totalMs: performance.now() - t0 }
  }

  /** Stores what an evaluation read, and closes the episodes of accounts back above the call level. */
  private record(
    checked: readonly { account: Address; health?: Health; error?: string }[],
    resolved: readonly Address[],
    block: bigint,
  ): void {
    const now = Date.now()
    const update = this.db.prepare(
      `UPDATE accounts SET lhf = ?, collateral_usd = ?, liquidation_value_usd = ?, debt_usd = ?, checked_block = ?,
         checked_at = ?, error = NULL, skip_code = ? WHERE address = ?`,
    )
    const failed = this.db.prepare('UPDATE accounts SET error = ?, checked_at = ? WHERE address = ?')
    const close = this.db.prepare(
      'UPDATE margin_calls SET resolved_block = ?, resolved_at = ? WHERE id = ? AND resolved_at IS NULL',
    )
    const reopen = this.db.prepare('UPDATE accounts SET call_id = NULL WHERE address = ?')
    this.db.transaction(() => {
      for (const { account, health, error } of checked) {
        if (!health) {
          failed.run(error ?? null, now, account)
          continue
        }
        update.run(
          health.lhf.toString(),
          health.collateralUsd.toString(),
          health.liquidationValueUsd.toString(),
          health.debtUsd.toString(),
          Number(block),
          now,
          this.known.get(account)!.skipCode,
          account,
        )
      }
      for (const account of resolved) {
        const state = this.known.get(account)!
        close.run(Number(block), now, state.callId)
        reopen.run(account)
        this.logger.info({ account, call: state.callId, lhf: lhfNumber(state.lhf) }, 'margin call resolved')
        state.callId = null
      }
    })()
  }

  /** Records a new margin-call episode, queues its webhook, and sends `marginCall` on chain. */
  private async marginCall(
    { account, health }: Candidate,
    block: bigint,
    level: bigint,
    gas: PromiseSettledResult<bigint>,
  ): Promise<void> {
    const now = Date.now()
    const payload = JSON.stringify({
      event: 'margin_call',
      account,
      lhf: lhfNumber(health.lhf),
      lhfWad: health.lhf.toString(),
      callLevel: lhfNumber(level),
      collateralUsd: usd(health.collateralUsd),
      liquidationValueUsd: usd(health.liquidationValueUsd),
      debtUsd: usd(health.debtUsd),
      block: Number(block),
      chainId: this.hub.chainId,
      engine: this.engine,
      keeper: this.address,
      at: new Date(now).toISOString(),
    })
    const insert = () => {
      const { lastInsertRowid } = this.db
        .prepare(
          `INSERT INTO margin_calls (account, block, lhf, call_level, collateral_usd, debt_usd, created_at, payload,
             webhook_status, tx_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          account,
          Number(block),
          health.lhf.toString(),
          level.toString(),
          health.collateralUsd.toString(),
          health.debtUsd.toString(),
          now,
          payload,
          this.webhook ? 'pending' : 'none',
          gas.status === 'rejected' ? `not sent: ${revertReason(gas.reason, errorAbi)}` : null,
        )
      const id = Number(lastInsertRowid)
      this.db.prepare('UPDATE accounts SET call_id = ? WHERE address = ?').run(id, account)
      this.known.get(account)!.callId = id
      return id
    }
    let id: number
    if (gas.status === 'fulfilled') {
      let callId = 0
      const sent = await this.sender.send(
        {
          kind: 'margin_call',
          subject: account,
          to: this.engine,
          data: encodeFunctionData({ abi: marginEngineAbi, functionName: 'marginCall', args: [account] }),
          gas: (gas.value * 13n) / 10n,
          ...this.fees(),
        },
        (txId) => {
          callId = insert()
          this.db.prepare('UPDATE margin_calls SET tx_id = ? WHERE id = ?').run(txId, callId)
        },
      )
      id = callId
      if (sent.error) this.db.prepare('UPDATE margin_calls SET tx_error = ? WHERE id = ?').run(sent.error, id)
    } else {
      id = this.db.transaction(insert)()
    }
    this.webhook?.wake()
    this.logger.warn(
      {
        account,
        call: id,
        lhf: lhfNumber(health.lhf),
        callLevel: lhfNumber(level),
        debtUsd: usd(health.debtUsd),
        block: Number(block),
      },
      'margin call',
    )
  }

  /**
   * Works out each liquidation: the position with the largest liquidation value, the close-factor
   * repayment (capped by the keeper's USDC), and — from a simulation of the very call — what it
   * repays and seizes, and whether that beats the gas. Gas comes from earlier estimates for the same
   * number of positions, so the usual path is one simulation and no estimate.
   */
  private async plan(
    candidates: readonly Candidate[],
    block: bigint,
    prefetched: ReadonlyMap<Address, Promise<readonly Position[] | undefined>>,
  ): Promise<Plan[]> {
    const positionsOf = await Promise.all(
      candidates.map(
        async ({ account }) =>
          (await prefetched.get(account)) ?? this.read<readonly Position[]>('positionsOf', [account], block),
      ),
    )
    let available = this.usdcBalance
    for (const amount of this.committed.values()) available -= amount
    const plans: Plan[] = []
    const drafts: {
      index: number
      account: Address
      health: Health
      target: Position
      positions: number
      repayAmount: bigint
      data: Hex
    }[] = []
    for (const [i, { account, health }] of candidates.entries()) {
      const positions = positionsOf[i]!
      const target = this.largest(positions)
      if (!target) {
        plans.push({ account, health, action: 'skip', code: 'no_collateral', reason: 'no position to seize' })
        continue
      }
      // The engine's own rule: half the debt, all of it below FULL_CLOSE_LHF or under smallDebtUsd.
      // healthOf's debtUsd is the debt in USDC units times 10^(18 − decimals), rounded up as debtOf.
      const debt = health.debtUsd / this.usdcScale
      const fullClose = health.lhf <= this.fullCloseLhf || health.debtUsd < this.globals!.smallDebtUsd
      const closeFactorMax = fullClose ? debt : debt / 2n
      const repayAmount = closeFactorMax < available ? closeFactorMax : available > 0n ? available : 0n
      if (repayAmount === 0n) {
        plans.push({
          account,
          health,
          action: 'skip',
          code: 'no_usdc',
          reason: `the keeper has no USDC left to repay (needs ${closeFactorMax} units)`,
          target,
        })
        continue
      }
      available -= repayAmount
      const data = encodeFunctionData({
        abi: marginEngineAbi,
        functionName: 'liquidate',
        args: [account, target.chainId, target.token, repayAmount, this.address],
      })
      drafts.push({
        index: plans.length,
        account,
        health,
        target,
        positions: positions.length,
        repayAmount,
        data,
      })
      plans.push({ account, health, action: 'skip', code: 'unplanned', reason: '' }) // replaced below
    }
    // The very call, simulated from the keeper's account: what it repays and seizes (and its gas,
    // the first time this many positions are liquidated).
    const results = await Promise.all(
      drafts.map(({ data, positions }) =>
        Promise.allSettled([
          this.client.call({ account: this.address, to: this.engine, data }),
          this.liquidationGas.get(positions) ??
            this.client.estimateGas({ account: this.address, to: this.engine, data }).then((gas) => {
              if (gas > (this.liquidationGas.get(positions) ?? 0n)) this.liquidationGas.set(positions, gas)
              return gas
            }),
        ]),
      ),
    )
    const gasPrice = this.baseFee + (this.priority?.fee ?? 0n)
    for (const [k, draft] of drafts.entries()) {
      const { index, account, health, target, repayAmount, data } = draft
      const [call, gas] = results[k]!
      if (call.status === 'rejected' || gas.status === 'rejected' || !call.value.data) {
        const error =
          call.status === 'rejected' ? call.reason : gas.status === 'rejected' ? gas.reason : undefined
        plans[index] = {
          account,
          health,
          action: 'skip',
          code: 'simulation_failed',
          reason: `the liquidation would revert: ${error ? revertReason(error, errorAbi) : 'no return data'}`,
          target,
          repayAmount,
        }
        continue
      }
      const [repaid, seized] = decodeFunctionResult({
        abi: marginEngineAbi,
        functionName: 'liquidate',
        data: call.value.data,
      })
      const asset = this.assets.get(target.assetId)!
      // Seized collateral at the engine's own price, the repayment in USD, gas at today's fees.
      const seizedValueUsd = (seized * target.price) / 10n ** BigInt(asset.decimals)
      const repaidUsd = repaid * this.usdcScale
      const gasCostUsd = (gas.value * gasPrice * this.nativeUsd) / WAD
      const profitUsd = seizedValueUsd - repaidUsd - gasCostUsd
      const expected = { repaid, seized, seizedValueUsd, gasCostUsd, profitUsd }
      if (profitUsd < this.minProfitWad) {
        const dollars = (wad: bigint) => `$${usd(wad).toFixed(4)}`
        plans[index] = {
          account,
          health,
          action: 'skip',
          code: 'unprofitable',
          reason:
            `unprofitable: seized ${dollars(seizedValueUsd)} − repaid ${dollars(repaidUsd)} − gas ` +
            `${dollars(gasCostUsd)} = ${dollars(profitUsd)}, below the minimum ${dollars(this.minProfitWad)}`,
          target,
          repayAmount,
          expected,
          gas: gas.value,
        }
        continue
      }
      plans[index] = { account, health, action: 'send', target, repayAmount, data, gas: gas.value, expected }
    }
    return plans
  }

  /** The position worth most on liquidation terms (value × LT × λ). */
  private largest(positions: readonly Position[]): Position | undefined {
    let best: Position | undefined
    let bestValue = -1n
    for (const position of positions) {
      if (position.amount === 0n) continue
      const lt = this.assets.get(position.assetId)?.liquidationThreshold ?? 0n
      const value = (((position.valueUsd * lt) / WAD) * position.lambda) / WAD
      if (value > bestValue) {
        best = position
        bestValue = value
      }
    }
    return best
  }

  /** USD (WAD) per native token, for gas costs: the option, else the hub's WETH feed, else 0. */
  private async nativeUsdWad(blockNumber: bigint): Promise<bigint> {
    if (this.options.nativeUsd !== undefined)
      return BigInt(Math.round(this.options.nativeUsd * 1e6)) * 10n ** 12n
    if (!this.nativeFeed) return 0n
    try {
      const feed = { address: this.nativeFeed, abi: priceFeedAbi, blockNumber } as const
      const [[, answer], decimals] = await Promise.all([
        this.client.readContract({ ...feed, functionName: 'latestRoundData' }),
        this.client.readContract({ ...feed, functionName: 'decimals' }),
      ])
      return answer > 0n ? answer * 10n ** BigInt(18 - decimals) : 0n
    } catch {
      return 0n
    }
  }

  private async liquidate(
    plan: Extract<Plan, { action: 'send' }>,
    trigger: Trigger,
    stages: Record<string, number>,
  ): Promise<void> {
    const { account, target, expected } = plan
    const now = Date.now()
    const sending = performance.now()
    let liquidationId = 0
    const sent = await this.sender.send(
      {
        kind: 'liquidation',
        subject: account,
        to: this.engine,
        data: plan.data,
        // The gas figure may come from another liquidation with as many positions: room to spare.
        gas: (plan.gas * 3n) / 2n,
        ...this.fees(),
      },
      (txId) => {
        const { lastInsertRowid } = this.db
          .prepare(
            `INSERT INTO liquidations (account, status, chain_id, token, asset_id, repay_amount, expected_repaid,
               expected_seized, seized_value_usd, gas_estimate, gas_cost_usd, profit_usd, lhf, trigger_block,
               trigger_kind, tx_id, created_at, updated_at)
             VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            account,
            Number(target.chainId),
            target.token,
            target.assetId,
            plan.repayAmount.toString(),
            expected.repaid.toString(),
            expected.seized.toString(),
            expected.seizedValueUsd.toString(),
            plan.gas.toString(),
            expected.gasCostUsd.toString(),
            expected.profitUsd.toString(),
            plan.health.lhf.toString(),
            Number(trigger.block),
            trigger.kind,
            txId,
            now,
            now,
          )
        liquidationId = Number(lastInsertRowid)
      },
    )
    const reactionMs = round(performance.now() - trigger.seenAt)
    this.known.get(account)!.skipCode = null
    if (sent.error) {
      this.db
        .prepare(
          "UPDATE liquidations SET status = 'failed', reason = ?, reaction_ms = ?, updated_at = ? WHERE id = ?",
        )
        .run(sent.error, reactionMs, Date.now(), liquidationId)
      this.logger.error({ account, err: sent.error }, 'liquidation could not be sent')
      return
    }
    this.pending.add(account)
    this.committed.set(account, plan.repayAmount)
    this.db
      .prepare('UPDATE liquidations SET reaction_ms = ?, updated_at = ? WHERE id = ?')
      .run(reactionMs, Date.now(), liquidationId)
    this.logger.info(
      {
        account,
        liquidation: liquidationId,
        tx: sent.hash,
        lhf: lhfNumber(plan.health.lhf),
        chainId: Number(target.chainId),
        token: target.token,
        repay: plan.repayAmount.toString(),
        expectedProfitUsd: usd(expected.profitUsd),
        triggerBlock: Number(trigger.block),
        trigger: trigger.kind,
        reactionMs,
        stages: { ...stages, sendMs: round(performance.now() - sending) },
      },
      'liquidation sent',
    )
  }

  /** Records a liquidation left undone, once per account and reason (not on every block). */
  private skip(plan: Extract<Plan, { action: 'skip' }>, trigger: Trigger): void {
    const state = this.known.get(plan.account)!
    if (state.skipCode === plan.code) return
    state.skipCode = plan.code
    const now = Date.now()
    this.db
      .prepare(
        `INSERT INTO liquidations (account, status, code, reason, chain_id, token, asset_id, repay_amount,
           expected_repaid, expected_seized, seized_value_usd, gas_estimate, gas_cost_usd, profit_usd, lhf,
           trigger_block, trigger_kind, created_at, updated_at)
         VALUES (?, 'skipped', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        plan.account,
        plan.code,
        plan.reason,
        plan.target ? Number(plan.target.chainId) : null,
        plan.target?.token ?? null,
        plan.target?.assetId ?? null,
        plan.repayAmount?.toString() ?? null,
        plan.expected?.repaid.toString() ?? null,
        plan.expected?.seized.toString() ?? null,
        plan.expected?.seizedValueUsd.toString() ?? null,
        plan.gas?.toString() ?? null,
        plan.expected?.gasCostUsd.toString() ?? null,
        plan.expected?.profitUsd.toString() ?? null,
        plan.health.lhf.toString(),
        Number(trigger.block),
        trigger.kind,
        now,
        now,
      )
    this.logger.info(
      { account: plan.account, code: plan.code, lhf: lhfNumber(plan.health.lhf), reason: plan.reason },
      'liquidation skipped',
    )
  }

  /** Reads the receipts of the keeper's transactions in flight and records how they ended. */
  private async settle({ recovering = false } = {}): Promise<void> {
    await this.sender.settle((settled) => this.onSettled(settled), { recovering })
  }

  /** Runs inside the database transaction that records the transaction's end. */
  private onSettled({ tx, receipt, reason }: Settled<TxRow>): void {
    const now = Date.now()
    if (tx.kind === 'liquidation') {
      const row = this.db.prepare('SELECT * FROM liquidations WHERE tx_id = ?').get(tx.id) as
        | LiquidationRow
        | undefined
      const account = getAddress(tx.account!)
      this.pending.delete(account)
      this.committed.delete(account)
      if (!row) return
      const event = receipt && !reason ? this.liquidatedEvent(receipt) : undefined
      if (!event) {
        this.db
          .prepare(
            "UPDATE liquidations SET status = 'failed', reason = ?, mined_block = ?, updated_at = ? WHERE id = ?",
          )
          .run(
            reason ?? 'no Liquidated event in the receipt',
            receipt ? Number(receipt.blockNumber) : null,
            now,
            row.id,
          )
        this.logger.warn({ account, liquidation: row.id, tx: tx.hash, reason }, 'liquidation failed')
        return
      }
      const blocksToInclusion = Number(receipt!.blockNumber) - row.trigger_block
      this.db
        .prepare(
          `UPDATE liquidations SET status = 'confirmed', repaid = ?, seized = ?, bonus = ?, lhf_before = ?, lhf_after = ?,
             mined_block = ?, blocks_to_inclusion = ?, updated_at = ? WHERE id = ?`,
        )
        .run(
          event.repaid.toString(),
          event.seized.toString(),
          event.bonus.toString(),
          event.lhfBefore.toString(),
          event.lhfAfter.toString(),
          Number(receipt!.blockNumber),
          blocksToInclusion,
          now,
          row.id,
        )
      this.logger.info(
        {
          account,
          liquidation: row.id,
          tx: tx.hash,
          repaid: event.repaid.toString(),
          seized: event.seized.toString(),
          lhfBefore: lhfNumber(event.lhfBefore),
          lhfAfter: lhfNumber(event.lhfAfter),
          triggerBlock: row.trigger_block,
          minedBlock: Number(receipt!.blockNumber),
          blocksToInclusion,
          reactionMs: row.reaction_ms,
        },
        'liquidation confirmed',
      )
    } else if (reason) {
      this.logger.warn(
        { kind: tx.kind, account: tx.account, tx: tx.hash, reason },
        'keeper transaction failed',
      )
    }
  }

  private liquidatedEvent(receipt: TransactionReceipt) {
    const [event] = parseEventLogs({
      abi: marginEngineAbi,
      eventName: 'Liquidated',
      logs: receipt.logs.filter((l) => l.address.toLowerCase() === this.engine.toLowerCase()),
    })
    return event?.args
  }
}

/**
 * Starts the keeper: catches up with the hub (accounts from the engine's events since its deploy
 * block, health of each, transactions left in flight by an earlier run), then serves its state over
 * HTTP and follows the hub until stopped.
 */
export async function startKeeper(options: KeeperOptions): Promise<RunningKeeper> {
  const {
    service: keeper,
    url,
    stop,
  } = await startService(options, {
    migrations: keeperMigrations,
    init: async (db, signal) => {
      const keeper = new Keeper(db, { ...options, signal })
      await keeper.init()
      return keeper
    },
    routes: keeperRoutes,
    run: (keeper, signal) => Promise.all([keeper.run(signal), keeper.webhook?.run(signal)]),
  })
  options.logger.info(
    { url, keeper: keeper.address, engine: keeper.engine, pollMs: keeper.pollMs },
    'keeper started',
  )
  return { url, address: keeper.address, stop }
}
