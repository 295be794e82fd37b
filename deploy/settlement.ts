import { type Address, encodeDeployData, encodeFunctionData, parseUnits } from 'viem'
import { burnMintERC20Abi } from '../sdk/abi/BurnMintERC20.js'
import { collateralGateAbi, collateralGateBytecode } from '../sdk/abi/CollateralGate.js'
import { destinationSettlerAbi, destinationSettlerBytecode } from '../sdk/abi/DestinationSettler.js'
import { dvPCoordinatorAbi, dvPCoordinatorBytecode } from '../sdk/abi/DvPCoordinator.js'
import { htlcEscrowAbi, htlcEscrowBytecode } from '../sdk/abi/HtlcEscrow.js'
import { inboxAbi } from '../sdk/abi/Inbox.js'
import { marginEngineAbi } from '../sdk/abi/MarginEngine.js'
import { originSettlerAbi, originSettlerBytecode } from '../sdk/abi/OriginSettler.js'
import { repoDeskAbi, repoDeskBytecode } from '../sdk/abi/RepoDesk.js'
import { reserveBackedTokenAbi } from '../sdk/abi/ReserveBackedToken.js'
import { reserveReporterAbi, reserveReporterBytecode } from '../sdk/abi/ReserveReporter.js'
import { settlementEscrowAbi, settlementEscrowBytecode } from '../sdk/abi/SettlementEscrow.js'
import type { ChainEntry } from '../sdk/manifest.js'
import { assetId, HUB_CHAIN, RESERVE_ASSETS } from './margin.js'
import { call, deploy, type Step } from './steps.js'

/** Who may hold the permissioned tokens, and who fills intents (devnet roles). */
export type SettlementSetup = {
  /** Allowlisted on every reserve-backed token besides the contracts that must hold it. */
  institutions: readonly Address[]
  /** Devnet: gets SOLVER_USDC on every chain to fill intents from its own funds. */
  solver?: Address
}

/** The solver's float on every chain (devnet). */
export const SOLVER_USDC = parseUnits('1000000', 6)
/** Gas the hub's CollateralGate gets for a reserve status; measured ~60k, doubled for headroom. */
const RESERVE_REPORT_GAS = 150_000
/** An unchanged reserve status is re-sent at most this often (a change goes out at once). */
export const RESERVE_REPORT_INTERVAL_S = 60

/**
 * The settlement stack on one chain (docs/settlement.md). Every chain: a SettlementEscrow for DvP
 * legs, an HtlcEscrow for counterparties that trust no relayer, and ERC-7683 origin and destination
 * settlers paired with every other chain. The hub also gets the DvPCoordinator (its own escrow reports
 * over the hub's loopback lane, see deployAll), the RepoDesk and the CollateralGate that gates reserve-backed collateral; the
 * chain of a reserve-backed token gets the ReserveReporter that tells the gate. Needs the margin stack.
 */
export function planSettlement(
  entry: ChainEntry,
  others: readonly ChainEntry[],
  setup: SettlementSetup,
  owner: Address,
): Step[] {
  const hub = entry.name === HUB_CHAIN ? entry : others.find((c) => c.name === HUB_CHAIN)
  if (!hub) return []
  const me = entry.name
  const steps: Step[] = []
  if (entry === hub) {
    steps.push(
      deploy('DvPCoordinator', (book) =>
        encodeDeployData({
          abi: dvPCoordinatorAbi,
          bytecode: dvPCoordinatorBytecode,
          args: [book(me, 'Outbox'), book(me, 'Inbox')],
        }),
      ),
      // Leg reports come from the escrow of every chain, the hub's own included.
      ...[hub, ...others].map((source) => receiver(me, source, 'DvPCoordinator')),
      deploy('RepoDesk', (book) =>
        encodeDeployData({
          abi: repoDeskAbi,
          bytecode: repoDeskBytecode,
          args: [book(me, 'DvPCoordinator')],
        }),
      ),
      deploy('CollateralGate', (book) =>
        encodeDeployData({
          abi: collateralGateAbi,
          bytecode: collateralGateBytecode,
          args: [owner, book(me, 'Inbox')],
        }),
      ),
    )
    for (const asset of RESERVE_ASSETS) {
      for (const chain of others.filter((c) => (asset.chains as readonly string[]).includes(c.name))) {
        steps.push(
          call('CollateralGate', `setReporter(${chain.name})`, (book) =>
            encodeFunctionData({
              abi: collateralGateAbi,
              functionName: 'setReporter',
              args: [BigInt(chain.chainId), book(chain.name, 'ReserveReporter')],
            }),
          ),
          call('CollateralGate', `setTracked(${chain.name}, ${asset.symbol})`, (book) =>
            encodeFunctionData({
              abi: collateralGateAbi,
              functionName: 'setTracked',
              args: [BigInt(chain.chainId), book(chain.name, asset.symbol), true],
            }),
          ),
          receiver(me, chain, 'CollateralGate'),
        )
      }
      steps.push(
        call('MarginEngine', `setAssetGate(${asset.symbol})`, (book) =>
          encodeFunctionData({
            abi: marginEngineAbi,
            functionName: 'setAssetGate',
            args: [assetId(asset.symbol), book(me, 'CollateralGate'), true],
          }),
        ),
      )
    }
  }
  steps.push(
    deploy('SettlementEscrow', (book) =>
      encodeDeployData({
        abi: settlementEscrowAbi,
        bytecode: settlementEscrowBytecode,
        args: [book(me, 'Outbox'), book(me, 'Inbox'), BigInt(hub.chainId), book(HUB_CHAIN, 'DvPCoordinator')],
      }),
    ),
    receiver(me, hub, 'SettlementEscrow'),
    deploy('HtlcEscrow', () => encodeDeployData({ abi: htlcEscrowAbi, bytecode: htlcEscrowBytecode })),
    deploy('OriginSettler', (book) =>
      encodeDeployData({
        abi: originSettlerAbi,
        bytecode: originSettlerBytecode,
        args: [owner, book(me, 'Inbox')],
      }),
    ),
    deploy('DestinationSettler', (book) =>
      encodeDeployData({
        abi: destinationSettlerAbi,
        bytecode: destinationSettlerBytecode,
        args: [owner, book(me, 'Outbox')],
      }),
    ),
  )
  for (const other of others) {
    steps.push(
      call('OriginSettler', `setDestinationSettler(${other.name})`, (book) =>
        encodeFunctionData({
          abi: originSettlerAbi,
          functionName: 'setDestinationSettler',
          args: [BigInt(other.chainId), book(other.name, 'DestinationSettler')],
        }),
      ),
      call('DestinationSettler', `setOriginSettler(${other.name})`, (book) =>
        encodeFunctionData({
          abi: destinationSettlerAbi,
          functionName: 'setOriginSettler',
          args: [BigInt(other.chainId), book(other.name, 'OriginSettler')],
        }),
      ),
      receiver(me, other, 'OriginSettler'),
    )
  }
  for (const asset of RESERVE_ASSETS.filter((a) => (a.chains as readonly string[]).includes(me))) {
    steps.push(
      deploy('ReserveReporter', (book) =>
        encodeDeployData({
          abi: reserveReporterAbi,
          bytecode: reserveReporterBytecode,
          args: [
            book(me, 'Outbox'),
            BigInt(hub.chainId),
            book(HUB_CHAIN, 'CollateralGate'),
            RESERVE_REPORT_GAS,
            BigInt(RESERVE_REPORT_INTERVAL_S),
          ],
        }),
      ),
      // The contracts that hold the permissioned token, then the institutions.
      ...['SettlementEscrow', 'HtlcEscrow', 'CollateralVault'].map((holder) =>
        call(asset.symbol, `setInstitution(${holder})`, (book) =>
          encodeFunctionData({
            abi: reserveBackedTokenAbi,
            functionName: 'setInstitution',
            args: [book(me, holder), true],
          }),
        ),
      ),
      ...[owner, ...setup.institutions].map((institution) =>
        call(asset.symbol, `setInstitution(${institution})`, () =>
          encodeFunctionData({
            abi: reserveBackedTokenAbi,
            functionName: 'setInstitution',
            args: [institution, true],
          }),
        ),
      ),
    )
  }
  const solver = setup.solver
  if (solver) {
    steps.push(
      call('USDC', 'mint(solver)', () =>
        encodeFunctionData({ abi: burnMintERC20Abi, functionName: 'mint', args: [solver, SOLVER_USDC] }),
      ),
    )
  }
  return steps
}

/** Inbox allowlists `contract` for messages from `source`. */
const receiver = (me: string, source: ChainEntry, contract: string): Step =>
  call('Inbox', `setReceiver(${source.name}, ${contract})`, (book) =>
    encodeFunctionData({
      abi: inboxAbi,
      functionName: 'setReceiver',
      args: [BigInt(source.chainId), book(me, contract), true],
    }),
  )
