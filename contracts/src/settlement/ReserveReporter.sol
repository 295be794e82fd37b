// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Outbox} from "../messaging/Outbox.sol";
import {ReserveBackedToken} from "../tokens/ReserveBackedToken.sol";

/// @notice A reserve-backed token's state as observed on its own chain (DESIGN §4): `supply` and
/// `reserves` in the token's base units, `backed` per the token's `isBacked()` (breaker not tripped,
/// fresh reserve feed, reserves ≥ supply), `observedAt` the observing block's time on that chain.
/// `reserves` is 0 when the feed is stale or invalid (then `backed` is false too).
struct ReserveStatus {
    address token;
    uint256 supply;
    uint256 reserves;
    bool backed;
    uint64 observedAt;
}

/// @dev The payload's first word (MarginMessages' pattern: kind first, so a receiver rejects another
/// kind of payload with a reason before decoding it). 1 and 2 are MarginMessages' Credit and Release.
uint8 constant KIND_RESERVE_STATUS = 3;

/// @title ReserveReporter
/// @notice Runs on a reserve-backed token's chain (e.g. `bank`) and tells the hub's CollateralGate,
/// in a verified message, whether the token is backed: the hub cannot read the token's supply, so it
/// learns supply and reserves together from here, after this chain's finality (DESIGN §4).
/// @dev Ownerless and token-agnostic: anyone may report any token. The gate keys statuses by
/// (source chain, token address), and every status for an address is read from the code at that
/// address, so reporting a look-alike token only ever writes the look-alike's own entry.
///
/// Rate limit: a report is sent when it is the token's first, when `backed` differs from the last
/// report sent, or once `minInterval` seconds have passed since the last one (a heartbeat refreshing
/// supply and reserves); otherwise `report` reverts with ReporterTooSoon. A status change always goes
/// out at once (one per second at most, see below), while anyone calling `report` in a loop cannot
/// flood the hub lane: every message costs verification, relaying and execution on the hub, and
/// repeating an unchanged status tells the hub nothing. At most one report per token per second is
/// sent, so `observedAt` strictly increases per token and the gate can order reports by it alone.
contract ReserveReporter is ReentrancyGuardTransient {
    /// @dev Per token; one storage slot.
    struct LastReport {
        uint64 sentAt;
        bool backed;
        bool sent;
    }

    /// @notice This chain's Outbox, through which reports leave for the hub.
    Outbox public immutable outbox;
    /// @notice The hub's chain id.
    uint64 public immutable hubChainId;
    /// @notice The hub's CollateralGate, the receiver of every report.
    address public immutable gate;
    /// @notice Gas the gate's handling of a report gets on the hub.
    uint32 public immutable gasLimit;
    /// @notice Seconds after which an unchanged status may be reported again (the heartbeat).
    uint64 public immutable minInterval;

    mapping(address token => LastReport) private _last;

    /// @notice `status` of `token` left for the hub's gate in message `messageId`.
    event ReserveReported(
        address indexed token, uint256 supply, uint256 reserves, bool backed, uint64 observedAt, bytes32 messageId
    );

    /// @notice A constructor argument is unusable (`reason` says which).
    error ReporterInvalidConfig(string reason);
    /// @notice `token`'s status is unchanged since its last report, sent at `lastSentAt`; the next
    /// heartbeat is allowed from `nextAllowedAt` (a change is reported from the next second on).
    error ReporterTooSoon(address token, uint64 lastSentAt, uint64 nextAllowedAt);

    /// @param outbox_ This chain's Outbox.
    /// @param hubChainId_ The hub's chain id (a lane to it must be enabled on the Outbox).
    /// @param gate_ The hub's CollateralGate.
    /// @param gasLimit_ Gas the gate gets to handle a report; not zero.
    /// @param minInterval_ Seconds between reports of an unchanged status; not zero.
    constructor(Outbox outbox_, uint64 hubChainId_, address gate_, uint32 gasLimit_, uint64 minInterval_) {
        if (address(outbox_) == address(0)) revert ReporterInvalidConfig("zero outbox");
        if (gate_ == address(0)) revert ReporterInvalidConfig("zero gate");
        if (gasLimit_ == 0) revert ReporterInvalidConfig("zero gas limit");
        if (minInterval_ == 0) revert ReporterInvalidConfig("zero min interval");
        outbox = outbox_;
        hubChainId = hubChainId_;
        gate = gate_;
        gasLimit = gasLimit_;
        minInterval = minInterval_;
    }

    /// @notice Observes `token` and reports its status to the hub's gate. Anyone may call.
    /// @dev First syncs the token's breaker with `checkReserves()` (ignoring a revert: a stale or
    /// invalid feed leaves the breaker as it is, and `isBacked()` already reads false then), so one
    /// call both trips or resets the breaker and tells the hub. Reverts with ReporterTooSoon per the
    /// rate limit (see the contract's notes).
    /// @param token The reserve-backed token on this chain.
    /// @return messageId The id of the message sent to the hub.
    function report(ReserveBackedToken token) external nonReentrant returns (bytes32 messageId) {
        ReserveStatus memory status = _observe(token);
        LastReport memory last = _last[address(token)];
        if (last.sent) {
            uint64 nextAllowedAt = last.backed == status.backed ? last.sentAt + minInterval : last.sentAt + 1;
            if (status.observedAt < nextAllowedAt) revert ReporterTooSoon(address(token), last.sentAt, nextAllowedAt);
        }
        _last[address(token)] = LastReport(status.observedAt, status.backed, true);
        messageId = outbox.send(hubChainId, gate, abi.encode(KIND_RESERVE_STATUS, status), gasLimit);
        emit ReserveReported(
            address(token), status.supply, status.reserves, status.backed, status.observedAt, messageId
        );
    }

    /// @notice The status `report` would send for `token` now, without syncing the breaker.
    /// @param token The reserve-backed token on this chain.
    /// @return status Its supply, reserves (0 when the feed is stale or invalid) and backing.
    function preview(ReserveBackedToken token) external view returns (ReserveStatus memory status) {
        return _read(token);
    }

    /// @notice When `token` was last reported, whether it was backed then, and whether it ever was.
    /// @param token The reserve-backed token on this chain.
    /// @return sentAt This chain's time of the last report (0 if none).
    /// @return backed The `backed` flag of the last report.
    /// @return sent Whether any report for `token` was sent.
    function lastReport(address token) external view returns (uint64 sentAt, bool backed, bool sent) {
        LastReport memory last = _last[token];
        return (last.sentAt, last.backed, last.sent);
    }

    /// @dev Syncs the token's breaker, then reads its status. A failing `checkReserves` (stale or
    /// invalid feed) must not stop the report: the token then reads unbacked.
    function _observe(ReserveBackedToken token) private returns (ReserveStatus memory) {
        try token.checkReserves() {} catch {}
        return _read(token);
    }

    function _read(ReserveBackedToken token) private view returns (ReserveStatus memory status) {
        status.token = address(token);
        status.supply = token.totalSupply();
        try token.latestReserves() returns (uint256 reserves) {
            status.reserves = reserves;
        } catch {
            status.reserves = 0;
        }
        status.backed = token.isBacked() && status.reserves >= status.supply;
        status.observedAt = uint64(block.timestamp);
    }
}
