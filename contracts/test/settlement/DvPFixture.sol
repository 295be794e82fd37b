// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {Vm} from "forge-std/Vm.sol";
import {Outbox} from "../../src/messaging/Outbox.sol";
import {Delivery, DeliveredToken, IMessageReceiver} from "../../src/messaging/interfaces/IMessageReceiver.sol";
import {DvPCoordinator, LegSpec} from "../../src/settlement/DvPCoordinator.sol";
import {SettlementEscrow} from "../../src/settlement/SettlementEscrow.sol";
import {Decision, EscrowedLeg, SettlementMessages} from "../../src/settlement/SettlementMessages.sol";
import {BurnMintERC20} from "../../src/tokens/BurnMintERC20.sol";
import {MessageReader} from "../messaging/utils/MessageReader.sol";
import {SentMessages} from "../messaging/utils/SentMessages.sol";

/// @title DvPFixture
/// @notice A T-bill leg on `bank` against a cash leg on the hub (over the hub's loopback lane), with
/// the coordinator on the hub. All three contracts live in one EVM; each chain has its own real
/// Outbox, and the test contract plays every Inbox: it collects each MessageSent into a queue and
/// delivers queued messages in any order, as a relayer may. A delivery that reverts stays queued
/// (FAILURE, retryable), exactly as the Inbox keeps it.
abstract contract DvPFixture is Test {
    using MessageReader for bytes;

    uint64 internal constant HUB = 31_002;
    uint64 internal constant BANK = 31_004;
    uint256 internal constant BILL_AMOUNT = 1_000e18;
    uint256 internal constant CASH_AMOUNT = 990e6;

    struct Pending {
        address receiver;
        uint64 sourceChainId;
        address sender;
        bytes32 id;
        bytes payload;
        bool delivered;
    }

    address internal owner = makeAddr("owner");
    address internal guardian = makeAddr("guardian");
    /// @dev Alice sells the T-bill on bank for cash on the hub; Bob buys.
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal stranger = makeAddr("stranger");

    Outbox internal hubOutbox;
    Outbox internal bankOutbox;
    DvPCoordinator internal coordinator;
    SettlementEscrow internal bankEscrow;
    SettlementEscrow internal hubEscrow;
    BurnMintERC20 internal bill;
    BurnMintERC20 internal cash;

    uint64 internal deadline;
    LegSpec internal legA;
    LegSpec internal legB;
    bytes32 internal dealId;

    Pending[] internal pending;
    uint256 private _nonce;

    error DvPFixtureAlreadyDelivered(uint256 index);

    function setUp() public virtual {
        vm.chainId(HUB);
        vm.warp(1_700_000_000);
        hubOutbox = new Outbox(owner, guardian);
        bankOutbox = new Outbox(owner, guardian);
        coordinator = new DvPCoordinator(hubOutbox, address(this));
        bankEscrow = new SettlementEscrow(bankOutbox, address(this), HUB, address(coordinator));
        hubEscrow = new SettlementEscrow(hubOutbox, address(this), HUB, address(coordinator));
        bill = new BurnMintERC20("T-Bill", "TBILL", 18, owner);
        cash = new BurnMintERC20("Cash", "USDX", 6, owner);

        vm.startPrank(owner);
        hubOutbox.setLane(BANK, true);
        hubOutbox.setLane(HUB, true);
        bankOutbox.setLane(HUB, true);
        bill.setMinter(owner, true);
        cash.setMinter(owner, true);
        bill.mint(alice, 10 * BILL_AMOUNT);
        cash.mint(bob, 10 * CASH_AMOUNT);
        vm.stopPrank();
        vm.prank(alice);
        bill.approve(address(bankEscrow), type(uint256).max);
        vm.prank(bob);
        cash.approve(address(hubEscrow), type(uint256).max);

        deadline = uint64(block.timestamp + 1 hours);
        legA = LegSpec(BANK, address(bankEscrow), address(bill), BILL_AMOUNT, alice, bob);
        legB = LegSpec(HUB, address(hubEscrow), address(cash), CASH_AMOUNT, bob, alice);
        dealId = coordinator.dealIdOf(legA, legB, deadline);
        vm.recordLogs();
    }

    // ---------------------------------------------------------------- actions

    function _open() internal {
        coordinator.openDeal(dealId, legA, legB, deadline);
    }

    function _escrowA() internal {
        vm.prank(alice);
        bankEscrow.escrow(dealId, address(bill), BILL_AMOUNT, bob, deadline);
        _collect();
    }

    function _escrowB() internal {
        vm.prank(bob);
        hubEscrow.escrow(dealId, address(cash), CASH_AMOUNT, alice, deadline);
        _collect();
    }

    function _abort() internal {
        coordinator.abortExpired(dealId);
        _collect();
    }

    // ---------------------------------------------------------------- the relayer and Inboxes

    /// @notice Moves every MessageSent recorded since the last call into the queue.
    function _collect() internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] != SentMessages.MESSAGE_SENT_TOPIC) continue;
            (, bytes memory message) = abi.decode(logs[i].data, (uint256, bytes));
            uint64 source = logs[i].emitter == address(bankOutbox) ? BANK : HUB;
            pending.push(Pending(message.receiver(), source, _senderOf(message), keccak256(message), message.payload(), false));
        }
    }

    /// @notice Delivers queued message `i` as its destination Inbox would; false if the receiver
    /// reverted (the message stays queued, retryable).
    function _deliver(uint256 i) internal returns (bool ok) {
        Pending storage message = pending[i];
        if (message.delivered) revert DvPFixtureAlreadyDelivered(i);
        Delivery memory delivery =
            Delivery(message.id, message.sourceChainId, message.sender, new DeliveredToken[](0), message.payload);
        try IMessageReceiver(message.receiver).receiveMessage(delivery) {
            message.delivered = true;
            ok = true;
        } catch {}
        _collect();
    }

    /// @notice Delivers everything queued, retrying failures, until nothing moves.
    function _deliverAll() internal {
        bool progress = true;
        while (progress) {
            progress = false;
            for (uint256 i; i < pending.length; ++i) {
                if (!pending[i].delivered && _deliver(i)) progress = true;
            }
        }
    }

    function _undelivered() internal view returns (uint256 count) {
        for (uint256 i; i < pending.length; ++i) {
            if (!pending[i].delivered) ++count;
        }
    }

    /// @notice A delivery the test builds itself (e.g. a forged one), with a fresh message id.
    function _delivery(uint64 source, address sender, bytes memory payload) internal returns (Delivery memory) {
        return Delivery(keccak256(abi.encode("forged", ++_nonce)), source, sender, new DeliveredToken[](0), payload);
    }

    function _decisionPayload(bytes32 id, address depositor, bool settle) internal pure returns (bytes memory) {
        return SettlementMessages.encodeDecision(Decision(id, depositor, settle));
    }

    function _legPayload(EscrowedLeg memory leg) internal pure returns (bytes memory) {
        return SettlementMessages.encodeLegEscrowed(leg);
    }

    function _legStateA() internal view returns (SettlementEscrow.LegState) {
        return bankEscrow.legOf(dealId, alice).state;
    }

    function _legStateB() internal view returns (SettlementEscrow.LegState) {
        return hubEscrow.legOf(dealId, bob).state;
    }

    function _status() internal view returns (DvPCoordinator.DealStatus) {
        return coordinator.dealOf(dealId).status;
    }

    function _senderOf(bytes memory message) private pure returns (address sender) {
        assembly ("memory-safe") {
            sender := shr(96, mload(add(add(message, 0x20), 17)))
        }
    }
}
