// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {Test} from "forge-std/Test.sol";
import {CollateralVault} from "../../../src/margin/CollateralVault.sol";
import {LatencyModel} from "../../../src/margin/LatencyModel.sol";
import {AssetParams, ChainParams, Globals, MarginEngine, RateModel} from "../../../src/margin/MarginEngine.sol";
import {Outbox} from "../../../src/messaging/Outbox.sol";
import {BurnMintPool} from "../../../src/messaging/pools/BurnMintPool.sol";
import {BurnMintERC20} from "../../../src/tokens/BurnMintERC20.sol";
import {MessageLibHarness} from "../../messaging/utils/MessageLibHarness.sol";
import {MockAggregator} from "../mocks/MockAggregator.sol";
import {TestAssets} from "../utils/TestAssets.sol";
import {Hub, MarginHandler, Pair, PairGhost} from "./MarginHandler.sol";

/// @notice The margin system's deployment for the invariant suite: one EVM, the chain id switched
/// between the spokes (31001, 31003) and the hub (31002) as the fixtures do. Real CollateralVaults and
/// Outboxes on the spokes; the real MarginEngine, LatencyModel, hub Outbox and USDC burn/mint pool on
/// the hub; MockAggregator prices. Three (spoke, token) pairs: WETH and WBTC on L1, WETH on BASE (WETH
/// on two chains is one asset, two positions). WBTC has a supply cap (credits over it are refunded)
/// and an unwind term. The handler plays every Inbox (see MarginHandler).
abstract contract MarginInvariantSetup is Test {
    uint64 internal constant L1 = 31_001;
    uint64 internal constant HUB = 31_002;
    uint64 internal constant BASE = 31_003;
    uint256 internal constant WAD = 1e18;
    uint256 internal constant LIQUIDITY = 100_000_000e6;
    uint128 internal constant WBTC_CAP = 5e8;

    address internal owner = makeAddr("owner");
    address internal guardian = makeAddr("guardian");
    address internal lender = makeAddr("lender");
    address internal hubInbox = makeAddr("hubInbox");

    MarginEngine internal engine;
    Outbox internal hubOutbox;
    BurnMintERC20 internal usdc;
    MockAggregator internal ethFeed;
    MockAggregator internal btcFeed;
    uint16 internal weth;
    uint16 internal wbtc;
    MarginHandler internal handler;
    address[] internal actors;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        vm.chainId(HUB);
        usdc = new BurnMintERC20("USD Coin", "USDC", 6, owner);
        hubOutbox = new Outbox(owner, guardian);
        engine = new MarginEngine(owner, guardian, hubOutbox, hubInbox, HUB, usdc, new LatencyModel());
        BurnMintPool usdcPool = new BurnMintPool(usdc, address(hubOutbox), address(0xdead));
        ethFeed = new MockAggregator(8, 3000e8);
        btcFeed = new MockAggregator(8, 60_000e8);

        vm.startPrank(owner);
        usdc.setMinter(owner, true);
        usdc.setMinter(address(usdcPool), true);
        hubOutbox.setLane(L1, true);
        hubOutbox.setLane(BASE, true);
        hubOutbox.setPool(address(usdc), usdcPool);
        weth = engine.listAsset(_wethParams());
        wbtc = engine.listAsset(_wbtcParams());
        engine.setGlobals(Globals(60, 1020, 600, 1.1e18, 2000e18));
        engine.setRateModel(RateModel(0, 0.04e18, 0.75e18, 0.8e18));
        usdc.mint(lender, LIQUIDITY);
        vm.stopPrank();
        vm.startPrank(lender);
        usdc.approve(address(engine), LIQUIDITY);
        engine.supply(LIQUIDITY);
        vm.stopPrank();

        Pair[] memory pairs = new Pair[](3);
        (Outbox l1Outbox, CollateralVault l1Vault) = _spoke(L1);
        (Outbox baseOutbox, CollateralVault baseVault) = _spoke(BASE);
        pairs[0] = _pair(L1, l1Outbox, l1Vault, "WETH", 18, ethFeed, weth, 50e18);
        pairs[1] = _pair(L1, l1Outbox, l1Vault, "WBTC", 8, btcFeed, wbtc, 3e8);
        pairs[2] = _pair(BASE, baseOutbox, baseVault, "WETH", 18, ethFeed, weth, 50e18);

        actors.push(makeAddr("alice"));
        actors.push(makeAddr("bob"));
        actors.push(makeAddr("carol"));
        actors.push(makeAddr("dave"));
        MockAggregator[] memory feeds = new MockAggregator[](2);
        (feeds[0], feeds[1]) = (ethFeed, btcFeed);
        handler = new MarginHandler(
            Hub(engine, hubOutbox, hubInbox, usdc, HUB), pairs, actors, feeds, new MessageLibHarness()
        );
        vm.startPrank(owner);
        usdc.setMinter(address(handler), true);
        for (uint256 p; p < pairs.length; ++p) {
            pairs[p].token.setMinter(address(handler), true);
        }
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- checks

    /// @notice Invariant 1 and the books behind it, per (spoke, token).
    function _assertConservation(uint256 p) internal view {
        Pair memory pair = handler.pairAt(p);
        PairGhost memory g = handler.ghost(p);
        uint256 locked = pair.vault.locked(address(pair.token));
        uint256 hub = handler.hubCredits(p);
        assertEq(pair.token.balanceOf(address(pair.vault)), locked, "vault: balance != locked");
        // DESIGN §11.1: hub credits + credits in flight <= locked; releases <= hub debits.
        assertLe(hub + g.creditsInFlight, locked, "inv1: hub credits + credits in flight > locked");
        assertLe(g.releasedForDebits, g.debited, "inv1: released > hub debits");
        assertLe(g.releasedRefunds, g.refused, "inv1: refunded > credits the hub refused");
        // Exactly: what is locked is on the hub, or on its way there, or on its way back.
        assertEq(
            hub + g.creditsInFlight + g.releasesInFlight, locked, "inv1: locked != hub + credits + releases in flight"
        );
        assertEq(hub + g.debited, g.credited, "hub credits != credited - debited");
        assertEq(locked + g.releasedForDebits + g.releasedRefunds, g.deposited, "locked != deposited - released");
        assertEq(
            g.debited + g.refused,
            g.releasedForDebits + g.releasedRefunds + g.releasesInFlight,
            "a debit or refusal without exactly one release"
        );
    }

    /// @notice The engine's per-asset total is the sum of its positions over every chain.
    function _assertAssetTotals() internal view {
        uint256[3] memory totals;
        for (uint256 p; p < handler.pairCount(); ++p) {
            totals[handler.pairAt(p).assetId] += handler.hubCredits(p);
        }
        (, uint256 wethTotal) = engine.assetParams(weth);
        (, uint256 wbtcTotal) = engine.assetParams(wbtc);
        assertEq(wethTotal, totals[weth], "WETH total != its positions");
        assertEq(wbtcTotal, totals[wbtc], "WBTC total != its positions");
        assertLe(wbtcTotal, WBTC_CAP, "WBTC over its supply cap");
    }

    function _assertNoViolation() internal view {
        assertEq(handler.violationCount(), 0, handler.violation());
    }

    // ---------------------------------------------------------------- deployment

    function _spoke(uint64 chainId) private returns (Outbox outbox, CollateralVault vault) {
        vm.chainId(chainId);
        outbox = new Outbox(owner, guardian);
        vault = new CollateralVault(owner, guardian, outbox, _spokeInbox(chainId), HUB, address(engine));
        vm.prank(owner);
        outbox.setLane(HUB, true);
        vm.chainId(HUB);
        vm.prank(owner);
        engine.setChain(chainId, ChainParams(address(vault), 60, 60, 0.02e18, 1e18, true));
    }

    function _pair(
        uint64 chainId,
        Outbox outbox,
        CollateralVault vault,
        string memory symbol,
        uint8 decimals,
        MockAggregator feed,
        uint16 assetId,
        uint256 maxDeposit
    ) private returns (Pair memory) {
        BurnMintERC20 token = new BurnMintERC20(symbol, symbol, decimals, owner);
        vm.startPrank(owner);
        vault.setToken(address(token), true);
        engine.setAssetToken(chainId, address(token), assetId);
        vm.stopPrank();
        return Pair(chainId, vault, outbox, _spokeInbox(chainId), token, feed, assetId, maxDeposit);
    }

    function _spokeInbox(uint64 chainId) private returns (address) {
        return makeAddr(string.concat("inbox", vm.toString(chainId)));
    }

    function _wethParams() private view returns (AssetParams memory) {
        return TestAssets.weth(ethFeed);
    }

    /// @dev With market depth (an unwind term) and a supply cap, so refunds and unwinding get exercised.
    function _wbtcParams() private view returns (AssetParams memory params) {
        params = TestAssets.wbtc(btcFeed);
        params.unwindPerDay = 200e8;
        params.supplyCap = WBTC_CAP;
    }
}

/// @notice DESIGN §11 invariants 1, 3, 4 and 5 of the margin system under random operation sequences:
/// 1. conservation per (spoke, token): hub credits + credits in flight ≤ locked in the vault (exactly:
///    + releases in flight = locked), releases ≤ hub debits — {invariant_marginIsSafe}, after every call;
/// 3. every release on a spoke is caused by a hub debit that happened first — checked by the handler
///    as each release is sent (it is the debit just made) and paid (an account's releases never
///    exceed its debits so far), and the vault refuses releases not from the engine;
/// 4. after a borrow or withdrawal (deposit-and-borrow included) borrowing power ≥ debt, and a refusal
///    for collateral was right — checked by the handler after each call;
/// 5. liquidation only when LHF < 1, never lowering LHF — checked by the handler around each call, and
///    on every run's final state after a price crash ({afterInvariant}).
/// The handler records violations rather than reverting (fail_on_revert is off); they surface here.
contract MarginInvariantTest is MarginInvariantSetup {
    /// @dev Actions every run's random phase must have made succeed (counted from the end of setUp).
    string[4] internal progress = ["deposit", "deliverCredit", "movePrice", "warp"];
    /// @dev Actions every run must have made succeed by the end of its endgame.
    string[4] internal endgame = ["borrow", "liquidate", "withdraw", "deliverRelease"];
    mapping(string action => uint256) internal baseline;

    function setUp() public override {
        super.setUp();
        // Every run starts with each actor holding one credited position (a different pair each):
        // through the handler, so its books start from the same state.
        for (uint256 a; a < actors.length; ++a) {
            handler.deposit(a, a, 2 ** 255, 1);
            handler.deliverCredit(1);
        }
        for (uint256 i; i < progress.length; ++i) {
            baseline[progress[i]] = handler.successes(progress[i]);
        }

        bytes4[] memory selectors = new bytes4[](10);
        selectors[0] = MarginHandler.deposit.selector;
        selectors[1] = MarginHandler.deliverCredit.selector;
        selectors[2] = MarginHandler.borrow.selector;
        selectors[3] = MarginHandler.repay.selector;
        selectors[4] = MarginHandler.withdraw.selector;
        selectors[5] = MarginHandler.deliverRelease.selector;
        selectors[6] = MarginHandler.liquidate.selector;
        selectors[7] = MarginHandler.forgeRelease.selector;
        selectors[8] = MarginHandler.movePrice.selector;
        selectors[9] = MarginHandler.warp.selector;
        targetContract(address(handler));
        targetSelector(StdInvariant.FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice Every property in one campaign (forge runs a full campaign per invariant function).
    function invariant_marginIsSafe() public view {
        _assertNoViolation();
        for (uint256 p; p < handler.pairCount(); ++p) {
            _assertConservation(p);
        }
        _assertAssetTotals();
    }

    /// @notice After each run: it was not vacuous; then an endgame that makes every run exercise
    /// borrowing, liquidation, withdrawal and release on its own final state: prices fresh, every actor
    /// deposits and borrows to just under its borrowing power, every price falls 40% and every account
    /// below LHF 1 is liquidated (invariant 5), then every debt is repaid and every position withdrawn.
    /// Nothing is lost: once everything in flight is delivered, every vault is empty.
    function afterInvariant() public {
        _assertRunMadeProgress();
        handler.settle(10e18);
        (uint256 candidates, uint256 liquidations) = handler.crashAndLiquidate(4000);
        assertGt(candidates, 0, "endgame: no account fell below LHF 1");
        assertGt(
            liquidations,
            0,
            string.concat(
                "inv5: no account below LHF 1 could be liquidated; last refusal: ",
                vm.toString(handler.lastLiquidationRefusal())
            )
        );
        handler.unwind();
        handler.drain();
        _assertNoViolation();
        assertEq(handler.pendingCredits(), 0, "credits left in flight");
        assertEq(handler.pendingReleases(), 0, "releases left in flight");
        for (uint256 p; p < handler.pairCount(); ++p) {
            _assertConservation(p);
            Pair memory pair = handler.pairAt(p);
            assertEq(handler.hubCredits(p), 0, "unwound: a position is left on the hub");
            assertEq(pair.vault.locked(address(pair.token)), 0, "unwound: collateral is left locked");
            assertEq(pair.token.balanceOf(address(pair.vault)), 0, "unwound: tokens are left in the vault");
        }
        _assertAssetTotals();
        for (uint256 i; i < endgame.length; ++i) {
            assertGt(handler.successes(endgame[i]), 0, string.concat("no successful ", endgame[i], " in this run"));
        }
    }

    function _assertRunMadeProgress() private view {
        for (uint256 i; i < progress.length; ++i) {
            assertGt(
                handler.successes(progress[i]),
                baseline[progress[i]],
                string.concat("no successful ", progress[i], " in this run")
            );
        }
    }
}

/// @notice A scripted sequence through the handler in which every action succeeds at least once
/// (liquidation and a refused credit included), so the handler's wiring cannot silently turn the
/// invariant campaign into a string of no-ops.
contract MarginHandlerSmokeTest is MarginInvariantSetup {
    function test_everyActionSucceeds() public {
        handler.deposit(0, 0, 10e18, 1); // alice, WETH on L1, no borrow
        handler.deposit(1, 2, 5e18, 1); // bob, WETH on BASE
        handler.deliverCredit(1);
        handler.deliverCredit(1);
        handler.borrow(0, 0, 4); // alice borrows exactly her borrowing power, on the hub
        handler.borrow(1, 0, 6); // bob borrows just under his
        handler.repay(1, 0, 100e6);
        handler.movePrice(0, uint256(int256(-1000)), 1); // ETH −10%, fresh
        handler.liquidate(0, 1, 0, 0); // bob liquidates alice, offering her whole debt
        handler.deliverRelease(1);
        handler.withdraw(0, 0, 1); // alice withdraws what is left
        handler.deliverRelease(1);
        for (uint256 i; i < 4; ++i) {
            handler.deposit(2, 1, 3e8, 1); // carol, WBTC on L1: the fourth goes over the cap
        }
        for (uint256 i; i < 4; ++i) {
            handler.deliverCredit(1);
        }
        handler.deliverRelease(1); // the refund
        handler.forgeRelease(0, 0, 1);
        handler.forgeRelease(1, 1, 1);
        handler.warp(8);

        assertEq(handler.violationCount(), 0, handler.violation());
        string[11] memory actions = [
            "deposit",
            "deliverCredit",
            "borrow",
            "repay",
            "movePrice",
            "liquidate",
            "withdraw",
            "deliverRelease",
            "creditRefused",
            "forgeRelease",
            "warp"
        ];
        for (uint256 i; i < actions.length; ++i) {
            assertGt(handler.successes(actions[i]), 0, actions[i]);
        }
        for (uint256 p; p < handler.pairCount(); ++p) {
            _assertConservation(p);
        }
        _assertAssetTotals();
    }
}
