// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Guardable} from "../../src/guardian/Guardable.sol";
import {
    AssetParams,
    ChainParams,
    Globals,
    Health,
    ICollateralGate,
    MarginEngine,
    PositionView,
    RateModel
} from "../../src/margin/MarginEngine.sol";
import {LatencyMath} from "../../src/margin/LatencyMath.sol";
import {Credit, MarginMessages, Release} from "../../src/margin/MarginMessages.sol";
import {MessageReader} from "../messaging/utils/MessageReader.sol";
import {SentMessages} from "../messaging/utils/SentMessages.sol";
import {MarginFixture} from "./MarginFixture.sol";

contract MarginEngineCreditTest is MarginFixture {
    using MessageReader for bytes;

    function test_CreditOpensAPositionWithItsSourceTime() public {
        vm.expectEmit(address(engine));
        emit MarginEngine.Credited(alice, L1, wethL1, 10e18, uint64(block.timestamp), keccak256(abi.encode("message", 1)));
        _credit(L1, alice, wethL1, 10e18);

        PositionView[] memory positions = engine.positionsOf(alice);
        assertEq(positions.length, 1);
        assertEq(positions[0].chainId, L1);
        assertEq(positions[0].token, wethL1);
        assertEq(positions[0].assetId, weth);
        assertEq(positions[0].amount, 10e18);
        assertEq(positions[0].sourceTime, block.timestamp);
        assertEq(positions[0].valueUsd, 30_000e18);
        assertTrue(positions[0].fresh);
        (, uint256 total) = engine.assetParams(weth);
        assertEq(total, 10e18);
    }

    function test_SameAssetOnTwoChainsIsTwoPositions() public {
        _credit(L1, alice, wethL1, 10e18);
        _credit(BASE, alice, wethBase, 5e18);
        _credit(L1, alice, wethL1, 1e18);
        PositionView[] memory positions = engine.positionsOf(alice);
        assertEq(positions.length, 2);
        assertEq(positions[0].amount, 11e18);
        assertEq(positions[1].amount, 5e18);
    }

    function test_RevertWhen_CallerIsNotTheInbox() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineUnauthorizedCaller.selector, stranger));
        engine.receiveMessage(_delivery(L1, vaultL1, ""));
    }

    function test_RevertWhen_CreditComesFromAnotherSender() public {
        bytes memory payload = MarginMessages.encodeCredit(_creditOf(alice, wethL1, 1e18));
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineUnknownVault.selector, L1, stranger));
        engine.receiveMessage(_delivery(L1, stranger, payload));
        // The L1 vault's address speaking for base is no vault either.
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineUnknownVault.selector, BASE, vaultL1));
        engine.receiveMessage(_delivery(BASE, vaultL1, payload));
    }

    function test_RevertWhen_CreditComesFromAnUnknownChain() public {
        bytes memory payload = MarginMessages.encodeCredit(_creditOf(alice, wethL1, 1e18));
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineUnknownVault.selector, 999, vaultL1));
        engine.receiveMessage(_delivery(999, vaultL1, payload));
    }

    function test_RevertWhen_PayloadIsAReleaseOrZero() public {
        bytes memory release = MarginMessages.encodeRelease(Release(alice, wethL1, 1, alice, 0));
        vm.expectRevert(abi.encodeWithSelector(MarginMessages.MarginMessageBadKind.selector, 2));
        engine.receiveMessage(_delivery(L1, vaultL1, release));
        bytes memory zero = MarginMessages.encodeCredit(_creditOf(alice, wethL1, 0));
        vm.expectRevert(MarginEngine.EngineZeroAmount.selector);
        engine.receiveMessage(_delivery(L1, vaultL1, zero));
    }

    function test_UnknownTokenIsRefundedToTheDepositor() public {
        address junk = makeAddr("junk");
        vm.recordLogs();
        _credit(L1, alice, junk, 7e18);
        (bytes memory message, Release memory release) = _lastRelease();
        assertEq(message.destChainId(), L1);
        assertEq(message.receiver(), vaultL1);
        assertEq(release.recipient, alice);
        assertEq(release.token, junk);
        assertEq(release.amount, 7e18);
        assertEq(release.reason, MarginMessages.REASON_REFUND);
        assertEq(engine.positionsOf(alice).length, 0);
    }

    function test_CreditOverTheSupplyCapIsRefunded() public {
        AssetParams memory params = _wethParams();
        params.supplyCap = 12e18;
        vm.prank(owner);
        engine.setAsset(weth, params);
        _credit(L1, alice, wethL1, 10e18);
        vm.recordLogs();
        // The refund's message id is only known once sent: check everything else.
        vm.expectEmit(true, true, true, false, address(engine));
        emit MarginEngine.CreditRefunded(
            bob, BASE, wethBase, 3e18, MarginEngine.EngineOverSupplyCap.selector, bytes32(0)
        );
        _credit(BASE, bob, wethBase, 3e18);
        assertEq(engine.positionsOf(bob).length, 0);
    }

    function test_CreditOfAnIneligibleAssetIsRefunded() public {
        AssetParams memory params = _wethParams();
        params.enabled = false;
        vm.prank(owner);
        engine.setAsset(weth, params);
        vm.recordLogs();
        _credit(L1, alice, wethL1, 1e18);
        (, Release memory release) = _lastRelease();
        assertEq(release.reason, MarginMessages.REASON_REFUND);
    }

    function test_RevertWhen_DepositsArePausedSoTheMessageCanBeRetried() public {
        vm.prank(guardian);
        engine.pause(L1, 4); // PAUSE_DEPOSIT
        bytes memory payload = MarginMessages.encodeCredit(_creditOf(alice, wethL1, 1e18));
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianPaused.selector, L1, 4));
        engine.receiveMessage(_delivery(L1, vaultL1, payload));
    }

    function test_DepositAndBorrowInOneMessage() public {
        _creditAndBorrow(L1, alice, wethL1, 10e18, 1000e6, HUB, alice);
        assertEq(usdc.balanceOf(alice), 1000e6);
        assertEq(engine.debtOf(alice), 1000e6);
    }

    function test_AFailedBorrowInstructionStillCreditsTheDeposit() public {
        vm.recordLogs();
        _creditAndBorrow(L1, alice, wethL1, 1e18, 100_000e6, HUB, alice);
        assertEq(engine.positionsOf(alice).length, 1);
        assertEq(engine.debtOf(alice), 0);
        assertEq(usdc.balanceOf(alice), 0);
    }

    function _creditOf(address account, address token, uint256 amount) internal view returns (Credit memory) {
        return Credit(account, token, amount, uint64(block.timestamp), 0, 0, address(0));
    }
}


contract MarginEngineBorrowTest is MarginFixture {
    using MessageReader for bytes;

    function setUp() public override {
        super.setUp();
        _credit(L1, alice, wethL1, 10e18);
    }

    function test_BorrowOnTheHub() public {
        vm.prank(alice);
        bytes32 id = engine.borrow(20_000e6, HUB, alice);
        assertEq(id, bytes32(0));
        assertEq(usdc.balanceOf(alice), 20_000e6);
        assertEq(engine.debtOf(alice), 20_000e6);
        assertEq(engine.cash(), 980_000e6);
        Health memory h = _health(alice);
        assertGe(h.borrowHf, WAD);
        assertGt(h.lhf, h.borrowHf);
    }

    function test_BorrowDeliveredToASpokeBurnsOnTheHub() public {
        vm.recordLogs();
        vm.prank(alice);
        bytes32 id = engine.borrow(5000e6, BASE, bob);
        bytes memory message = _lastMessage();
        assertEq(keccak256(message), id);
        assertEq(message.destChainId(), BASE);
        assertEq(message.receiver(), bob);
        (address token, uint256 amount) = message.tokenAt(0);
        assertEq(token, address(usdc));
        assertEq(amount, 5000e6);
        assertEq(usdc.balanceOf(address(engine)), 995_000e6, "burned on the hub, minted on base");
        assertEq(engine.debtOf(alice), 5000e6);
    }

    function test_RevertWhen_BorrowingPastTheLimitCarriesRequiredAndAvailable() public {
        Health memory h = _health(alice);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(MarginEngine.EngineInsufficientCollateral.selector, 24_000e18, h.borrowPowerUsd)
        );
        engine.borrow(24_000e6, HUB, alice);
    }

    function test_RevertWhen_BorrowingZeroOrToNobody() public {
        vm.startPrank(alice);
        vm.expectRevert(MarginEngine.EngineZeroAmount.selector);
        engine.borrow(0, HUB, alice);
        vm.expectRevert(MarginEngine.EngineZeroAddress.selector);
        engine.borrow(1e6, HUB, address(0));
        vm.stopPrank();
    }

    function test_RevertWhen_BorrowingMoreThanThePoolHolds() public {
        _credit(L1, bob, wethL1, 1000e18);
        vm.prank(bob);
        vm.expectRevert(
            abi.encodeWithSelector(MarginEngine.EngineInsufficientLiquidity.selector, 1_000_001e6, 1_000_000e6)
        );
        engine.borrow(1_000_001e6, HUB, bob);
    }

    function test_StalePriceGivesNoBorrowingPower() public {
        vm.warp(block.timestamp + 3600 + 601);
        Health memory h = _health(alice);
        assertEq(h.borrowPowerUsd, 0);
        assertGt(h.liquidationValueUsd, 0, "a stale position still counts for liquidation");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineInsufficientCollateral.selector, 1e18, 0));
        engine.borrow(1e6, HUB, alice);
    }

    function test_RevertWhen_PriceIsNotPositive() public {
        ethFeed.set(0, block.timestamp);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineBadPrice.selector, weth, int256(0)));
        engine.borrow(1e6, HUB, alice);
        ethFeed.set(-1, block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineBadPrice.selector, weth, int256(-1)));
        engine.healthOf(alice);
    }

    function test_CollateralOnThreeChainsAddsUp() public {
        _credit(BASE, alice, wethBase, 5e18);
        _credit(BANK, alice, wbtcBank, 1e8);
        Health memory h = _health(alice);
        assertEq(h.collateralUsd, 30_000e18 + 15_000e18 + 60_000e18);
        vm.prank(alice);
        engine.borrow(75_000e6, HUB, alice);
        assertGe(_health(alice).borrowHf, WAD);
    }

    function test_RepayPartThenAll() public {
        vm.prank(alice);
        engine.borrow(10_000e6, HUB, alice);
        vm.startPrank(alice);
        usdc.approve(address(engine), type(uint256).max);
        assertEq(engine.repay(4000e6, alice), 4000e6);
        assertEq(engine.debtOf(alice), 6000e6);
        vm.stopPrank();
        // Someone else repays the rest, and more than is owed is not taken.
        vm.prank(liquidator);
        assertEq(engine.repay(1_000_000e6, alice), 6000e6);
        assertEq(engine.debtOf(alice), 0);
        vm.prank(liquidator);
        vm.expectRevert(MarginEngine.EngineNothingToRepay.selector);
        engine.repay(1, alice);
    }

    function test_InterestAccruesOnTheKinkedModel() public {
        vm.prank(alice);
        engine.borrow(20_000e6, HUB, alice);
        // Utilization 2%: rate = 0.04 · 0.02 / 0.8 = 0.1%/yr.
        assertApproxEqRel(engine.borrowRate(), 0.001e18, 1e12);
        vm.warp(block.timestamp + 365 days);
        assertApproxEqRel(engine.debtOf(alice), 20_020e6, 1e14);
        assertApproxEqRel(engine.totalAssets(), 1_000_020e6, 1e14);
    }

    function test_RateAboveTheKinkRisesSteeply() public {
        _credit(L1, bob, wethL1, 1000e18);
        vm.prank(bob);
        engine.borrow(900_000e6, HUB, bob);
        // U = 0.9: 0.04 + 0.75 · 0.1 / 0.2 = 41.5%/yr.
        assertApproxEqRel(engine.borrowRate(), 0.415e18, 1e12);
    }

    function _lastMessage() internal returns (bytes memory) {
        return SentMessages.last(address(outbox));
    }
}


contract MarginEngineWithdrawTest is MarginFixture {
    using MessageReader for bytes;

    function setUp() public override {
        super.setUp();
        _credit(L1, alice, wethL1, 10e18);
    }

    function test_WithdrawDebitsFirstThenSendsTheRelease() public {
        vm.recordLogs();
        vm.prank(alice);
        bytes32 id = engine.withdraw(L1, wethL1, 4e18, bob);
        (bytes memory message, Release memory release) = _lastRelease();
        assertEq(keccak256(message), id);
        assertEq(message.receiver(), vaultL1);
        assertEq(release.account, alice);
        assertEq(release.recipient, bob);
        assertEq(release.amount, 4e18);
        assertEq(release.reason, MarginMessages.REASON_WITHDRAW);
        assertEq(engine.positionOf(alice, L1, wethL1).amount, 6e18);
    }

    function test_WithdrawingEverythingClosesThePosition() public {
        _credit(BASE, alice, wethBase, 1e18);
        vm.prank(alice);
        engine.withdraw(L1, wethL1, 10e18, alice);
        PositionView[] memory positions = engine.positionsOf(alice);
        assertEq(positions.length, 1);
        assertEq(positions[0].chainId, BASE);
        (, uint256 total) = engine.assetParams(weth);
        assertEq(total, 1e18);
    }

    function test_RevertWhen_WithdrawingCollateralThatBacksDebt() public {
        vm.prank(alice);
        engine.borrow(20_000e6, HUB, alice);
        vm.prank(alice);
        vm.expectPartialRevert(MarginEngine.EngineInsufficientCollateral.selector);
        engine.withdraw(L1, wethL1, 2e18, alice);
        assertEq(engine.positionOf(alice, L1, wethL1).amount, 10e18);
    }

    function test_RevertWhen_WithdrawingMoreThanThePosition() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineExceedsPosition.selector, 11e18, 10e18));
        engine.withdraw(L1, wethL1, 11e18, alice);
    }

    function test_RevertWhen_WithdrawingFromAnUnknownChainOrZero() public {
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineUnknownChain.selector, 999));
        engine.withdraw(999, wethL1, 1, alice);
        vm.expectRevert(MarginEngine.EngineZeroAmount.selector);
        engine.withdraw(L1, wethL1, 0, alice);
        vm.stopPrank();
    }

    function test_RevertWhen_WithdrawalsArePaused() public {
        vm.prank(guardian);
        engine.pause(0, 8); // PAUSE_WITHDRAW everywhere
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianPaused.selector, 0, 8));
        engine.withdraw(L1, wethL1, 1e18, alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianPaused.selector, 0, 8));
        engine.borrow(1e6, HUB, alice);
    }
}

contract MarginEngineLiquidationTest is MarginFixture {
    using MessageReader for bytes;

    function setUp() public override {
        super.setUp();
        _credit(L1, alice, wethL1, 10e18);
        vm.prank(alice);
        engine.borrow(23_000e6, HUB, alice);
    }

    function test_RevertWhen_AccountIsHealthy() public {
        uint256 lhf = _health(alice).lhf;
        vm.prank(liquidator);
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineNotLiquidatable.selector, lhf));
        engine.liquidate(alice, L1, wethL1, 1000e6, liquidator);
    }

    function test_LiquidationRepaysHalfAndSeizesWithTheRemoteBonus() public {
        _ethPrice(2700e8);
        Health memory before = _health(alice);
        assertLt(before.lhf, WAD);
        assertGt(before.lhf, 0.95e18);

        vm.recordLogs();
        vm.prank(liquidator);
        (uint256 repaid, uint256 seized,) = engine.liquidate(alice, L1, wethL1, 100_000e6, liquidator);
        assertEq(repaid, 11_500e6, "close factor 50%");
        // Bonus: LB + σ·√L/√(2π), L = hub finality + relay = 1080 s.
        uint256 bonus = 1.05e18 + uint256(0.7e18) * 5_852_057_359_806_528 / 1e18 * 398_942_280_401_432_678 / 1e18;
        assertApproxEqRel(seized, 11_500e18 * bonus / 2700e18, 1e12);
        assertGt(seized, uint256(11_500e18) * 1.05e18 / 2700e18, "more than the local bonus");

        (bytes memory message, Release memory release) = _lastRelease();
        assertEq(message.destChainId(), L1);
        assertEq(release.recipient, liquidator);
        assertEq(release.amount, seized);
        assertEq(release.reason, MarginMessages.REASON_SEIZE);
        assertEq(engine.debtOf(alice), 11_500e6);
        assertGe(_health(alice).lhf, before.lhf, "never lowers LHF");
    }

    function test_BelowPoint95TheWholeDebtMayBeRepaid() public {
        _ethPrice(2600e8);
        assertLe(_health(alice).lhf, 0.95e18);
        vm.prank(liquidator);
        (uint256 repaid,,) = engine.liquidate(alice, L1, wethL1, 100_000e6, liquidator);
        assertEq(repaid, 23_000e6);
    }

    function test_StalePricesNeverBlockLiquidation() public {
        _ethPrice(2700e8);
        vm.warp(block.timestamp + 2 days);
        vm.prank(liquidator);
        (uint256 repaid,,) = engine.liquidate(alice, L1, wethL1, 1000e6, liquidator);
        assertEq(repaid, 1000e6);
    }

    function test_DeeplyUnderwaterTheBonusShrinksSoHealthCannotFall() public {
        _ethPrice(1500e8);
        Health memory before = _health(alice);
        vm.prank(liquidator);
        (uint256 repaid, uint256 seized,) = engine.liquidate(alice, L1, wethL1, 1000e6, liquidator);
        // Bonus capped at LHF / (LT·λ) < 1: the liquidator receives less than it repaid.
        assertLt(seized * 1500e8 / 1e8, repaid * 1e12 * 1e8 / 1e8);
        assertGe(_health(alice).lhf, before.lhf);
    }

    function test_RevertWhen_LiquidationsArePaused() public {
        _ethPrice(2700e8);
        vm.prank(guardian);
        engine.pause(L1, 16);
        vm.prank(liquidator);
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianPaused.selector, L1, 16));
        engine.liquidate(alice, L1, wethL1, 1000e6, liquidator);
    }

    function test_RevertWhen_SeizingAPositionTheAccountDoesNotHave() public {
        _ethPrice(2700e8);
        vm.prank(liquidator);
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineExceedsPosition.selector, 1, 0));
        engine.liquidate(alice, BASE, wethBase, 1000e6, liquidator);
    }

    function test_MarginCallBelowTheCallLevel() public {
        _ethPrice(3300e8);
        uint256 lhf = _health(alice).lhf;
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineNotBelowCallLevel.selector, lhf, 1.1e18));
        engine.marginCall(alice);
        _ethPrice(2900e8);
        lhf = _health(alice).lhf;
        vm.expectEmit(address(engine));
        emit MarginEngine.MarginCall(alice, lhf, 1.1e18);
        engine.marginCall(alice);
    }
}

contract MarginEngineAccessTest is MarginFixture {
    function test_RevertWhen_StrangersConfigure() public {
        bytes memory notOwner = abi.encodeWithSignature("OwnableUnauthorizedAccount(address)", stranger);
        vm.startPrank(stranger);
        vm.expectRevert(notOwner);
        engine.listAsset(_wethParams());
        vm.expectRevert(notOwner);
        engine.setAsset(weth, _wethParams());
        vm.expectRevert(notOwner);
        engine.setAssetToken(L1, wethL1, 0);
        vm.expectRevert(notOwner);
        engine.setChain(L1, ChainParams(stranger, 0, 0, 0, 0, true));
        vm.expectRevert(notOwner);
        engine.setGlobals(Globals(0, 0, 0, 1e18, 0));
        vm.expectRevert(notOwner);
        engine.setRateModel(RateModel(0, 0, 0, 0.5e18));
        vm.expectRevert(notOwner);
        engine.unpause(0, 8);
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianUnauthorized.selector, stranger));
        engine.pause(0, 8);
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineUnauthorizedCaller.selector, stranger));
        engine.applyCredit(L1, Credit(stranger, wethL1, 1, 0, 0, 0, address(0)));
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineUnauthorizedCaller.selector, stranger));
        engine.borrowInstruction(stranger, 1, HUB, stranger);
        vm.stopPrank();
    }

    function test_RevertWhen_RiskParametersAreInconsistent() public {
        AssetParams memory params = _wethParams();
        vm.startPrank(owner);
        params.ltv = 0.9e18;
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineInvalidConfig.selector, "ltv > liquidation threshold"));
        engine.setAsset(weth, params);
        params = _wethParams();
        params.liquidationBonus = 1.25e18; // LT·LB ≥ 1
        vm.expectPartialRevert(LatencyMath.LatencyMathBadRiskParams.selector);
        engine.setAsset(weth, params);
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineInvalidConfig.selector, "unknown asset"));
        engine.setAssetToken(L1, wethL1, 9);
        vm.stopPrank();
    }
}


/// @dev A gate the test opens and closes (the real one, CollateralGate, has its own tests).
contract SwitchGate is ICollateralGate {
    bool public open = true;

    function set(bool open_) external {
        open = open_;
    }

    function isEligible(uint64, address) external view returns (bool) {
        return open;
    }
}

contract MarginEngineGateTest is MarginFixture {
    SwitchGate internal gate;

    function setUp() public override {
        super.setUp();
        gate = new SwitchGate();
        vm.prank(owner);
        engine.setAssetGate(wbtc, gate, true);
        _credit(BANK, alice, wbtcBank, 1e8);
    }

    function test_AClosedGateZeroesTheAssetsWeight() public {
        Health memory open = _health(alice);
        assertGt(open.borrowPowerUsd, 0);
        gate.set(false);
        Health memory closed = _health(alice);
        assertEq(closed.borrowPowerUsd, 0);
        assertEq(closed.liquidationValueUsd, 0);
        assertEq(closed.collateralUsd, open.collateralUsd, "still held, just weightless");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(MarginEngine.EngineInsufficientCollateral.selector, 1e18, 0));
        engine.borrow(1e6, HUB, alice);
        gate.set(true);
        assertEq(_health(alice).borrowPowerUsd, open.borrowPowerUsd, "reserves recovered: weight back");
    }

    function test_CreditWhileTheGateIsClosedIsRefunded() public {
        gate.set(false);
        vm.recordLogs();
        _credit(BANK, bob, wbtcBank, 1e8);
        (, Release memory release) = _lastRelease();
        assertEq(release.reason, MarginMessages.REASON_REFUND);
        assertEq(engine.positionsOf(bob).length, 0);
    }

    function test_UngatedAssetsNeverAskTheGate() public {
        gate.set(false);
        _credit(L1, bob, wethL1, 1e18);
        assertGt(_health(bob).borrowPowerUsd, 0);
    }

    function test_RevertWhen_StrangersSetTheGate() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSignature("OwnableUnauthorizedAccount(address)", stranger));
        engine.setAssetGate(wbtc, gate, false);
    }
}
