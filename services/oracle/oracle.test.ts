import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Address, type LocalAccount, parseUnits } from 'viem'
import { freePortRange } from '../../devnet/ports.js'
import { priceFeedAbi, priceFeedBytecode } from '../../sdk/abi/PriceFeed.js'
import { startTestDevnet, type TestChain, type TestDevnet } from '../../testing/devnet.js'
import { eventually, tempDir } from '../../testing/messaging.js'
import { createLogger } from '../core/logger.js'
import type { ObservationAnswer } from './node.js'
import {
  type OracleFeed,
  type OracleNodesOptions,
  type RunningOracleNodes,
  startOracleNodes,
} from './oracle.js'
import type { PriceSource } from './sources.js'

const usd = (price: number | string) => parseUnits(String(price), 8)

/** Prices set by the test: every node asking sees what the test last wrote. */
function manualSource(prices: Record<string, number>): PriceSource {
  return { kind: 'manual', price: (asset) => prices[asset]! }
}

type Round = { roundId: bigint; answer: bigint; updatedAt: number }

describe('oracle nodes', () => {
  let devnet: TestDevnet
  let hub: TestChain
  let keys: LocalAccount[]
  const running: RunningOracleNodes[] = []
  const logger = createLogger('oracle-test')

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub'], deploy: false })
    hub = devnet.chain('hub')
    keys = hub.accounts.slice(4, 8) // funded devnet accounts: the nodes pay for their own transmits
  })
  after(async () => {
    await Promise.all(running.map((r) => r.stop()))
    await devnet.stop()
  })

  /** A PriceFeed with the test's 4 keys as oracles (f = 1), in key order: key i has position i. */
  async function deployFeed(oracles: readonly LocalAccount[] = keys, faulty = 1): Promise<Address> {
    const hash = await hub.wallet.deployContract({
      abi: priceFeedAbi,
      bytecode: priceFeedBytecode,
      args: [hub.accounts[0]!.address, 8, 'ETH / USD', 300],
    })
    const feed = (await hub.public.waitForTransactionReceipt({ hash })).contractAddress!
    const set = await hub.wallet.writeContract({
      address: feed,
      abi: priceFeedAbi,
      functionName: 'setOracles',
      args: [oracles.map((o) => o.address), faulty],
    })
    await hub.public.waitForTransactionReceipt({ hash: set })
    return feed
  }

  async function latest(feed: Address): Promise<Round | undefined> {
    const round = await hub.public.readContract({
      address: feed,
      abi: priceFeedAbi,
      functionName: 'latestRound',
    })
    if (round === 0n) return undefined
    const [roundId, answer, , updatedAt] = await hub.public.readContract({
      address: feed,
      abi: priceFeedAbi,
      functionName: 'latestRoundData',
    })
    return { roundId, answer, updatedAt: Number(updatedAt) }
  }

  const roundAtLeast = (feed: Address, id: bigint, timeoutMs = 10_000) =>
    eventually(
      `round ${id}`,
      async () => {
        const round = await latest(feed)
        return round && round.roundId >= id ? round : undefined
      },
      timeoutMs,
    )

  async function start(
    feed: OracleFeed,
    overrides: Partial<OracleNodesOptions> & Pick<OracleNodesOptions, 'source'>,
  ): Promise<RunningOracleNodes> {
    const nodes = await startOracleNodes({
      manifest: devnet.manifest,
      feeds: [feed],
      nodes: keys.map((account) => ({ account })),
      dataDir: tempDir('oracle'),
      logger,
      tickMs: 150,
      fallbackMs: 1_000,
      ...overrides,
    })
    running.push(nodes)
    return nodes
  }

  it('4 nodes push a first price, a new round on deviation, and one on heartbeat with the price unchanged', async () => {
    const feed = await deployFeed()
    const prices = { WETH: 3_000 }
    const nodes = await start(
      { address: feed, asset: 'WETH', deviation: 0.005, heartbeatSeconds: 4 },
      { source: manualSource(prices) },
    )
    const first = await roundAtLeast(feed, 1n)
    assert.equal(first.roundId, 1n)
    assert.equal(first.answer, usd(3_000))

    prices.WETH = 3_030 // +1%: over the 0.5% threshold
    const second = await roundAtLeast(feed, 2n)
    assert.equal(second.answer, usd(3_030))
    assert.ok(second.updatedAt - first.updatedAt < 4, 'the deviation round came before the heartbeat')

    const third = await roundAtLeast(feed, 3n)
    assert.equal(third.roundId, 3n, 'nothing in between: the price did not move')
    assert.equal(third.answer, second.answer)
    assert.ok(third.updatedAt - second.updatedAt >= 4, 'the heartbeat round waited for the heartbeat')
    await nodes.stop()
  })

  it('a faulty node signing a wild price cannot move the answer out of the honest range', async () => {
    const feed = await deployFeed()
    const honest = [2_995, 3_000, 3_005]
    // The faulty node is the last position: it is the first transmitter of round 3 and must still
    // only ever produce honest medians.
    const nodes = await start(
      { address: feed, asset: 'WETH', heartbeatSeconds: 1 },
      {
        source: manualSource({}),
        nodes: keys.map((account, i) => ({
          account,
          source: manualSource({ WETH: i < 3 ? honest[i]! : 30_000 }),
        })),
      },
    )
    for (let id = 1n; id <= 4n; id++) {
      const round = await roundAtLeast(feed, id)
      assert.ok(
        round.answer >= usd(2_995) && round.answer <= usd(3_005),
        `round ${round.roundId}: ${round.answer} outside the honest range`,
      )
    }
    await nodes.stop()
  })

  it('a faulty node serving forged observations is left out of the reports', async () => {
    const feed = await deployFeed()
    // Node 3 is down and something answers at its place: fresh "observations" in its name with a
    // signature that is not its. In a report, the feed would refuse the whole report.
    const forger = createServer((_, response) => {
      response.end(
        JSON.stringify({
          oracle: keys[3]!.address,
          value: '100000000',
          observedAt: Math.floor(Date.now() / 1_000),
          signature: `0x${'11'.repeat(65)}`,
        }),
      )
    })
    await new Promise<void>((resolve) => forger.listen(0, '127.0.0.1', resolve))
    after(() => new Promise<void>((resolve) => forger.close(() => resolve())))
    const nodes = await start(
      { address: feed, asset: 'WETH', heartbeatSeconds: 1 },
      {
        source: manualSource({ WETH: 3_000 }),
        nodes: keys.slice(0, 3).map((account) => ({ account })),
        peers: [`http://127.0.0.1:${(forger.address() as AddressInfo).port}`],
      },
    )
    assert.equal((await roundAtLeast(feed, 2n)).answer, usd(3_000))
    await nodes.stop()
  })

  it('pushes with one node down (3 of 4 = 2f+1), not with two, and resumes when one returns', async () => {
    const feed = await deployFeed()
    const prices = { WETH: 3_000 }
    const firstPort = await freePortRange(4)
    const urls = keys.map((_, i) => `http://127.0.0.1:${firstPort + i}`)
    const dataDir = tempDir('oracle-down')
    // One process per node, as separate machines would run them.
    const startNode = (i: number) =>
      start(
        { address: feed, asset: 'WETH', heartbeatSeconds: 300 },
        {
          source: manualSource(prices),
          nodes: [{ account: keys[i]!, port: firstPort + i }],
          peers: urls.filter((_, j) => j !== i),
          dataDir,
        },
      )
    const nodes = await Promise.all(keys.map((_, i) => startNode(i)))
    await roundAtLeast(feed, 1n)

    await nodes[2]!.stop() // the first transmitter of round 2: the next node must take over
    prices.WETH = 3_100
    const second = await roundAtLeast(feed, 2n)
    assert.equal(second.answer, usd(3_100))

    await nodes[3]!.stop() // two down: 2 observations < 2f+1
    prices.WETH = 3_200
    await new Promise((r) => setTimeout(r, 2_500))
    assert.equal((await latest(feed))!.roundId, 2n, 'no report without 2f+1 observations')

    nodes[2] = await startNode(2)
    const third = await roundAtLeast(feed, 3n)
    assert.equal(third.answer, usd(3_200))
    await Promise.all(nodes.map((n) => n.stop()))
  })

  it('POST /shock moves the on-chain price within a few seconds (devnet only)', async () => {
    const feed = await deployFeed()
    const nodes = await start(
      { address: feed, asset: 'WETH' },
      { source: { kind: 'walk', seed: 7, originMs: Date.now() }, devnet: true },
    )
    const first = await roundAtLeast(feed, 1n)
    assert.ok(first.answer > usd(2_950) && first.answer < usd(3_050), `a walk from 3000: ${first.answer}`)

    const response = await fetch(`${nodes.nodes[1]!.url}/shock`, {
      method: 'POST',
      body: JSON.stringify({ asset: 'weth', factor: 0.6 }),
    })
    assert.equal(response.status, 200)
    assert.deepEqual(((await response.json()) as { factor: number }).factor, 0.6)
    const shockedAt = Date.now()
    const crashed = await eventually('the crash on chain', async () => {
      const round = await latest(feed)
      return round && round.answer < usd(1_850) ? round : undefined
    })
    assert.ok(Date.now() - shockedAt < 3_000, 'on chain within a few seconds')
    assert.ok(crashed.answer > usd(1_750), `0.6 × ~3000: ${crashed.answer}`)

    const bad = await fetch(`${nodes.nodes[0]!.url}/shock`, {
      method: 'POST',
      body: JSON.stringify({ asset: 'DOGE', factor: 2 }),
    })
    assert.equal(bad.status, 400)
    await nodes.stop()
  })

  it('a restarted node never signs an observation older than one it signed before', async () => {
    const feed = await deployFeed()
    const dbPath = join(tempDir('oracle-restart'), 'node.db')
    const observe = async (nodes: RunningOracleNodes) => {
      const response = await fetch(`${nodes.nodes[0]!.url}/observation?feed=${feed}`)
      assert.equal(response.status, 200)
      return (await response.json()) as ObservationAnswer
    }
    // The node's clock runs 10 minutes ahead, then it restarts with the right time.
    const ahead = await start(
      { address: feed, asset: 'WETH' },
      {
        source: { kind: 'walk', seed: 1, originMs: 0 },
        nodes: [{ account: keys[0]!, dbPath }],
        now: () => Date.now() + 600_000,
      },
    )
    const before = await observe(ahead)
    assert.ok(before.observedAt > Date.now() / 1_000 + 500)
    await ahead.stop()

    const restarted = await start(
      { address: feed, asset: 'WETH' },
      { source: { kind: 'walk', seed: 1, originMs: 0 }, nodes: [{ account: keys[0]!, dbPath }] },
    )
    const after = await observe(restarted)
    assert.equal(after.observedAt, before.observedAt, 'the stored observation, not a newer-looking older one')
    assert.equal(after.signature, before.signature)
    assert.equal(after.value, before.value)

    const refused = await fetch(`${restarted.nodes[0]!.url}/shock`, {
      method: 'POST',
      body: JSON.stringify({ asset: 'WETH', factor: 0.5 }),
    })
    assert.equal(refused.status, 403, 'no shocks without the devnet flag')
    await restarted.stop()
  })

  it('nodes replaying a history file push the prices of the file', async () => {
    const feed = await deployFeed()
    const file = join(tempDir('oracle-replay'), 'history.csv')
    const prices = [100, 120, 140, 160, 180, 200]
    writeFileSync(file, `timestamp,price\n${prices.map((p, i) => `${i * 10},${p}`).join('\n')}\n`)
    // 10 file seconds per row at speed 5: a new row every 2 s of wall time.
    const nodes = await start(
      { address: feed, asset: 'WETH' },
      { source: { kind: 'replay', originMs: Date.now(), speed: 5, histories: { WETH: file } } },
    )
    const seen = new Set<bigint>()
    await eventually(
      'two rows of the file on chain',
      async () => {
        const round = await latest(feed)
        if (round) seen.add(round.answer)
        return seen.size >= 2 ? true : undefined
      },
      8_000,
    )
    for (const answer of seen)
      assert.ok(
        prices.some((p) => usd(p) === answer),
        `${answer} is a price of the file`,
      )
    await nodes.stop()
  })
})
