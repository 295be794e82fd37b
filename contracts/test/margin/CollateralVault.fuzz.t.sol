// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Inbox} from "../../src/messaging/Inbox.sol";
import {CollateralVaultFixture} from "./CollateralVaultFixture.sol";

/// @notice Conservation under any sequence of deposits and releases, with an engine that may ask for
/// anything: the vault's token balance always equals `locked`, and it never pays out more than was
/// deposited.
contract CollateralVaultFuzzTest is CollateralVaultFixture {
    uint256 internal constant STEPS = 10;
    uint256 internal constant MAX_DEPOSIT = 1e30;

    function setUp() public override {
        super.setUp();
        vm.prank(owner);
        collateral.mint(alice, STEPS * MAX_DEPOSIT);
    }

    /// @param amounts One amount per step.
    /// @param releases Bit i set: step i is a release (of up to 1.5× what is locked, so about a third
    /// ask for too much); clear: a deposit.
    function testFuzz_lockedEqualsTheBalanceAndReleasesNeverExceedDeposits(
        uint256[STEPS] calldata amounts,
        uint16 releases
    ) public {
        uint256 deposited;
        uint256 released;
        for (uint256 i; i < STEPS; ++i) {
            uint256 lockedNow = deposited - released;
            if ((releases >> i) & 1 == 1) {
                uint256 amount = bound(amounts[i], 0, lockedNow + lockedNow / 2 + 1);
                bytes memory message = _deliverRelease(_release(amount));
                if (amount <= lockedNow) {
                    _assertState(message, Inbox.ExecutionState.SUCCESS);
                    released += amount;
                } else {
                    _assertState(message, Inbox.ExecutionState.FAILURE);
                }
            } else {
                uint256 amount = bound(amounts[i], 1, MAX_DEPOSIT);
                _deposit(amount);
                deposited += amount;
            }
            uint256 balance = collateral.balanceOf(address(vault));
            assertEq(vault.locked(address(collateral)), balance, "locked == vault balance");
            assertEq(balance, deposited - released, "locked == deposited - released");
            assertEq(collateral.balanceOf(recipient), released, "paid == released");
            assertLe(collateral.balanceOf(recipient), deposited, "never more out than in");
        }
    }
}
