// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Outbox} from "../messaging/Outbox.sol";
import {Delivery, IMessageReceiver} from "../messaging/interfaces/IMessageReceiver.sol";
import {Decision, EscrowedLeg, SettlementMessages} from "./SettlementMessages.sol";

/// @notice One leg of a deal as the parties agreed it: `depositor` escrows `amount` of `token` (that
/// chain's token) in the SettlementEscrow `escrow` on chain `chainId`, for `counterparty`.
struct LegSpec {
    uint64 chainId;
    address escrow;
    address token;
    uint256 amount;
    address depositor;
    address counterparty;
}

/// @title DvPCoordinator
/// @notice Decides cross-chain delivery-versus-payment deals on the hub (DESIGN.md §8, invariant 6).
/// Each party escrows its leg in a SettlementEscrow on its own chain; the escrows report the legs
/// here; when both legs match the deal's terms and arrived by the deadline the coordinator decides
/// SETTLE, and once the deadline has passed without that anyone can make it decide ABORT. The single
/// decision is final and is messaged to both escrows, so both legs settle or both refund.
/// @dev A deal's id commits to its terms ({dealIdOf}): nobody can open different terms under an id the
/// parties agreed on, and any party can open its own deal (e.g. to abort it and get its leg back).
/// No owner, no admin: the coordinator only obeys escrows named in a deal's terms.
contract DvPCoordinator is IMessageReceiver {
    enum DealStatus {
        None,
        Open,
        Settled,
        Aborted
    }

    struct Deal {
        LegSpec legA;
        LegSpec legB;
        uint64 deadline;
        DealStatus status;
        bool legAReported;
        bool legBReported;
    }

    /// @notice Gas each escrow gets to execute a decision (one token transfer).
    uint32 public constant DECISION_GAS_LIMIT = 200_000;

    /// @notice The hub's Outbox, through which decisions leave.
    Outbox public immutable outbox;
    /// @notice The hub's Inbox: the only caller of {receiveMessage}.
    address public immutable inbox;

    mapping(bytes32 dealId => Deal) private _deals;

    /// @notice Deal `dealId` was opened with these terms.
    event DealOpened(bytes32 indexed dealId, LegSpec legA, LegSpec legB, uint64 deadline);
    /// @notice A leg matching the deal's terms was reported by its escrow (`isLegA` says which leg).
    event LegReported(bytes32 indexed dealId, bool isLegA, bytes32 messageId);
    /// @notice A leg report did not match the deal's terms; `depositor`'s leg was sent an abort.
    event LegRejected(bytes32 indexed dealId, uint64 chainId, address escrow, address depositor, bytes32 messageId);
    /// @notice The final decision, messaged to leg A's escrow in `messageA` and leg B's in `messageB`.
    event DealDecided(bytes32 indexed dealId, bool settle, bytes32 messageA, bytes32 messageB);

    /// @notice A constructor argument is unusable (`reason` says which).
    error DvPInvalidConfig(string reason);
    /// @notice The deal's terms are unusable (`reason` says which).
    error DvPInvalidDeal(string reason);
    /// @notice `dealId` is not the id of these terms ({dealIdOf}).
    error DvPDealIdMismatch(bytes32 expected, bytes32 given);
    /// @notice A deal with this id was already opened.
    error DvPDealExists(bytes32 dealId);
    /// @notice No deal with this id is open here (a leg report stays retryable until it is).
    error DvPUnknownDeal(bytes32 dealId);
    /// @notice The deal is not open (already settled or aborted, or unknown).
    error DvPNotOpen(bytes32 dealId, DealStatus status);
    /// @notice The deal's deadline has not passed yet.
    error DvPNotExpired(uint64 deadline, uint256 nowTime);
    /// @notice Only the Inbox delivers messages.
    error DvPUnauthorizedCaller(address caller);
    /// @notice The report does not come from an escrow named in the deal's terms.
    error DvPUnknownSender(uint64 sourceChainId, address sender);
    /// @notice The leg was already reported (an honest escrow reports each leg once).
    error DvPLegAlreadyReported(bytes32 dealId, bool isLegA);

    /// @param outbox_ The hub's Outbox (with a lane to every escrow's chain).
    /// @param inbox_ The hub's Inbox (with a lane from every escrow's chain, this contract allowlisted).
    constructor(Outbox outbox_, address inbox_) {
        if (address(outbox_) == address(0)) revert DvPInvalidConfig("zero outbox");
        if (inbox_ == address(0)) revert DvPInvalidConfig("zero inbox");
        outbox = outbox_;
        inbox = inbox_;
    }

    /// @notice Checked by off-chain code before it talks to this contract.
    function typeAndVersion() external pure returns (string memory) {
        return "DvPCoordinator 1.0.0";
    }

    /// @notice The id of a deal with these terms on this coordinator. To repeat a deal with the same
    /// terms, change the deadline.
    function dealIdOf(LegSpec calldata legA, LegSpec calldata legB, uint64 deadline) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), legA, legB, deadline));
    }

    /// @notice Opens deal `dealId` with its terms. Anyone may open it: the id commits to the terms.
    /// A deal may be opened after its deadline; it can then only be aborted.
    function openDeal(bytes32 dealId, LegSpec calldata legA, LegSpec calldata legB, uint64 deadline) external {
        bytes32 expected = dealIdOf(legA, legB, deadline);
        if (dealId != expected) revert DvPDealIdMismatch(expected, dealId);
        Deal storage deal = _deals[dealId];
        if (deal.status != DealStatus.None) revert DvPDealExists(dealId);
        _requireValidLeg(legA);
        _requireValidLeg(legB);
        // Same escrow and depositor would be the same leg key on that escrow.
        if (legA.chainId == legB.chainId && legA.escrow == legB.escrow && legA.depositor == legB.depositor) {
            revert DvPInvalidDeal("legs share a key");
        }
        deal.legA = legA;
        deal.legB = legB;
        deal.deadline = deadline;
        deal.status = DealStatus.Open;
        emit DealOpened(dealId, legA, legB, deadline);
    }

    /// @notice Decides ABORT for an open deal whose deadline has passed. Anyone may call it.
    function abortExpired(bytes32 dealId) external {
        Deal storage deal = _deals[dealId];
        if (deal.status != DealStatus.Open) revert DvPNotOpen(dealId, deal.status);
        if (block.timestamp <= deal.deadline) revert DvPNotExpired(deal.deadline, block.timestamp);
        _decide(dealId, deal, false);
    }

    /// @notice Takes an escrow's LegEscrowed report. Called by the Inbox only, for verified messages.
    /// A report matching its leg's terms marks the leg; by the deadline with both legs in, the deal
    /// settles; after the deadline, the report aborts the deal. A report from a deal's escrow that
    /// does not match the terms is answered with an abort for that leg alone (refunded at once), and
    /// if it is the named depositor's own leg (its key is now used up) the whole deal aborts.
    /// @inheritdoc IMessageReceiver
    function receiveMessage(Delivery calldata delivery) external {
        if (msg.sender != inbox) revert DvPUnauthorizedCaller(msg.sender);
        EscrowedLeg memory leg = SettlementMessages.decodeLegEscrowed(delivery.payload);
        Deal storage deal = _deals[leg.dealId];
        DealStatus status = deal.status;
        if (status == DealStatus.None) revert DvPUnknownDeal(leg.dealId);

        bool fromA = _isEscrowOf(deal.legA, delivery);
        bool fromB = _isEscrowOf(deal.legB, delivery);
        if (!fromA && !fromB) revert DvPUnknownSender(delivery.sourceChainId, delivery.sender);
        bool isLegA = fromA && leg.depositor == deal.legA.depositor;
        bool isLegB = !isLegA && fromB && leg.depositor == deal.legB.depositor;

        if (!isLegA && !isLegB) {
            // Someone else's leg under this deal id: not part of the deal; give it back.
            _rejectLeg(leg, delivery);
            return;
        }
        if (isLegA ? deal.legAReported : deal.legBReported) revert DvPLegAlreadyReported(leg.dealId, isLegA);
        if (!_matches(isLegA ? deal.legA : deal.legB, leg, deal.deadline)) {
            // The named depositor's leg with the wrong terms: its key is spent, the deal cannot settle.
            if (status == DealStatus.Open) _decide(leg.dealId, deal, false);
            emit LegRejected(leg.dealId, delivery.sourceChainId, delivery.sender, leg.depositor, delivery.messageId);
            return;
        }

        if (isLegA) deal.legAReported = true;
        else deal.legBReported = true;
        emit LegReported(leg.dealId, isLegA, delivery.messageId);

        // Already decided (only abort is possible here): that decision went to this escrow for this
        // leg's key and refunds it there, whichever of the two arrives first.
        if (status != DealStatus.Open) return;
        if (block.timestamp > deal.deadline) _decide(leg.dealId, deal, false);
        else if (deal.legAReported && deal.legBReported) _decide(leg.dealId, deal, true);
    }

    // ---------------------------------------------------------------- views

    /// @notice The deal `dealId`: terms, status and which legs were reported.
    function dealOf(bytes32 dealId) external view returns (Deal memory) {
        return _deals[dealId];
    }

    // ---------------------------------------------------------------- internals

    /// @dev The one place a decision is taken: the status leaves Open exactly once, before any send.
    function _decide(bytes32 dealId, Deal storage deal, bool settle) private {
        deal.status = settle ? DealStatus.Settled : DealStatus.Aborted;
        bytes32 messageA = _sendDecision(deal.legA, Decision(dealId, deal.legA.depositor, settle));
        bytes32 messageB = _sendDecision(deal.legB, Decision(dealId, deal.legB.depositor, settle));
        emit DealDecided(dealId, settle, messageA, messageB);
    }

    function _rejectLeg(EscrowedLeg memory leg, Delivery calldata delivery) private {
        outbox.send(
            delivery.sourceChainId,
            delivery.sender,
            SettlementMessages.encodeDecision(Decision(leg.dealId, leg.depositor, false)),
            DECISION_GAS_LIMIT
        );
        emit LegRejected(leg.dealId, delivery.sourceChainId, delivery.sender, leg.depositor, delivery.messageId);
    }

    function _sendDecision(LegSpec storage spec, Decision memory decision) private returns (bytes32) {
        return
            outbox.send(spec.chainId, spec.escrow, SettlementMessages.encodeDecision(decision), DECISION_GAS_LIMIT);
    }

    function _isEscrowOf(LegSpec storage spec, Delivery calldata delivery) private view returns (bool) {
        return spec.chainId == delivery.sourceChainId && spec.escrow == delivery.sender;
    }

    function _matches(LegSpec storage spec, EscrowedLeg memory leg, uint64 deadline) private view returns (bool) {
        return spec.token == leg.token && spec.amount == leg.amount && spec.counterparty == leg.counterparty
            && leg.deadline == deadline;
    }

    function _requireValidLeg(LegSpec calldata spec) private pure {
        if (spec.chainId == 0) revert DvPInvalidDeal("zero chain id");
        if (spec.escrow == address(0)) revert DvPInvalidDeal("zero escrow");
        if (spec.amount == 0) revert DvPInvalidDeal("zero amount");
        if (spec.depositor == address(0)) revert DvPInvalidDeal("zero depositor");
        if (spec.counterparty == address(0)) revert DvPInvalidDeal("zero counterparty");
    }
}
