// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Outbox} from "../messaging/Outbox.sol";
import {Delivery, IMessageReceiver} from "../messaging/interfaces/IMessageReceiver.sol";
import {Decision, EscrowedLeg, SettlementMessages} from "./SettlementMessages.sol";

/// @title SettlementEscrow
/// @notice Holds one chain's legs of cross-chain DvP deals (DESIGN.md §8). A depositor escrows its
/// leg here; the escrow reports it to the DvPCoordinator on the hub, and tokens leave only on the
/// coordinator's verified Decision: settle pays the counterparty, abort refunds the depositor.
/// @dev A leg is keyed by `(dealId, depositor)`: the depositor is `msg.sender`, so nobody can occupy
/// someone else's leg of a deal. Each leg is decided exactly once.
///
/// There is deliberately NO time-based escape hatch: tokens never leave without a decision. A local
/// "refund after deadline + grace" would break both-or-neither whenever the coordinator decided
/// settle and the message is merely slow (the other leg already paid, this one refunded). Liveness
/// comes from the coordinator instead: once the deal's deadline has passed, anyone can make it decide
/// abort ({DvPCoordinator-abortExpired}), and a deal can always be opened by anyone who knows its
/// terms (its id commits to them), so as long as messages flow, every leg ends settled or refunded.
///
/// Decisions are executed regardless of this chain's clock: the coordinator's decision is final, and
/// a settle decided before the deadline but delivered after it must still pay, or the legs diverge.
/// The leg's `deadline` only stops new legs that could no longer settle from being escrowed.
///
/// A hub-side leg (e.g. the cash leg on the hub itself) uses the same code over a loopback lane:
/// the hub Outbox with a lane to its own chain id and the hub Inbox with a lane from it.
contract SettlementEscrow is ReentrancyGuardTransient, IMessageReceiver {
    using SafeERC20 for IERC20;

    enum LegState {
        None,
        Escrowed,
        Settled,
        Refunded,
        /// @dev The coordinator aborted the deal before this leg was escrowed: the leg can never be
        /// escrowed afterwards (nothing is taken), which is the "late leg after abort is refunded" rule.
        Aborted
    }

    struct Leg {
        address token;
        uint64 deadline;
        LegState state;
        address counterparty;
        uint256 amount;
    }

    /// @notice Gas the coordinator gets for a leg report: it may decide and send two messages.
    uint32 public constant LEG_GAS_LIMIT = 500_000;

    /// @notice This chain's Outbox, through which leg reports leave for the hub.
    Outbox public immutable outbox;
    /// @notice This chain's Inbox: the only caller of {receiveMessage}.
    address public immutable inbox;
    /// @notice The hub's chain id: the only source of decisions.
    uint64 public immutable hubChainId;
    /// @notice The DvPCoordinator on the hub: the only sender whose decisions are obeyed.
    address public immutable coordinator;

    mapping(bytes32 legKey => Leg) private _legs;

    /// @notice `depositor` locked `amount` of `token` for deal `dealId`, for `counterparty`, and
    /// reported it to the coordinator in message `messageId`.
    event LegEscrowed(
        bytes32 indexed dealId,
        address indexed depositor,
        address token,
        uint256 amount,
        address counterparty,
        uint64 deadline,
        bytes32 messageId
    );
    /// @notice The deal settled: the leg was paid to its counterparty (decision message `messageId`).
    event LegSettled(
        bytes32 indexed dealId, address indexed depositor, address counterparty, uint256 amount, bytes32 messageId
    );
    /// @notice The deal aborted: the leg went back to its depositor (decision message `messageId`).
    event LegRefunded(bytes32 indexed dealId, address indexed depositor, uint256 amount, bytes32 messageId);
    /// @notice The deal aborted before this leg was escrowed: it can no longer be escrowed.
    event LegAbortRecorded(bytes32 indexed dealId, address indexed depositor, bytes32 messageId);

    /// @notice A constructor argument is unusable (`reason` says which).
    error EscrowInvalidConfig(string reason);
    error EscrowZeroAmount();
    error EscrowZeroCounterparty();
    /// @notice The leg's deadline has passed: it could only be refunded, so it is not taken.
    error EscrowDeadlinePassed(uint64 deadline, uint256 nowTime);
    /// @notice The depositor already has a leg in this deal here, or the deal was already decided.
    error EscrowLegExists(bytes32 dealId, address depositor, LegState state);
    /// @notice Fee-on-transfer (or otherwise short-delivering) tokens are refused: the deal's terms
    /// name an exact amount for the counterparty, so the escrow must hold exactly that.
    error EscrowAmountMismatch(address token, uint256 amount, uint256 received);
    /// @notice Only the Inbox delivers messages.
    error EscrowUnauthorizedCaller(address caller);
    /// @notice Only the coordinator on the hub decides.
    error EscrowUnknownSender(uint64 sourceChainId, address sender);
    /// @notice A settle for a leg that is not here: refused (the message stays retryable).
    error EscrowUnknownLeg(bytes32 dealId, address depositor);
    /// @notice The leg was already decided: a second decision is refused.
    error EscrowAlreadyDecided(bytes32 dealId, address depositor, LegState state);

    /// @param outbox_ This chain's Outbox (with a lane to the hub).
    /// @param inbox_ This chain's Inbox (with a lane from the hub and this escrow allowlisted on it).
    /// @param hubChainId_ The hub's chain id.
    /// @param coordinator_ The DvPCoordinator's address on the hub.
    constructor(Outbox outbox_, address inbox_, uint64 hubChainId_, address coordinator_) {
        if (address(outbox_) == address(0)) revert EscrowInvalidConfig("zero outbox");
        if (inbox_ == address(0)) revert EscrowInvalidConfig("zero inbox");
        if (hubChainId_ == 0) revert EscrowInvalidConfig("zero hub chain id");
        if (coordinator_ == address(0)) revert EscrowInvalidConfig("zero coordinator");
        outbox = outbox_;
        inbox = inbox_;
        hubChainId = hubChainId_;
        coordinator = coordinator_;
    }

    /// @notice Checked by off-chain code before it talks to this contract.
    function typeAndVersion() external pure returns (string memory) {
        return "SettlementEscrow 1.0.0";
    }

    /// @notice Locks the caller's leg of deal `dealId`: `amount` of `token`, paid to `counterparty` if
    /// the deal settles, refunded to the caller if it aborts. The caller approves this escrow first.
    /// The leg must match the deal's terms on the coordinator exactly, else the deal aborts.
    /// @return messageId The id of the LegEscrowed report sent to the coordinator.
    function escrow(bytes32 dealId, address token, uint256 amount, address counterparty, uint64 deadline)
        external
        nonReentrant
        returns (bytes32 messageId)
    {
        if (amount == 0) revert EscrowZeroAmount();
        if (counterparty == address(0)) revert EscrowZeroCounterparty();
        if (block.timestamp > deadline) revert EscrowDeadlinePassed(deadline, block.timestamp);
        Leg storage leg = _legs[legKey(dealId, msg.sender)];
        if (leg.state != LegState.None) revert EscrowLegExists(dealId, msg.sender, leg.state);
        leg.token = token;
        leg.deadline = deadline;
        leg.state = LegState.Escrowed;
        leg.counterparty = counterparty;
        leg.amount = amount;

        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert EscrowAmountMismatch(token, amount, received);

        bytes memory payload = SettlementMessages.encodeLegEscrowed(
            EscrowedLeg({
                dealId: dealId,
                token: token,
                amount: amount,
                depositor: msg.sender,
                counterparty: counterparty,
                deadline: deadline
            })
        );
        messageId = outbox.send(hubChainId, coordinator, payload, LEG_GAS_LIMIT);
        emit LegEscrowed(dealId, msg.sender, token, amount, counterparty, deadline, messageId);
    }

    /// @notice Executes the coordinator's Decision for one leg. Called by the Inbox only, for a verified
    /// message from the coordinator on the hub; any revert leaves the message FAILURE, retryable.
    /// @inheritdoc IMessageReceiver
    function receiveMessage(Delivery calldata delivery) external nonReentrant {
        if (msg.sender != inbox) revert EscrowUnauthorizedCaller(msg.sender);
        if (delivery.sourceChainId != hubChainId || delivery.sender != coordinator) {
            revert EscrowUnknownSender(delivery.sourceChainId, delivery.sender);
        }
        Decision memory decision = SettlementMessages.decodeDecision(delivery.payload);
        Leg storage leg = _legs[legKey(decision.dealId, decision.depositor)];
        LegState state = leg.state;

        if (state == LegState.None) {
            // The coordinator only settles after it saw this leg's report, sent in the same
            // transaction that created the leg: a settle for a missing leg cannot be honest.
            if (decision.settle) revert EscrowUnknownLeg(decision.dealId, decision.depositor);
            leg.state = LegState.Aborted;
            emit LegAbortRecorded(decision.dealId, decision.depositor, delivery.messageId);
            return;
        }
        if (state != LegState.Escrowed) revert EscrowAlreadyDecided(decision.dealId, decision.depositor, state);

        if (decision.settle) {
            leg.state = LegState.Settled;
            IERC20(leg.token).safeTransfer(leg.counterparty, leg.amount);
            emit LegSettled(decision.dealId, decision.depositor, leg.counterparty, leg.amount, delivery.messageId);
        } else {
            leg.state = LegState.Refunded;
            IERC20(leg.token).safeTransfer(decision.depositor, leg.amount);
            emit LegRefunded(decision.dealId, decision.depositor, leg.amount, delivery.messageId);
        }
    }

    // ---------------------------------------------------------------- views

    /// @notice The leg `depositor` holds (or held) in deal `dealId`.
    function legOf(bytes32 dealId, address depositor) external view returns (Leg memory) {
        return _legs[legKey(dealId, depositor)];
    }

    /// @notice The storage key of a leg.
    function legKey(bytes32 dealId, address depositor) public pure returns (bytes32) {
        return keccak256(abi.encode(dealId, depositor));
    }
}
