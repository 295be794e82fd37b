// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DvPCoordinator} from "../../src/settlement/DvPCoordinator.sol";
import {SettlementEscrow} from "../../src/settlement/SettlementEscrow.sol";
import {DvPFixture} from "./DvPFixture.sol";

/// @notice Invariant 6 (DESIGN.md §11): over random schedules — deal opened early or late, legs
/// escrowed (or mis-escrowed, or never) in any order, time passing, messages delivered in any order
/// and delay, abort attempts at any time — a deal ends with both legs settled or both refunded,
/// never one of each, and no token is created or lost.
contract DvPFuzzTest is DvPFixture {
    bool private _opened;

    function testFuzz_bothOrNeither(uint256 seed, uint8 steps) public {
        for (uint256 i; i < uint256(steps) % 48; ++i) {
            _step(uint256(keccak256(abi.encode(seed, i))));
            _assertNeverOneOfEach();
        }
        // Messages keep flowing and someone calls abortExpired: every deal ends decided and executed.
        vm.warp(deadline + 1);
        if (!_opened) _open();
        try coordinator.abortExpired(dealId) {} catch {}
        _collect();
        _deliverAll();
        assertEq(_undelivered(), 0, "every message delivered");
        _assertNeverOneOfEach();
        _assertFinal();
    }

    function _step(uint256 r) private {
        uint256 action = r % 8;
        r >>= 8;
        if (action == 0 && !_opened) {
            _open();
            _opened = true;
        } else if (action == 1) {
            _tryEscrowA(BILL_AMOUNT);
        } else if (action == 2) {
            _tryEscrowB();
        } else if (action == 3) {
            vm.warp(block.timestamp + r % 40 minutes);
        } else if (action == 4 || action == 5) {
            if (pending.length != 0) {
                uint256 index = r % pending.length;
                if (!pending[index].delivered) _deliver(index);
            }
        } else if (action == 6) {
            try coordinator.abortExpired(dealId) {} catch {}
            _collect();
        } else if (r % 4 == 0) {
            _tryEscrowA(BILL_AMOUNT - 1); // a leg that does not match the terms
        }
    }

    function _tryEscrowA(uint256 amount) private {
        vm.prank(alice);
        try bankEscrow.escrow(dealId, address(bill), amount, bob, deadline) {} catch {}
        _collect();
    }

    function _tryEscrowB() private {
        vm.prank(bob);
        try hubEscrow.escrow(dealId, address(cash), CASH_AMOUNT, alice, deadline) {} catch {}
        _collect();
    }

    function _assertNeverOneOfEach() private view {
        SettlementEscrow.LegState a = _legStateA();
        SettlementEscrow.LegState b = _legStateB();
        bool aUndone = a == SettlementEscrow.LegState.Refunded || a == SettlementEscrow.LegState.Aborted;
        bool bUndone = b == SettlementEscrow.LegState.Refunded || b == SettlementEscrow.LegState.Aborted;
        assertFalse(a == SettlementEscrow.LegState.Settled && bUndone, "A settled, B refunded");
        assertFalse(b == SettlementEscrow.LegState.Settled && aUndone, "B settled, A refunded");
    }

    function _assertFinal() private view {
        SettlementEscrow.LegState a = _legStateA();
        SettlementEscrow.LegState b = _legStateB();
        DvPCoordinator.DealStatus status = _status();
        if (status == DvPCoordinator.DealStatus.Settled) {
            assertEq(uint8(a), uint8(SettlementEscrow.LegState.Settled));
            assertEq(uint8(b), uint8(SettlementEscrow.LegState.Settled));
            assertEq(bill.balanceOf(bob), BILL_AMOUNT);
            assertEq(cash.balanceOf(alice), CASH_AMOUNT);
        } else {
            assertEq(uint8(status), uint8(DvPCoordinator.DealStatus.Aborted));
            assertTrue(a == SettlementEscrow.LegState.Refunded || a == SettlementEscrow.LegState.Aborted, "A undone");
            assertTrue(b == SettlementEscrow.LegState.Refunded || b == SettlementEscrow.LegState.Aborted, "B undone");
            assertEq(bill.balanceOf(alice), 10 * BILL_AMOUNT);
            assertEq(cash.balanceOf(bob), 10 * CASH_AMOUNT);
        }
        assertEq(bill.balanceOf(address(bankEscrow)), 0, "nothing left in escrow");
        assertEq(cash.balanceOf(address(hubEscrow)), 0, "nothing left in escrow");
    }
}
