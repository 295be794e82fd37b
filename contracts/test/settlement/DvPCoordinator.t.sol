// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DvPCoordinator, LegSpec} from "../../src/settlement/DvPCoordinator.sol";
import {SettlementEscrow} from "../../src/settlement/SettlementEscrow.sol";
import {EscrowedLeg} from "../../src/settlement/SettlementMessages.sol";
import {DvPFixture} from "./DvPFixture.sol";

/// @notice DvP flows end to end: escrows on bank and the hub, the coordinator on the hub, messages
/// delivered by the test in the order each case needs.
contract DvPCoordinatorTest is DvPFixture {
    function test_happyPath_settlesBothLegs() public {
        _open();
        _escrowA();
        _escrowB();
        assertTrue(_deliver(0));
        assertEq(uint8(_status()), uint8(DvPCoordinator.DealStatus.Open));
        assertTrue(_deliver(1));
        assertEq(uint8(_status()), uint8(DvPCoordinator.DealStatus.Settled));
        assertEq(pending.length, 4, "two decisions sent");
        assertEq(pending[2].receiver, address(bankEscrow));
        assertEq(pending[3].receiver, address(hubEscrow));
        _deliverAll();
        assertEq(bill.balanceOf(bob), BILL_AMOUNT);
        assertEq(cash.balanceOf(alice), CASH_AMOUNT);
        assertEq(uint8(_legStateA()), uint8(SettlementEscrow.LegState.Settled));
        assertEq(uint8(_legStateB()), uint8(SettlementEscrow.LegState.Settled));
    }

    function test_missingLeg_abortAfterDeadline_refundsTheOther() public {
        _open();
        _escrowA();
        _deliverAll();
        vm.expectRevert(abi.encodeWithSelector(DvPCoordinator.DvPNotExpired.selector, deadline, block.timestamp));
        coordinator.abortExpired(dealId);

        vm.warp(deadline + 1);
        _abort();
        assertEq(uint8(_status()), uint8(DvPCoordinator.DealStatus.Aborted));
        _deliverAll();
        assertEq(bill.balanceOf(alice), 10 * BILL_AMOUNT, "alice refunded");
        assertEq(uint8(_legStateA()), uint8(SettlementEscrow.LegState.Refunded));
        assertEq(uint8(_legStateB()), uint8(SettlementEscrow.LegState.Aborted), "abort recorded for the empty leg");

        vm.expectRevert(abi.encodeWithSelector(DvPCoordinator.DvPNotOpen.selector, dealId, DvPCoordinator.DealStatus.Aborted));
        coordinator.abortExpired(dealId);
    }

    function test_decisionDeliveredAfterDeadline_isExecuted() public {
        _open();
        _escrowA();
        _escrowB();
        assertTrue(_deliver(0));
        assertTrue(_deliver(1));
        // The decisions are slow: the escrows execute the final decision whatever their own clock says.
        vm.warp(deadline + 30 days);
        vm.expectRevert(abi.encodeWithSelector(DvPCoordinator.DvPNotOpen.selector, dealId, DvPCoordinator.DealStatus.Settled));
        coordinator.abortExpired(dealId);
        _deliverAll();
        assertEq(bill.balanceOf(bob), BILL_AMOUNT);
        assertEq(cash.balanceOf(alice), CASH_AMOUNT);
    }

    function test_legArrivingAfterDeadline_abortsTheDeal() public {
        _open();
        _escrowA();
        _escrowB();
        assertTrue(_deliver(0));
        vm.warp(deadline + 1);
        // Escrowed in time, reported late: the coordinator's clock decides, and it says abort.
        assertTrue(_deliver(1));
        assertEq(uint8(_status()), uint8(DvPCoordinator.DealStatus.Aborted));
        _deliverAll();
        assertEq(bill.balanceOf(alice), 10 * BILL_AMOUNT);
        assertEq(cash.balanceOf(bob), 10 * CASH_AMOUNT);
    }

    function test_lateLegReportAfterAbort_isRefunded() public {
        _open();
        _escrowA();
        _escrowB();
        assertTrue(_deliver(1)); // bob's report arrives, alice's is stuck in flight
        vm.warp(deadline + 1);
        _abort();
        assertTrue(_deliver(0)); // alice's report arrives after the abort: recorded, nothing new sent
        assertEq(pending.length, 4);
        _deliverAll();
        assertEq(uint8(_legStateA()), uint8(SettlementEscrow.LegState.Refunded));
        assertEq(uint8(_legStateB()), uint8(SettlementEscrow.LegState.Refunded));
        assertEq(bill.balanceOf(alice), 10 * BILL_AMOUNT);
        assertEq(cash.balanceOf(bob), 10 * CASH_AMOUNT);
    }

    function test_legAfterAbortDecision_isRefusedBeforeTakingTokens() public {
        // Bob never escrowed; the abort reached his escrow first and is final for his leg key.
        _open();
        _escrowA();
        _deliverAll();
        vm.warp(deadline + 1);
        _abort();
        _deliverAll();
        vm.prank(bob);
        vm.expectRevert(
            abi.encodeWithSelector(SettlementEscrow.EscrowDeadlinePassed.selector, deadline, block.timestamp)
        );
        hubEscrow.escrow(dealId, address(cash), CASH_AMOUNT, alice, deadline);
        // Even with a later deadline field, the aborted key cannot be used again.
        vm.prank(bob);
        vm.expectRevert(
            abi.encodeWithSelector(
                SettlementEscrow.EscrowLegExists.selector, dealId, bob, SettlementEscrow.LegState.Aborted
            )
        );
        hubEscrow.escrow(dealId, address(cash), CASH_AMOUNT, alice, deadline + 1 days);
        assertEq(cash.balanceOf(bob), 10 * CASH_AMOUNT);
    }

    function test_legBeforeOpen_isRetryable() public {
        _escrowA();
        assertFalse(_deliver(0), "unknown deal: FAILURE");
        _open();
        assertTrue(_deliver(0), "retried once the deal is open");
        assertTrue(coordinator.dealOf(dealId).legAReported);
    }

    function test_mismatchedLeg_abortsTheDeal() public {
        _open();
        vm.prank(alice);
        bankEscrow.escrow(dealId, address(bill), BILL_AMOUNT - 1, bob, deadline);
        _collect();
        _escrowB();
        _deliverAll();
        assertEq(uint8(_status()), uint8(DvPCoordinator.DealStatus.Aborted));
        assertEq(uint8(_legStateA()), uint8(SettlementEscrow.LegState.Refunded));
        assertEq(uint8(_legStateB()), uint8(SettlementEscrow.LegState.Refunded));
        assertEq(bill.balanceOf(alice), 10 * BILL_AMOUNT);
        assertEq(cash.balanceOf(bob), 10 * CASH_AMOUNT);
    }

    function test_strangerLeg_isRefundedAndDealGoesOn() public {
        _open();
        vm.prank(owner);
        bill.mint(stranger, BILL_AMOUNT);
        vm.startPrank(stranger);
        bill.approve(address(bankEscrow), BILL_AMOUNT);
        bankEscrow.escrow(dealId, address(bill), BILL_AMOUNT, stranger, deadline);
        vm.stopPrank();
        _collect();
        _deliverAll();
        assertEq(bill.balanceOf(stranger), BILL_AMOUNT, "stranger refunded");
        assertEq(uint8(_status()), uint8(DvPCoordinator.DealStatus.Open));
        _escrowA();
        _escrowB();
        _deliverAll();
        assertEq(uint8(_status()), uint8(DvPCoordinator.DealStatus.Settled));
        assertEq(bill.balanceOf(bob), BILL_AMOUNT);
    }

    function test_forgedLegReport_isRefused() public {
        _open();
        EscrowedLeg memory leg = EscrowedLeg(dealId, address(bill), BILL_AMOUNT, alice, bob, deadline);
        // Right escrow address, wrong chain.
        vm.expectRevert(abi.encodeWithSelector(DvPCoordinator.DvPUnknownSender.selector, HUB, address(bankEscrow)));
        coordinator.receiveMessage(_delivery(HUB, address(bankEscrow), _legPayload(leg)));
        // Right chain, wrong sender.
        vm.expectRevert(abi.encodeWithSelector(DvPCoordinator.DvPUnknownSender.selector, BANK, stranger));
        coordinator.receiveMessage(_delivery(BANK, stranger, _legPayload(leg)));
        // Not through the Inbox.
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(DvPCoordinator.DvPUnauthorizedCaller.selector, stranger));
        coordinator.receiveMessage(_delivery(BANK, address(bankEscrow), _legPayload(leg)));
    }

    function test_duplicateLegReport_isRefused() public {
        _open();
        _escrowA();
        _deliverAll();
        EscrowedLeg memory leg = EscrowedLeg(dealId, address(bill), BILL_AMOUNT, alice, bob, deadline);
        vm.expectRevert(abi.encodeWithSelector(DvPCoordinator.DvPLegAlreadyReported.selector, dealId, true));
        coordinator.receiveMessage(_delivery(BANK, address(bankEscrow), _legPayload(leg)));
    }

    function test_openDeal_checksTheId() public {
        bytes32 wrong = keccak256("wrong");
        vm.expectRevert(abi.encodeWithSelector(DvPCoordinator.DvPDealIdMismatch.selector, dealId, wrong));
        coordinator.openDeal(wrong, legA, legB, deadline);
        _open();
        vm.expectRevert(abi.encodeWithSelector(DvPCoordinator.DvPDealExists.selector, dealId));
        coordinator.openDeal(dealId, legA, legB, deadline);
    }

    function test_openDeal_refusesLegsSharingAKey() public {
        LegSpec memory same = legA;
        same.token = address(cash);
        bytes32 id = coordinator.dealIdOf(legA, same, deadline);
        vm.expectRevert(abi.encodeWithSelector(DvPCoordinator.DvPInvalidDeal.selector, "legs share a key"));
        coordinator.openDeal(id, legA, same, deadline);
    }
}
