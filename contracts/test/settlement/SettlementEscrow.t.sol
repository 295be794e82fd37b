// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {SettlementEscrow} from "../../src/settlement/SettlementEscrow.sol";
import {SettlementMessages} from "../../src/settlement/SettlementMessages.sol";
import {DvPFixture} from "./DvPFixture.sol";

/// @dev Keeps 1% of every transfer.
contract FeeToken is ERC20 {
    constructor() ERC20("Fee", "FEE") {
        _mint(msg.sender, 1e24);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value / 100;
            super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}

/// @notice The escrow's own rules: who may decide, once, and what it refuses to take.
contract SettlementEscrowTest is DvPFixture {
    function setUp() public override {
        super.setUp();
        _open();
        _escrowA();
    }

    function test_escrow_recordsAndReports() public view {
        SettlementEscrow.Leg memory leg = bankEscrow.legOf(dealId, alice);
        assertEq(uint8(leg.state), uint8(SettlementEscrow.LegState.Escrowed));
        assertEq(leg.amount, BILL_AMOUNT);
        assertEq(leg.counterparty, bob);
        assertEq(bill.balanceOf(address(bankEscrow)), BILL_AMOUNT);
        assertEq(pending.length, 1);
        assertEq(pending[0].receiver, address(coordinator));
        assertEq(pending[0].sourceChainId, BANK);
        assertEq(pending[0].sender, address(bankEscrow));
    }

    function test_forgedDecision_wrongSender_isRefused() public {
        bytes memory settle = _decisionPayload(dealId, alice, true);
        vm.expectRevert(abi.encodeWithSelector(SettlementEscrow.EscrowUnknownSender.selector, HUB, stranger));
        bankEscrow.receiveMessage(_delivery(HUB, stranger, settle));
    }

    function test_forgedDecision_wrongChain_isRefused() public {
        bytes memory settle = _decisionPayload(dealId, alice, true);
        vm.expectRevert(
            abi.encodeWithSelector(SettlementEscrow.EscrowUnknownSender.selector, BANK, address(coordinator))
        );
        bankEscrow.receiveMessage(_delivery(BANK, address(coordinator), settle));
    }

    function test_decision_notFromInbox_isRefused() public {
        bytes memory settle = _decisionPayload(dealId, alice, true);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(SettlementEscrow.EscrowUnauthorizedCaller.selector, stranger));
        bankEscrow.receiveMessage(_delivery(HUB, address(coordinator), settle));
    }

    function test_decision_wrongKind_isRefused() public {
        bytes memory leg = abi.encode(SettlementMessages.KIND_LEG_ESCROWED, dealId);
        vm.expectRevert(
            abi.encodeWithSelector(
                SettlementMessages.SettlementMessageBadKind.selector, SettlementMessages.KIND_LEG_ESCROWED
            )
        );
        bankEscrow.receiveMessage(_delivery(HUB, address(coordinator), leg));
    }

    function test_replayedDecision_isRefused() public {
        _escrowB();
        _deliverAll();
        assertEq(bill.balanceOf(bob), BILL_AMOUNT);
        // The same decision again (a new message: the Inbox already stops the same one), or the opposite.
        for (uint256 i; i < 2; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    SettlementEscrow.EscrowAlreadyDecided.selector, dealId, alice, SettlementEscrow.LegState.Settled
                )
            );
            bankEscrow.receiveMessage(_delivery(HUB, address(coordinator), _decisionPayload(dealId, alice, i == 0)));
        }
    }

    function test_settleForUnknownLeg_isRefused() public {
        vm.expectRevert(abi.encodeWithSelector(SettlementEscrow.EscrowUnknownLeg.selector, dealId, bob));
        hubEscrow.receiveMessage(_delivery(HUB, address(coordinator), _decisionPayload(dealId, bob, true)));
    }

    function test_abortForUnknownLeg_isRecordedOnce() public {
        hubEscrow.receiveMessage(_delivery(HUB, address(coordinator), _decisionPayload(dealId, bob, false)));
        assertEq(uint8(_legStateB()), uint8(SettlementEscrow.LegState.Aborted));
        vm.expectRevert(
            abi.encodeWithSelector(
                SettlementEscrow.EscrowAlreadyDecided.selector, dealId, bob, SettlementEscrow.LegState.Aborted
            )
        );
        hubEscrow.receiveMessage(_delivery(HUB, address(coordinator), _decisionPayload(dealId, bob, true)));
    }

    function test_escrow_twice_isRefused() public {
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                SettlementEscrow.EscrowLegExists.selector, dealId, alice, SettlementEscrow.LegState.Escrowed
            )
        );
        bankEscrow.escrow(dealId, address(bill), BILL_AMOUNT, bob, deadline);
    }

    function test_escrow_feeOnTransfer_isRefused() public {
        FeeToken fee = new FeeToken();
        fee.approve(address(bankEscrow), 100e18);
        vm.expectRevert(
            abi.encodeWithSelector(SettlementEscrow.EscrowAmountMismatch.selector, address(fee), 100e18, 99e18)
        );
        bankEscrow.escrow(dealId, address(fee), 100e18, bob, deadline);
    }

    function test_escrow_badArguments_areRefused() public {
        vm.startPrank(bob);
        vm.expectRevert(SettlementEscrow.EscrowZeroAmount.selector);
        hubEscrow.escrow(dealId, address(cash), 0, alice, deadline);
        vm.expectRevert(SettlementEscrow.EscrowZeroCounterparty.selector);
        hubEscrow.escrow(dealId, address(cash), CASH_AMOUNT, address(0), deadline);
        vm.stopPrank();
    }
}
