import {
  type Abi,
  type Address,
  type Chain,
  ContractFunctionRevertedError,
  createPublicClient,
  encodeFunctionData,
  erc20Abi,
  getAddress,
  type Hex,
  http,
  isAddressEqual,
  type LocalAccount,
  type Log,
  maxUint256,
  type PublicClient,
  parseEventLogs,
  type Transport,
  BaseError as ViemBaseError,
} from 'viem'
import { aggregatorV3InterfaceAbi } from '../../sdk/abi/AggregatorV3Interface.js'
import { destinationSettlerAbi } from '../../sdk/abi/DestinationSettler.js'
import { originSettlerAbi } from '../../sdk/abi/OriginSettler.js'
import { pollingIntervalMs, viemChain } from '../../sdk/client.js'
import { BaseError } from '../../sdk/errors.js'
import type { ChainEntry, Manifest } from '../../sdk/manifest.js'
import {
  fillCalldata,
  intentErrorAbi,
  type OpenedIntent,
  parseOpenEvents,
} from '../../sdk/settlement/intents.js'
import type { Logger } from '../core/logger.js'
import { revertReason } from '../core/revertReason.js'
import { backoffMs, sleep } from '../core/sleep.js'
import { startService } from '../core/startService.js'
import type { Store } from '../core/store.js'
import { type Settled, TxSender } from '../core/txSender.js'
import { solverRoutes } from './api.js'
import { type OrderRow, solverMigrations, solverTxs, type TxRow } from './schema.js'

export type SolverOptions = {
  manifest: Manifest
  /** Fills from its own USDC on every chain and is repaid the escrow on the origin. */
  account: LocalAccount
  logger: Logger
  dbPath: string
  /** HTTP port; 0 picks a free one. */
  port: number
  host?: string
  /** Aborting stops the solver (like `stop()`). */
  signal?: AbortSignal
  /** The least it keeps, after gas, in basis points of the input (default 5). */
  minSpreadBps?: number
  /** A fixed gas cost per fill in USDC units; default: the fill's gas estimate at the current fee, priced in USD. */
  gasCostUsdc?: bigint
  /** USD per unit of native gas token (default: the hub's PriceFeed.WETH). */
  nativeUsd?: number
  /** A fill must have this long before the deadline, plus three destination blocks (default 2 s). */
  deadlineMarginMs?: number
  /** How often each chain is polled (default: a quarter block, 50–100 ms). */
  pollMs?: number
}

export type RunningSolver = { url: string; address: Address; solver: Solver; stop(): Promise<void> }

export class SolverError extends BaseError {
  override name = 'SolverError'
}

/** getLogs ranges are cut to this many blocks. */
const LOG_CHUNK = 5_000n
/** Skips looked at again on later ticks; every other skip is final. */
const RETRYABLE_SKIPS = new Set(['insufficient-balance', 'gas-unpriced'])
/** How long the native token's USD price is reused. */
const NATIVE_PRICE_TTL_MS = 30_000
const BPS = 10_000n

/** One chain as the solver sees it: origin of orders (its OriginSettler), destination of fills, or both. */
export type SolverChain = {
  entry: ChainEntry
  client: PublicClient<Transport, Chain>
  sender: TxSender<TxRow>
  originSettler: Address | undefined
  destinationSettler: Address | undefined
  usdc: Address | undefined
  /** Last block whose OriginSettler logs are stored. */
  cursor: bigint
  /** The solver's USDC here, as last read. */
  balance: bigint | undefined
  /** The destination settler may take the solver's USDC here (approved once, before any fill). */
  approved: boolean
}

type Decision =
  | { fill: true; gas: bigint; gasCost: bigint; profit: bigint; fees: Fees }
  | { fill: false; code: string; reason: string; gas?: bigint; gasCost?: bigint; profit?: bigint }

type Fees = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }

/**
 * The solver: follows every chain's OriginSettler from its deploy block, keeps each order in SQLite,
 * and fills on the destination, from its own USDC, the orders that pay: same token (USDC → USDC),
 * a deadline far enough in the destination's future, enough balance, and an input − output spread
 * that covers the fill's gas by at least `minSpreadBps`. Each fill is simulated, journaled with
 * the order in one commit and only then broadcast, so no order is ever filled twice by it, across
 * crashes too; it then watches the origin for the `Settled` that repays it.
 */
export class Solver {
  readonly chains = new Map<number, SolverChain>()
  readonly minSpreadBps: bigint
  readonly pollMs: number
  private nativeUsdc: { value: bigint; at: number } | undefined
  private readonly deadlineMarginMs: number
  private readonly errorAbi = intentErrorAbi as Abi

  constructor(
    readonly db: Store,
    readonly options: SolverOptions,
  ) {
    this.minSpreadBps = BigInt(options.minSpreadBps ?? 5)
    this.deadlineMarginMs = options.deadlineMarginMs ?? 2_000
    for (const entry of options.manifest.chains) {
      const contract = (name: string) => {
        const address = entry.contracts[name]
        return address ? getAddress(address) : undefined
      }
      const originSettler = contract('OriginSettler')
      const destinationSettler = contract('DestinationSettler')
      if (!originSettler && !destinationSettler) continue
      const client = createPublicClient({
        chain: viemChain(entry),
        transport: http(entry.rpcUrl, { retryCount: 1 }),
        cacheTime: 0,
      })
      this.chains.set(entry.chainId, {
        entry,
        client,
        sender: new TxSender({
          db,
          table: solverTxs,
          client,
          account: options.account,
          chainId: entry.chainId,
          logger: options.logger,
          errorAbi: this.errorAbi,
          resendAfterMs: 15_000,
          // A fill is never signed twice: an unanswered broadcast is sent again byte for byte.
          unanswered: 'resend',
          blockTimes: true,
        }),
        originSettler,
        destinationSettler,
        usdc: contract('USDC'),
        cursor: BigInt(entry.deployBlock ?? 0) - 1n,
        balance: undefined,
        approved: false,
      })
    }
    if (!this.chains.size) throw new SolverError('no OriginSettler or DestinationSettler in the manifest')
    this.pollMs = options.pollMs ?? 0
  }

  get address(): Address {
    return this.options.account.address
  }

  private get logger(): Logger {
    return this.options.logger
  }

  /** Everything before the loops: the database's owner, journaled transactions, cursors. */
  async init(): Promise<void> {
    await this.checkDatabase()
    // A fill refused at broadcast whose order was not updated before a crash.
    this.db
      .prepare(
        `UPDATE orders SET status = 'failed', code = 'not-sent', updated_at = ?,
           reason = (SELECT reason FROM txs WHERE txs.id = orders.fill_tx_id)
         WHERE status = 'filling' AND fill_tx_id IN (SELECT id FROM txs WHERE status = 'failed')`,
      )
      .run(Date.now())
    for (const { chain_id, block } of this.db.prepare('SELECT chain_id, block FROM cursors').all() as {
      chain_id: number
      block: number
    }[]) {
      const chain = this.chains.get(chain_id)
      if (chain) chain.cursor = BigInt(block)
    }
    await Promise.all([...this.chains.values()].map((chain) => this.settle(chain, true)))
  }

  /**
   * The database belongs to one solver on one deployment (each chain's deploy block hash): a devnet
   * started again reuses addresses, and its orders and cursors would be wrong here.
   */
  private async checkDatabase(): Promise<void> {
    const hashes = await Promise.all(
      [...this.chains.values()].map(async (c) => {
        const block = await c.client.getBlock({ blockNumber: BigInt(c.entry.deployBlock ?? 0) })
        return `${c.entry.chainId}:${block.hash}`
      }),
    )
    const id = `${this.address}@${hashes.join(',')}`
    const stored = this.db.prepare("SELECT value FROM meta WHERE key = 'deployment'").pluck().get() as
      | string
      | undefined
    if (stored && stored !== id)
      throw new SolverError(
        `database ${this.options.dbPath} belongs to another solver or deployment: use another --data folder`,
        { details: `stored ${stored}, now ${id}` },
      )
    if (!stored) this.db.prepare("INSERT INTO meta (key, value) VALUES ('deployment', ?)").run(id)
  }

  /**
   * USDC units per native token (1e18 wei), for gas costs: the given price, or the hub's WETH feed
   * read at most every 30 s. Undefined while the feed has no price: orders then wait (`gas-unpriced`).
   */
  private async nativePrice(): Promise<bigint | undefined> {
    if (this.options.nativeUsd !== undefined) return BigInt(Math.round(this.options.nativeUsd * 1e6))
    if (this.nativeUsdc && Date.now() - this.nativeUsdc.at < NATIVE_PRICE_TTL_MS) return this.nativeUsdc.value
    const hub = this.options.manifest.chains.find((c) => c.contracts['PriceFeed.WETH'])
    if (!hub)
      throw new SolverError(
        'no PriceFeed.WETH in the manifest to price gas: give a gas cost or a native price',
      )
    const client = this.chains.get(hub.chainId)?.client ?? createPublicClient({ transport: http(hub.rpcUrl) })
    const feed = hub.contracts['PriceFeed.WETH'] as Address
    const [[, answer], decimals] = await Promise.all([
      client.readContract({ address: feed, abi: aggregatorV3InterfaceAbi, functionName: 'latestRoundData' }),
      client.readContract({ address: feed, abi: aggregatorV3InterfaceAbi, functionName: 'decimals' }),
    ])
    if (answer <= 0n) return undefined
    this.nativeUsdc = { value: (answer * 10n ** 6n) / 10n ** BigInt(decimals), at: Date.now() }
    return this.nativeUsdc.value
  }

  /** The destination settler takes the output with transferFrom: approve it once, for good. */
  private async approve(chain: SolverChain): Promise<void> {
    const { usdc, destinationSettler: spender } = chain
    if (!usdc || !spender) return
    const pending = this.db
      .prepare("SELECT id FROM txs WHERE chain_id = ? AND kind = 'approve' AND status IN ('signed', 'sent')")
      .pluck()
      .get(chain.entry.chainId) as number | undefined
    let id = pending
    if (id === undefined) {
      const allowance = await chain.client.readContract({
        address: usdc,
        abi: erc20Abi,
        functionName: 'allowance',
        args: [this.address, spender],
      })
      if (allowance >= maxUint256 / 2n) return
      const data = encodeFunctionData({ abi: erc20Abi, functionName: 'approve', args: [spender, maxUint256] })
      const [gas, fees] = await Promise.all([
        chain.client.estimateGas({ account: this.address, to: usdc, data }),
        this.fees(chain),
      ])
      const sent = await chain.sender.send({
        kind: 'approve',
        to: usdc,
        data,
        gas: (gas * 13n) / 10n,
        ...fees,
      })
      if (sent.error) throw new SolverError(`could not approve USDC on ${chain.entry.name}: ${sent.error}`)
      id = sent.id
    }
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline && !this.options.signal?.aborted) {
      await this.settle(chain)
      const tx = this.db.prepare('SELECT status, reason FROM txs WHERE id = ?').get(id) as {
        status: string
        reason: string | null
      }
      if (tx.status === 'confirmed') {
        this.logger.info({ chain: chain.entry.name, spender }, 'USDC approved for fills')
        return
      }
      if (tx.status === 'failed')
        throw new SolverError(`USDC approval on ${chain.entry.name} failed: ${tx.reason}`)
      await sleep(this.pollOf(chain), this.options.signal)
    }
    throw new SolverError(`USDC approval on ${chain.entry.name} not mined within 60 s`)
  }

  private pollOf(chain: SolverChain): number {
    return this.pollMs || pollingIntervalMs(chain.entry)
  }

  private async fees(chain: SolverChain): Promise<Fees> {
    const { maxFeePerGas, maxPriorityFeePerGas } = await chain.client.estimateFeesPerGas()
    return { maxFeePerGas, maxPriorityFeePerGas }
  }

  /** Polls every chain until `signal` aborts, each in its own loop; RPC errors back off and retry. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all(
      [...this.chains.values()].map(async (chain) => {
        let failures = 0
        while (!signal.aborted) {
          try {
            // Approved in the chain's own loop, not before start: a slow chain's approval must not
            // hold up the API or the fills on every other chain.
            if (!chain.approved) {
              await this.approve(chain)
              chain.approved = true
            }
            await this.tick(chain)
            failures = 0
            await sleep(this.pollOf(chain), signal)
          } catch (error) {
            if (signal.aborted) break
            this.logger.warn(
              { chain: chain.entry.name, err: (error as Error).message },
              'solver step failed, retrying',
            )
            await sleep(backoffMs(failures++), signal)
          }
        }
      }),
    )
  }

  /** One step on one chain: its transactions, its new origin logs, and the orders to fill on it. */
  async tick(chain: SolverChain): Promise<void> {
    await this.settle(chain)
    await this.ingest(chain)
    await this.decide(chain)
  }

  // ---------------------------------------------------------------- following the origins

  private async ingest(chain: SolverChain): Promise<void> {
    if (!chain.originSettler) return
    const head = await chain.client.getBlockNumber()
    while (chain.cursor < head) {
      const to = chain.cursor + LOG_CHUNK < head ? chain.cursor + LOG_CHUNK : head
      const logs = await chain.client.getLogs({
        address: chain.originSettler,
        fromBlock: chain.cursor + 1n,
        toBlock: to,
      })
      this.db.transaction(() => {
        this.apply(chain, logs)
        this.db
          .prepare(
            'INSERT INTO cursors (chain_id, block) VALUES (?, ?) ON CONFLICT (chain_id) DO UPDATE SET block = excluded.block',
          )
          .run(chain.entry.chainId, Number(to))
      })()
      chain.cursor = to
    }
  }

  /** Stores new orders and the origin's verdicts (Settled, Refunded); runs inside the cursor's commit. */
  private apply(chain: SolverChain, logs: readonly Log[]): void {
    const now = Date.now()
    for (const opened of parseOpenEvents(logs)) this.store(opened, now)
    for (const log of parseEventLogs({ abi: originSettlerAbi, logs: logs as Log[] })) {
      if (log.eventName !== 'Settled' && log.eventName !== 'Refunded') continue
      const args = log.args as { orderId: Hex; amount: bigint; solver?: Address; user?: Address }
      const paidTo = log.eventName === 'Settled' ? args.solver! : args.user!
      const repaid = log.eventName === 'Settled' && isAddressEqual(paidTo, this.address)
      const { changes } = this.db
        .prepare(
          `UPDATE orders SET outcome = ?, paid_to = ?, paid_amount = ?, outcome_tx = ?, outcome_block = ?,
             outcome_at = ?, updated_at = ?,
             status = CASE WHEN ? AND status IN ('filling', 'filled') THEN 'repaid' ELSE status END
           WHERE id = ? AND outcome IS NULL`,
        )
        .run(
          log.eventName === 'Settled' ? 'settled' : 'refunded',
          paidTo,
          args.amount.toString(),
          log.transactionHash,
          Number(log.blockNumber),
          now,
          now,
          repaid ? 1 : 0,
          args.orderId,
        )
      if (changes)
        this.logger.info(
          {
            order: args.orderId,
            chain: chain.entry.name,
            outcome: log.eventName,
            paidTo,
            amount: args.amount.toString(),
          },
          repaid ? 'repaid on origin' : `order ${log.eventName.toLowerCase()} on origin`,
        )
    }
  }

  private store(opened: OpenedIntent, now: number): void {
    const { order } = opened
    const destination = this.chains.get(Number(order.data.destinationChainId))
    const known =
      destination?.destinationSettler !== undefined &&
      isAddressEqual(destination.destinationSettler, opened.destinationSettler)
    const { changes } = this.db
      .prepare(
        `INSERT OR IGNORE INTO orders (id, origin_chain_id, destination_chain_id, user, nonce, fill_deadline,
           input_token, input_amount, output_token, output_amount, recipient, origin_data, open_block, open_tx,
           opened_at, seen_at, status, code, reason, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        opened.orderId,
        Number(order.originChainId),
        Number(order.data.destinationChainId),
        order.user,
        order.nonce.toString(),
        order.fillDeadline,
        order.data.inputToken,
        order.data.inputAmount.toString(),
        order.data.outputToken,
        order.data.outputAmount.toString(),
        order.data.recipient,
        opened.originData,
        Number(opened.blockNumber),
        opened.transactionHash,
        opened.openedAt,
        now,
        known ? 'new' : 'skipped',
        known ? null : 'unknown-destination',
        known
          ? null
          : `no DestinationSettler ${opened.destinationSettler} on chain ${order.data.destinationChainId} in the manifest`,
        now,
      )
    if (changes)
      this.logger.info(
        {
          order: opened.orderId,
          block: Number(opened.blockNumber),
          input: order.data.inputAmount.toString(),
          output: order.data.outputAmount.toString(),
        },
        'order seen',
      )
  }

  // ---------------------------------------------------------------- deciding and filling

  /** Decides the orders to be filled on `chain`, oldest first. */
  private async decide(chain: SolverChain): Promise<void> {
    if (!chain.destinationSettler) return
    const todo = this.db
      .prepare(
        `SELECT * FROM orders WHERE destination_chain_id = ? AND outcome IS NULL
           AND (status = 'new' OR (status = 'skipped' AND code IN (${[...RETRYABLE_SKIPS].map(() => '?').join(', ')})))
         ORDER BY opened_at, id`,
      )
      .all(chain.entry.chainId, ...RETRYABLE_SKIPS) as OrderRow[]
    if (!todo.length) return
    const [block, balance, fees] = await Promise.all([
      chain.client.getBlock({ blockTag: 'latest' }),
      chain.usdc
        ? chain.client.readContract({
            address: chain.usdc,
            abi: erc20Abi,
            functionName: 'balanceOf',
            args: [this.address],
          })
        : Promise.resolve(0n),
      this.fees(chain),
    ])
    chain.balance = balance
    // The fill lands in a later block: no earlier than the latest one, and on a live chain about now
    // (a chain that mines only on demand can have a latest block long past).
    const destinationNow = Math.max(Number(block.timestamp), Math.floor(Date.now() / 1000))
    // USDC promised to fills not mined yet (a mined one is already out of the balance read).
    let committed = this.committed(chain, block.number)
    for (const order of todo) {
      const decision = await this.evaluate(chain, order, {
        now: destinationNow,
        available: balance - committed,
        fees,
      })
      if (!decision.fill) {
        this.skip(order, decision)
        continue
      }
      committed += BigInt(order.output_amount)
      await this.fill(chain, order, decision)
    }
  }

  private committed(chain: SolverChain, head: bigint): bigint {
    const rows = this.db
      .prepare(
        `SELECT o.output_amount FROM orders o JOIN txs t ON t.id = o.fill_tx_id
         WHERE o.destination_chain_id = ? AND (t.status IN ('signed', 'sent') OR t.block > ?)`,
      )
      .pluck()
      .all(chain.entry.chainId, Number(head)) as string[]
    return rows.reduce((sum, amount) => sum + BigInt(amount), 0n)
  }

  /** Whether to fill `order` now, and at what gas and expected profit (USDC units). */
  private async evaluate(
    chain: SolverChain,
    order: OrderRow,
    context: { now: number; available: bigint; fees: Fees },
  ): Promise<Decision> {
    const origin = this.chains.get(order.origin_chain_id)
    const input = BigInt(order.input_amount)
    const output = BigInt(order.output_amount)
    if (
      !origin?.usdc ||
      !chain.usdc ||
      !isAddressEqual(order.input_token as Address, origin.usdc) ||
      !isAddressEqual(order.output_token as Address, chain.usdc)
    )
      return { fill: false, code: 'unsupported-token', reason: 'fills USDC → USDC only' }
    if (order.fill_deadline < context.now)
      return {
        fill: false,
        code: 'expired',
        reason: `deadline ${order.fill_deadline} passed on the destination`,
      }
    const marginS = Math.ceil((this.deadlineMarginMs + 3 * chain.entry.blockTimeMs) / 1000)
    if (order.fill_deadline - context.now < marginS)
      return {
        fill: false,
        code: 'deadline-too-close',
        reason: `${order.fill_deadline - context.now} s left on the destination, needs ${marginS} s`,
      }
    if (output >= input)
      return {
        fill: false,
        code: 'unprofitable',
        reason: `output ${output} ≥ input ${input}: no spread`,
        profit: input - output,
      }
    if (context.available < output)
      return {
        fill: false,
        code: 'insufficient-balance',
        reason: `needs ${output} USDC units on ${chain.entry.name}, has ${context.available} uncommitted`,
      }
    let gas: bigint
    try {
      // The simulation: the exact call, from the solver, on the destination's latest state.
      gas = await chain.client.estimateContractGas({
        address: chain.destinationSettler!,
        abi: [...destinationSettlerAbi, ...this.errorAbi],
        functionName: 'fill',
        args: [order.id, order.origin_data, '0x'],
        account: this.address,
      })
    } catch (error) {
      const refusal = contractRevert(error, this.errorAbi)
      if (!refusal) throw error
      const code = refusal.startsWith('IntentAlreadySettled')
        ? 'already-settled'
        : refusal.startsWith('IntentFillDeadlinePassed')
          ? 'expired'
          : 'refused'
      return { fill: false, code, reason: `simulation: ${refusal}` }
    }
    const native = this.options.gasCostUsdc === undefined ? await this.nativePrice() : 0n
    if (native === undefined)
      return {
        fill: false,
        code: 'gas-unpriced',
        reason: 'the WETH feed has no price yet to price gas with',
        gas,
      }
    // Rounded up: against the solver.
    const gasCost = this.options.gasCostUsdc ?? ceilDiv(gas * context.fees.maxFeePerGas * native, 10n ** 18n)
    const profit = input - output - gasCost
    if (profit <= 0n || profit * BPS < this.minSpreadBps * input)
      return {
        fill: false,
        code: 'unprofitable',
        reason: `keeps ${profit} after ${gasCost} gas, wants ${this.minSpreadBps} bps of ${input}`,
        gas,
        gasCost,
        profit,
      }
    return { fill: true, gas, gasCost, profit, fees: context.fees }
  }

  private skip(order: OrderRow, decision: Extract<Decision, { fill: false }>): void {
    if (order.status === 'skipped' && order.code === decision.code) return
    this.db
      .prepare(
        `UPDATE orders SET status = 'skipped', code = ?, reason = ?, gas_estimate = ?, gas_cost = ?,
           expected_profit = ?, updated_at = ? WHERE id = ? AND fill_tx_id IS NULL`,
      )
      .run(
        decision.code,
        decision.reason,
        decision.gas?.toString() ?? null,
        decision.gasCost?.toString() ?? null,
        decision.profit?.toString() ?? null,
        Date.now(),
        order.id,
      )
    this.logger.info({ order: order.id, code: decision.code, reason: decision.reason }, 'order skipped')
  }

  private async fill(chain: SolverChain, order: OrderRow, decision: Extract<Decision, { fill: true }>) {
    const sent = await chain.sender.send(
      {
        kind: 'fill',
        subject: order.id,
        to: chain.destinationSettler!,
        data: fillCalldata(order.id, order.origin_data),
        gas: (decision.gas * 5n) / 4n,
        ...decision.fees,
      },
      (txId) => {
        // The order's one fill, in the journal's commit: a second can never be written.
        const { changes } = this.db
          .prepare(
            `UPDATE orders SET status = 'filling', code = NULL, reason = NULL, fill_tx_id = ?, gas_estimate = ?,
               gas_cost = ?, expected_profit = ?, updated_at = ?
             WHERE id = ? AND fill_tx_id IS NULL AND status IN ('new', 'skipped')`,
          )
          .run(
            txId,
            decision.gas.toString(),
            decision.gasCost.toString(),
            decision.profit.toString(),
            Date.now(),
            order.id,
          )
        if (changes !== 1) throw new SolverError(`order ${order.id} already has a fill`)
      },
    )
    if (sent.error) {
      this.db
        .prepare(
          `UPDATE orders SET status = 'failed', code = 'not-sent', reason = ?, updated_at = ? WHERE id = ?`,
        )
        .run(sent.error, Date.now(), order.id)
      this.logger.warn({ order: order.id, err: sent.error }, 'fill not sent')
      return
    }
    this.db.prepare('UPDATE orders SET fill_sent_at = ? WHERE id = ?').run(sent.sentAt, order.id)
    this.logger.info(
      {
        order: order.id,
        tx: sent.hash,
        chain: chain.entry.name,
        profit: decision.profit.toString(),
        reactionMs: sent.sentAt - order.seen_at,
      },
      'fill sent',
    )
  }

  /** Reads the outcome of the transactions in flight on `chain` and ends their orders with them. */
  private settle(chain: SolverChain, recovering = false): Promise<void> {
    return chain.sender.settle((settled) => this.settled(chain, settled), { recovering })
  }

  private settled(chain: SolverChain, { tx, receipt, blockTime, reason }: Settled<TxRow>): void {
    if (tx.kind !== 'fill' || !tx.order_id) return
    const now = Date.now()
    if (receipt?.status === 'success') {
      const [filled] = parseEventLogs({
        abi: destinationSettlerAbi,
        eventName: 'Filled',
        logs: receipt.logs.filter(
          (l) => chain.destinationSettler && isAddressEqual(l.address, chain.destinationSettler),
        ),
      })
      this.db
        .prepare(
          `UPDATE orders SET status = CASE WHEN status = 'filling' THEN 'filled' ELSE status END,
             fill_block = ?, fill_time = ?, filled_at = ?, message_id = ?, updated_at = ? WHERE id = ?`,
        )
        .run(
          Number(receipt.blockNumber),
          blockTime ?? null,
          now,
          filled?.args.messageId ?? null,
          now,
          tx.order_id,
        )
      this.logger.info({ order: tx.order_id, tx: tx.hash, block: Number(receipt.blockNumber) }, 'filled')
      return
    }
    const code = reason?.includes('IntentAlreadySettled') ? 'lost-race' : receipt ? 'reverted' : 'dropped'
    this.db
      .prepare(
        `UPDATE orders SET status = 'failed', code = ?, reason = ?, updated_at = ? WHERE id = ? AND status = 'filling'`,
      )
      .run(code, reason ?? null, now, tx.order_id)
    this.logger.warn({ order: tx.order_id, tx: tx.hash, code, reason }, 'fill failed')
  }
}

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b

/** A contract's refusal as `ErrorName(args)`, or undefined when the call failed for another reason (RPC). */
function contractRevert(error: unknown, abi: Abi): string | undefined {
  if (!(error instanceof ViemBaseError)) return undefined
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError)
  if (!(revert instanceof ContractFunctionRevertedError)) return undefined
  return revertReason(error, abi)
}

/** Starts the solver: database, recovery, its HTTP API, then the per-chain loops (approvals first). */
export async function startSolver(options: SolverOptions): Promise<RunningSolver> {
  const {
    service: solver,
    url,
    stop,
  } = await startService(options, {
    migrations: solverMigrations,
    init: async (db, signal) => {
      const solver = new Solver(db, { ...options, signal })
      await solver.init()
      return solver
    },
    routes: solverRoutes,
    run: (solver, signal) => solver.run(signal),
  })
  options.logger.info(
    { url, solver: solver.address, minSpreadBps: Number(solver.minSpreadBps) },
    'solver started',
  )
  return { url, address: solver.address, solver, stop }
}
