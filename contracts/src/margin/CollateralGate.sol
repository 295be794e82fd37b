// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {Delivery, IMessageReceiver} from "../messaging/interfaces/IMessageReceiver.sol";
import {KIND_RESERVE_STATUS, ReserveStatus} from "../settlement/ReserveReporter.sol";

/// @title CollateralGate
/// @notice On the hub: whether a reserve-backed token is eligible as collateral (DESIGN §4). Each
/// token's chain runs a ReserveReporter that sends the token's supply, reserves and `backed` flag, as
/// observed there after that chain's finality, in a verified message; the gate keeps the latest status
/// per (chain, token) and answers {isEligible}.
/// @dev How the margin engine uses it (wired separately): for a position in `token` on `chainId`, when
/// `isEligible(chainId, token)` is false the engine gives it weight λ = 0 — no borrowing power and no
/// value toward the liquidation threshold — and refunds new Credits of that token
/// (MarginMessages.REASON_REFUND) instead of crediting them. The gate never pushes: the engine reads
/// it on every health computation, so eligibility changes take effect at the next one.
///
/// Ordering: a status replaces the stored one only when its `observedAt` is strictly later, so a
/// report delivered out of order (an older "backed" arriving after a newer breach) is ignored and
/// cannot re-enable an asset. The reporter sends at most one report per token per second, so
/// `observedAt` orders its reports completely. An ignored report is not an error: the message
/// executes (it must not sit retryable), and StaleReportIgnored records it.
///
/// Tracking: tokens the owner marks tracked are governed by the gate and fail closed — ineligible
/// until a report shows them backed. Untracked tokens (ordinary collateral such as WETH) are always
/// eligible here, so the engine can ask about every asset. Reports of untracked tokens are still
/// stored, so tracking one later takes effect with its latest known status.
contract CollateralGate is Ownable2Step, IMessageReceiver {
    /// @dev The latest status of a (chain, token); two slots and a packed third.
    struct Status {
        uint256 supply;
        uint256 reserves;
        uint64 observedAt;
        bool backed;
    }

    /// @notice The hub's Inbox: the only caller of {receiveMessage}.
    address public immutable inbox;

    /// @notice The ReserveReporter whose messages from `chainId` are accepted (zero: none).
    mapping(uint64 chainId => address reporter) public reporterOf;
    /// @notice Whether the gate governs `token` on `chainId` (see the contract's notes).
    mapping(uint64 chainId => mapping(address token => bool)) public isTracked;

    mapping(uint64 chainId => mapping(address token => Status)) private _status;

    /// @notice Reports from `chainId` are accepted from `reporter` only (zero: from nobody).
    event ReporterSet(uint64 indexed chainId, address reporter);
    /// @notice `token` on `chainId` is (or is no longer) governed by the gate.
    event TrackedSet(uint64 indexed chainId, address indexed token, bool tracked);
    /// @notice A report from `chainId` replaced `token`'s status there.
    event ReserveStatusUpdated(
        uint64 indexed chainId,
        address indexed token,
        uint256 supply,
        uint256 reserves,
        bool backed,
        uint64 observedAt,
        bytes32 messageId
    );
    /// @notice `token` on `chainId` became eligible or ineligible as collateral.
    event EligibilityChanged(uint64 indexed chainId, address indexed token, bool eligible);
    /// @notice A report observed at `observedAt`, not after the stored one's `latestObservedAt`, was ignored.
    event StaleReportIgnored(
        uint64 indexed chainId, address indexed token, uint64 observedAt, uint64 latestObservedAt, bytes32 messageId
    );

    /// @notice A constructor argument is unusable (`reason` says which).
    error GateInvalidConfig(string reason);
    /// @notice Only the Inbox delivers messages.
    error GateUnauthorizedCaller(address caller);
    /// @notice The message did not come from the reporter registered for its source chain.
    error GateUnknownReporter(uint64 sourceChainId, address sender);
    /// @notice The payload is not a reserve status (its first word is `kind`).
    error GateBadKind(uint256 kind);

    /// @param owner_ The owner: registers reporters and tracked tokens.
    /// @param inbox_ The hub's Inbox.
    constructor(address owner_, address inbox_) Ownable(owner_) {
        if (inbox_ == address(0)) revert GateInvalidConfig("zero inbox");
        inbox = inbox_;
    }

    // ---------------------------------------------------------------- messages

    /// @notice Takes a ReserveReporter's status. Only the Inbox, only from the reporter registered
    /// for the message's source chain. A status not later than the stored one is ignored (see the
    /// contract's notes).
    /// @inheritdoc IMessageReceiver
    function receiveMessage(Delivery calldata delivery) external {
        if (msg.sender != inbox) revert GateUnauthorizedCaller(msg.sender);
        uint64 chainId = delivery.sourceChainId;
        address reporter = reporterOf[chainId];
        if (reporter == address(0) || delivery.sender != reporter) {
            revert GateUnknownReporter(chainId, delivery.sender);
        }
        ReserveStatus memory report = _decode(delivery.payload);

        Status storage stored = _status[chainId][report.token];
        uint64 latest = stored.observedAt;
        if (report.observedAt <= latest) {
            emit StaleReportIgnored(chainId, report.token, report.observedAt, latest, delivery.messageId);
            return;
        }
        bool wasEligible = isEligible(chainId, report.token);
        stored.supply = report.supply;
        stored.reserves = report.reserves;
        stored.observedAt = report.observedAt;
        stored.backed = report.backed;
        emit ReserveStatusUpdated(
            chainId, report.token, report.supply, report.reserves, report.backed, report.observedAt, delivery.messageId
        );
        bool eligible = isEligible(chainId, report.token);
        if (eligible != wasEligible) emit EligibilityChanged(chainId, report.token, eligible);
    }

    // ---------------------------------------------------------------- views

    /// @notice Whether `token` on `chainId` may count as collateral. An untracked token always may;
    /// a tracked one only when its latest report shows it backed (reserves ≥ supply), and not before
    /// its first report.
    /// @param chainId The token's chain.
    /// @param token The token's address on that chain.
    /// @return True when eligible; false means collateral weight zero on the hub.
    function isEligible(uint64 chainId, address token) public view returns (bool) {
        if (!isTracked[chainId][token]) return true;
        return _isBacked(_status[chainId][token]);
    }

    /// @notice The latest status of `token` on `chainId` (all zero before its first report).
    /// @param chainId The token's chain.
    /// @param token The token's address on that chain.
    /// @return status Supply and reserves in the token's base units, `backed`, and `observedAt`.
    function statusOf(uint64 chainId, address token) external view returns (ReserveStatus memory status) {
        Status memory stored = _status[chainId][token];
        return ReserveStatus(token, stored.supply, stored.reserves, stored.backed, stored.observedAt);
    }

    // ---------------------------------------------------------------- admin

    /// @notice Accepts reports from `chainId` only from `reporter` (zero: from nobody). Only the owner.
    /// @dev Replacing a reporter keeps the stored statuses; the new one's reports still need a later
    /// `observedAt` (that chain's clock) to replace them.
    /// @param chainId The reporter's chain.
    /// @param reporter The ReserveReporter on that chain.
    function setReporter(uint64 chainId, address reporter) external onlyOwner {
        reporterOf[chainId] = reporter;
        emit ReporterSet(chainId, reporter);
    }

    /// @notice Makes the gate govern (or stop governing) `token` on `chainId`. Only the owner.
    /// @param chainId The token's chain.
    /// @param token The token's address on that chain.
    /// @param tracked Whether its eligibility follows its reports (fail-closed until the first).
    function setTracked(uint64 chainId, address token, bool tracked) external onlyOwner {
        bool wasEligible = isEligible(chainId, token);
        isTracked[chainId][token] = tracked;
        emit TrackedSet(chainId, token, tracked);
        bool eligible = isEligible(chainId, token);
        if (eligible != wasEligible) emit EligibilityChanged(chainId, token, eligible);
    }

    // ---------------------------------------------------------------- internals

    function _isBacked(Status memory status) private pure returns (bool) {
        return status.observedAt != 0 && status.backed && status.reserves >= status.supply;
    }

    /// @dev Reads the kind word first, so another payload fails with a reason, not a bare revert.
    function _decode(bytes calldata payload) private pure returns (ReserveStatus memory report) {
        uint256 kind = payload.length < 32 ? 0 : uint256(bytes32(payload[:32]));
        if (kind != KIND_RESERVE_STATUS) revert GateBadKind(kind);
        (, report) = abi.decode(payload, (uint8, ReserveStatus));
    }
}
