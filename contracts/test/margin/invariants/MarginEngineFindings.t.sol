// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Health} from "../../../src/margin/MarginEngine.sol";
import {MarginFixture} from "../MarginFixture.sol";

/// @notice Minimal reproductions of what the invariant suite (Margin.invariant.t.sol) found in
/// MarginEngine. Both tests FAIL against the engine as it is; each passes once its issue is fixed.
contract MarginEngineFindingsTest is MarginFixture {
    /// @notice DESIGN §11.5: a liquidation never lowers LHF. It does, by debt rounding, when the bonus
    /// is capped (deep under water) and the borrow index is above 1 (any interest accrued).
    /// @dev `_reduceDebt` removes divWad(repaid, index) scaled debt, rounded down, and debt reads
    /// mulWadUp(scaled, index), rounded up: the account is left owing one unit more than debt − repaid
    /// (the liquidator paid 1,000 USDC, the debt fell by 999.999999). `_lhfAfter` assumes exactly
    /// debt − repaid, and with the capped bonus its estimate equals LHF before almost exactly, so the
    /// EngineLiquidationLowersHealth guard passes while the real LHF falls.
    function test_LiquidationNeverLowersLhf_DebtRounding() public {
        _credit(L1, alice, wethL1, 10e18);
        vm.prank(alice);
        engine.borrow(23_000e6, HUB, alice);
        vm.warp(block.timestamp + 1 days);
        _ethPrice(1500e8);
        Health memory before = _health(alice); // LHF 0.541113885397325403, debt 23,000.072466

        vm.prank(liquidator);
        engine.liquidate(alice, L1, wethL1, 1000e6, liquidator); // repaid 1,000: debt now 22,000.072467

        assertGe(_health(alice).lhf, before.lhf, "liquidation lowered LHF"); // 0.541113885372729398
    }

    /// @notice Liveness: an account whose bonus is capped (LHF < LT·λ·LB) cannot have a whole position
    /// seized. An offer that would take more than the position makes the engine seize the position and
    /// recompute `repaid` rounded down to a USDC unit; its own LHF-after estimate then falls just below
    /// LHF before and the EngineLiquidationLowersHealth guard refuses the liquidation. Smaller offers
    /// (seizing less than the position) go through, so the last of a position can be taken only by an
    /// offer that seizes exactly all of it or less.
    function test_WholePositionOfAnAccountDeepUnderWaterCanBeSeized() public {
        _credit(L1, alice, wethL1, 10e18);
        _credit(BASE, alice, wethBase, 1e18);
        vm.prank(alice);
        engine.borrow(25_000e6, HUB, alice);
        _ethPrice(1500e8); // LHF 0.547608977365881353

        vm.prank(liquidator);
        // Reverts: EngineLiquidationLowersHealth(547608977365881353, 547608977348...).
        (, uint256 seized,) = engine.liquidate(alice, BASE, wethBase, 25_000e6, liquidator);
        assertEq(seized, 1e18, "the whole base position");
    }
}
