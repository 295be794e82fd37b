// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Guardable} from "../guardian/Guardable.sol";
import {DeliveredToken, Delivery, IMessageReceiver} from "./interfaces/IMessageReceiver.sol";
import {ITokenPool} from "./interfaces/ITokenPool.sol";
import {IVerifier} from "./interfaces/IVerifier.sol";
import {MessageLib, TokenTransfer} from "./libraries/MessageLib.sol";
import {RateLimiter} from "./libraries/RateLimiter.sol";

/// @title Inbox
/// @notice Executes verified messages exactly once (docs/messaging.md). A message's state moves
/// UNTOUCHED → SUCCESS | FAILURE and is written before anything is called. A FAILURE (receiver
/// reverted or ran out of gas, rate limited, receiver not allowlisted) undoes everything the delivery
/// did, never blocks later messages, and anyone can retry it with more gas.
/// @dev The Inbox has no rights over applications beyond calling `receiveMessage` on receivers the
/// owner allowlisted per lane, and `releaseOrMint` on the pools registered for a lane's tokens.
contract Inbox is Guardable {
    using MessageLib for bytes;
    using RateLimiter for RateLimiter.Bucket;

    enum ExecutionState {
        UNTOUCHED,
        SUCCESS,
        FAILURE
    }

    /// @dev Per source chain, one slot: a lane is enabled when it has a verifier.
    struct Lane {
        IVerifier verifier;
        uint8 pauseFlags;
    }

    /// @notice Checked by off-chain code before it talks to this contract.
    function typeAndVersion() external pure returns (string memory) {
        return "Inbox 1.0.0";
    }

    /// @dev Gas a delivery needs besides the receiver's own limit: the self-call, building the
    /// Delivery, and the checks around the receiver call.
    uint256 internal constant DELIVERY_OVERHEAD_GAS = 30_000;
    /// @dev Budget per token transfer (rate limit + pool release/mint); pools are owner-vetted.
    uint256 internal constant TOKEN_GAS = 100_000;
    /// @dev Kept back after the delivery to record a FAILURE and emit the event.
    uint256 internal constant FAILURE_RESERVE_GAS = 45_000;
    /// @dev Revert data kept from a receiver: enough for an error with arguments, not a return bomb.
    uint256 internal constant MAX_RETURN_BYTES = 256;

    mapping(uint64 sourceChainId => Lane) private _lanes;
    /// @dev 2 bits per nonce, 128 nonces per word: most executions update a warm, non-zero slot.
    mapping(uint64 sourceChainId => mapping(uint256 word => uint256 bits)) private _states;
    /// @dev Only for messages in FAILURE: retry must present exactly the message that was verified.
    mapping(uint64 sourceChainId => mapping(uint64 nonce => bytes32 id)) private _failedIds;
    mapping(uint64 sourceChainId => mapping(address receiver => bool)) private _allowedReceivers;
    mapping(uint64 sourceChainId => mapping(address sourceToken => ITokenPool)) private _pools;
    mapping(uint64 sourceChainId => mapping(address sourceToken => RateLimiter.Bucket)) private _limits;

    event ExecutionStateChanged(
        uint64 indexed sourceChainId,
        uint64 indexed nonce,
        bytes32 indexed messageId,
        ExecutionState state,
        bytes returnData
    );
    /// @notice In a batch, a message already executed (by another relayer, say) was passed over.
    event ExecutionSkipped(
        uint64 indexed sourceChainId, uint64 indexed nonce, bytes32 indexed messageId, ExecutionState state
    );
    event LaneSet(uint64 indexed sourceChainId, address verifier);
    event ReceiverSet(uint64 indexed sourceChainId, address indexed receiver, bool allowed);
    event PoolSet(uint64 indexed sourceChainId, address indexed sourceToken, address pool);
    event RateLimitSet(
        uint64 indexed sourceChainId, address indexed sourceToken, bool enabled, uint128 capacity, uint128 rate
    );

    error InboxUnknownLane(uint64 sourceChainId);
    error InboxWrongDestination(uint64 expected, uint64 actual);
    error InboxVerificationFailed(address verifier);
    error InboxAlreadyExecuted(uint64 sourceChainId, uint64 nonce, ExecutionState state);
    error InboxNotFailed(uint64 sourceChainId, uint64 nonce, ExecutionState state);
    /// @notice Retry must present the exact message that failed.
    error InboxMessageMismatch(uint64 sourceChainId, uint64 nonce);
    error InboxGasLimitTooLow(uint256 given, uint256 minimum);
    /// @notice Not enough gas to give the receiver its full limit: send the transaction with more gas.
    error InboxInsufficientGas(uint256 needed, uint256 available);
    error InboxReceiverNotAllowed(uint64 sourceChainId, address receiver);
    error InboxUnsupportedToken(uint64 sourceChainId, address sourceToken);
    error InboxReceiverReverted(bytes reason);
    error InboxOnlySelf();
    error InboxLengthMismatch(uint256 messages, uint256 proofs);

    constructor(address owner_, address guardian_) Guardable(owner_, guardian_) {}

    // ---------------------------------------------------------------- execution

    /// @notice Verifies and executes one message; reverts if it is not UNTOUCHED.
    function execute(bytes calldata message, bytes calldata proof) external {
        (uint64 source, uint64 nonce, bytes32 id) = _verify(message, proof);
        ExecutionState state = executionState(source, nonce);
        if (state != ExecutionState.UNTOUCHED) revert InboxAlreadyExecuted(source, nonce, state);
        _run(message, id, source, nonce, message.gasLimit());
    }

    /// @notice Verifies and executes messages in order; already executed ones are skipped, so two
    /// relayers racing on overlapping batches never revert each other.
    function executeBatch(bytes[] calldata messages, bytes[] calldata proofs) external {
        if (messages.length != proofs.length) revert InboxLengthMismatch(messages.length, proofs.length);
        for (uint256 i; i < messages.length; ++i) {
            bytes calldata message = messages[i];
            // Verified even when skipped: the first proof of a batch may carry the signatures the rest rely on.
            (uint64 source, uint64 nonce, bytes32 id) = _verify(message, proofs[i]);
            ExecutionState state = executionState(source, nonce);
            if (state != ExecutionState.UNTOUCHED) {
                emit ExecutionSkipped(source, nonce, id, state);
                continue;
            }
            _run(message, id, source, nonce, message.gasLimit());
        }
    }

    /// @notice Re-executes a message in FAILURE with at least its original gas limit. Anyone may call:
    /// the message was verified when it first ran, so no proof is needed.
    function retry(bytes calldata message, uint32 gasLimit) external {
        message.validate();
        uint64 source = message.sourceChainId();
        uint64 nonce = message.nonce();
        Lane memory config = _lanes[source];
        // A disabled lane (e.g. its verifier was compromised) stops retries too.
        if (address(config.verifier) == address(0)) revert InboxUnknownLane(source);
        _requireNotPaused(source, config.pauseFlags, PAUSE_EXECUTE);
        ExecutionState state = executionState(source, nonce);
        if (state != ExecutionState.FAILURE) revert InboxNotFailed(source, nonce, state);
        bytes32 id = message.id();
        if (_failedIds[source][nonce] != id) revert InboxMessageMismatch(source, nonce);
        if (gasLimit < message.gasLimit()) revert InboxGasLimitTooLow(gasLimit, message.gasLimit());
        if (_run(message, id, source, nonce, gasLimit)) delete _failedIds[source][nonce];
    }

    /// @notice Releases the tokens and calls the receiver, for messages that carry tokens. Only the Inbox
    /// calls this, in a frame of its own so that a failing receiver also undoes the token release.
    function deliver(bytes calldata message, bytes32 id, uint256 gasLimit) external {
        if (msg.sender != address(this)) revert InboxOnlySelf();
        uint64 source = message.sourceChainId();
        DeliveredToken[] memory delivered = _releaseTokens(message, source, message.receiver());
        (bool ok, bytes memory reason) = _callReceiver(message, id, source, gasLimit, delivered);
        if (!ok) _bubble(reason);
    }

    function _verify(bytes calldata message, bytes calldata proof)
        private
        returns (uint64 source, uint64 nonce, bytes32 id)
    {
        message.validate();
        source = message.sourceChainId();
        Lane memory config = _lanes[source];
        if (address(config.verifier) == address(0)) revert InboxUnknownLane(source);
        _requireNotPaused(source, config.pauseFlags, PAUSE_EXECUTE);
        if (message.destChainId() != block.chainid) {
            revert InboxWrongDestination(uint64(block.chainid), message.destChainId());
        }
        if (!config.verifier.verify(message, proof)) revert InboxVerificationFailed(address(config.verifier));
        nonce = message.nonce();
        id = message.id();
    }

    /// @return ok Whether the delivery succeeded.
    function _run(bytes calldata message, bytes32 id, uint64 source, uint64 nonce, uint256 gasLimit)
        private
        returns (bool ok)
    {
        _setState(source, nonce, ExecutionState.SUCCESS);
        uint256 tokens = message.tokenCount();
        uint256 needed = gasLimit + tokens * TOKEN_GAS + DELIVERY_OVERHEAD_GAS;
        uint256 available = gasleft();
        if (available - available / 64 < needed + FAILURE_RESERVE_GAS) {
            revert InboxInsufficientGas(needed + FAILURE_RESERVE_GAS, available);
        }
        bytes memory reason;
        if (tokens == 0) {
            // Nothing to undo if the receiver fails: call it directly and save a frame.
            (ok, reason) = _callReceiver(message, id, source, gasLimit, new DeliveredToken[](0));
        } else {
            try this.deliver{gas: available - FAILURE_RESERVE_GAS}(message, id, gasLimit) {
                ok = true;
            } catch (bytes memory data) {
                // Too little gas is the relayer's problem, not the message's: fail the whole transaction.
                if (bytes4(data) == InboxInsufficientGas.selector) _bubble(data);
                reason = data;
            }
        }
        if (!ok) {
            _setState(source, nonce, ExecutionState.FAILURE);
            _failedIds[source][nonce] = id;
        }
        emit ExecutionStateChanged(source, nonce, id, ok ? ExecutionState.SUCCESS : ExecutionState.FAILURE, reason);
    }

    /// @dev Calls the receiver when the message has a payload. A failure that is the message's (receiver
    /// not allowlisted, reverted, out of gas) comes back as `reason`; too little gas for the full limit
    /// reverts the transaction instead, so a relayer can never force a FAILURE.
    function _callReceiver(
        bytes calldata message,
        bytes32 id,
        uint64 source,
        uint256 gasLimit,
        DeliveredToken[] memory delivered
    ) private returns (bool ok, bytes memory reason) {
        bytes calldata payload = message.payload();
        if (payload.length == 0) return (true, "");
        address receiver = message.receiver();
        if (!_allowedReceivers[source][receiver]) {
            return (false, abi.encodeWithSelector(InboxReceiverNotAllowed.selector, source, receiver));
        }
        bytes memory callData = abi.encodeCall(
            IMessageReceiver.receiveMessage, (Delivery(id, source, message.sender(), delivered, payload))
        );
        // EIP-150 passes on at most 63/64 of what is left; make sure that still covers the full limit.
        uint256 available = gasleft();
        if (available - available / 64 < gasLimit + 5_000) revert InboxInsufficientGas(gasLimit + 5_000, available);
        bytes memory returned;
        (ok, returned) = _callBounded(receiver, gasLimit, callData);
        if (!ok) reason = abi.encodeWithSelector(InboxReceiverReverted.selector, returned);
    }

    function _releaseTokens(bytes calldata message, uint64 source, address receiver)
        private
        returns (DeliveredToken[] memory delivered)
    {
        uint256 count = message.tokenCount();
        delivered = new DeliveredToken[](count);
        for (uint256 i; i < count; ++i) {
            TokenTransfer memory transfer = message.tokenAt(i);
            ITokenPool pool = _pools[source][transfer.token];
            if (address(pool) == address(0)) revert InboxUnsupportedToken(source, transfer.token);
            _limits[source][transfer.token].consume(transfer.amount, transfer.token);
            pool.releaseOrMint(receiver, transfer.amount);
            delivered[i] = DeliveredToken(pool.token(), transfer.amount);
        }
    }

    /// @dev A call that copies at most MAX_RETURN_BYTES of return data, so a receiver cannot make the
    /// Inbox pay for a huge revert reason.
    function _callBounded(address target, uint256 gasLimit, bytes memory data)
        private
        returns (bool ok, bytes memory returned)
    {
        assembly ("memory-safe") {
            ok := call(gasLimit, target, 0, add(data, 0x20), mload(data), 0, 0)
            let size := returndatasize()
            if gt(size, MAX_RETURN_BYTES) { size := MAX_RETURN_BYTES }
            returned := mload(0x40)
            mstore(returned, size)
            returndatacopy(add(returned, 0x20), 0, size)
            mstore(0x40, add(add(returned, 0x20), and(add(size, 0x1f), not(0x1f))))
        }
    }

    function _bubble(bytes memory data) private pure {
        assembly ("memory-safe") {
            revert(add(data, 0x20), mload(data))
        }
    }

    function _setState(uint64 source, uint64 nonce, ExecutionState state) private {
        uint256 shift = (uint256(nonce) & 127) << 1;
        uint256 word = _states[source][nonce >> 7];
        _states[source][nonce >> 7] = (word & ~(uint256(3) << shift)) | (uint256(state) << shift);
    }

    // ---------------------------------------------------------------- views

    function executionState(uint64 sourceChainId, uint64 nonce) public view returns (ExecutionState) {
        return ExecutionState((_states[sourceChainId][nonce >> 7] >> ((uint256(nonce) & 127) << 1)) & 3);
    }

    function lane(uint64 sourceChainId) external view returns (Lane memory) {
        return _lanes[sourceChainId];
    }

    function isReceiverAllowed(uint64 sourceChainId, address receiver) external view returns (bool) {
        return _allowedReceivers[sourceChainId][receiver];
    }

    function poolFor(uint64 sourceChainId, address sourceToken) external view returns (ITokenPool) {
        return _pools[sourceChainId][sourceToken];
    }

    function availableToReceive(uint64 sourceChainId, address sourceToken) external view returns (uint256) {
        return _limits[sourceChainId][sourceToken].available();
    }

    // ---------------------------------------------------------------- admin

    /// @notice Enables the lane from `sourceChainId` with `verifier`, or disables it with address(0).
    function setLane(uint64 sourceChainId, IVerifier verifier) external onlyOwner {
        _lanes[sourceChainId].verifier = verifier;
        emit LaneSet(sourceChainId, address(verifier));
    }

    function setReceiver(uint64 sourceChainId, address receiver, bool allowed) external onlyOwner {
        _allowedReceivers[sourceChainId][receiver] = allowed;
        emit ReceiverSet(sourceChainId, receiver, allowed);
    }

    function setPool(uint64 sourceChainId, address sourceToken, ITokenPool pool) external onlyOwner {
        _pools[sourceChainId][sourceToken] = pool;
        emit PoolSet(sourceChainId, sourceToken, address(pool));
    }

    function setRateLimit(uint64 sourceChainId, address sourceToken, bool enabled, uint128 capacity, uint128 rate)
        external
        onlyOwner
    {
        _limits[sourceChainId][sourceToken].configure(enabled, capacity, rate);
        emit RateLimitSet(sourceChainId, sourceToken, enabled, capacity, rate);
    }

    function _lanePauseFlags(uint64 chainId) internal view override returns (uint8) {
        return _lanes[chainId].pauseFlags;
    }

    function _setLanePauseFlags(uint64 chainId, uint8 flags) internal override {
        _lanes[chainId].pauseFlags = flags;
    }
}
