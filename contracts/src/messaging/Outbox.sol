// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Guardable} from "../guardian/Guardable.sol";
import {ITokenPool} from "./interfaces/ITokenPool.sol";
import {IncrementalMerkle} from "./libraries/IncrementalMerkle.sol";
import {Header, MessageLib, TokenTransfer} from "./libraries/MessageLib.sol";
import {RateLimiter} from "./libraries/RateLimiter.sol";

/// @notice A token to send: `amount` of `token`, taken from the sender through the token's pool.
struct TokenAmount {
    address token;
    uint256 amount;
}

/// @title Outbox
/// @notice Numbers, commits and announces outgoing messages (docs/messaging.md). Tokens travel inside
/// the message: their pools lock or burn them here, and the destination releases or mints them.
contract Outbox is Guardable, ReentrancyGuardTransient {
    using IncrementalMerkle for IncrementalMerkle.Tree;
    using RateLimiter for RateLimiter.Bucket;

    /// @dev Per destination chain; one storage slot, read and written once per send.
    struct Lane {
        uint64 nextNonce;
        bool enabled;
        uint8 pauseFlags;
    }

    /// @notice Checked by off-chain code before it talks to this contract.
    function typeAndVersion() external pure returns (string memory) {
        return "Outbox 1.0.0";
    }

    IncrementalMerkle.Tree private _tree;
    mapping(uint64 destChainId => Lane) private _lanes;
    mapping(address token => ITokenPool) private _pools;
    mapping(uint64 destChainId => mapping(address token => RateLimiter.Bucket)) private _limits;

    /// @notice A message left this chain. `message` is the full encoding; `id` its keccak256.
    event MessageSent(
        bytes32 indexed id, uint64 indexed destChainId, uint64 indexed nonce, uint256 leafIndex, bytes message
    );
    event LaneSet(uint64 indexed destChainId, bool enabled);
    event PoolSet(address indexed token, address pool);
    event RateLimitSet(uint64 indexed destChainId, address indexed token, bool enabled, uint128 capacity, uint128 rate);

    /// @notice No lane to `destChainId` is configured here.
    error OutboxUnknownLane(uint64 destChainId);
    /// @notice `token` has no pool on this chain, so it cannot travel.
    error OutboxUnsupportedToken(address token);
    error OutboxZeroReceiver();
    error OutboxZeroAmount(address token);
    error OutboxPayloadTooLarge(uint256 size, uint256 max);
    error OutboxTooManyTokens(uint256 count, uint256 max);
    error OutboxUnknownFinality(uint8 finality);
    /// @notice The pool's token does not match the token it is registered for.
    error OutboxPoolTokenMismatch(address token, address poolToken);

    constructor(address owner_, address guardian_) Guardable(owner_, guardian_) {}

    /// @notice Sends a message with no tokens: the cheapest path.
    function send(uint64 destChainId, address receiver, bytes calldata payload, uint32 gasLimit)
        external
        returns (bytes32 id)
    {
        return _send(destChainId, receiver, payload, gasLimit, MessageLib.FINALITY_FINAL, new TokenTransfer[](0));
    }

    /// @notice Sends tokens, optionally with a payload (a programmable token transfer). The sender
    /// approves each token's pool (see {poolOf}) for `amount` beforehand.
    function sendWithTokens(
        uint64 destChainId,
        address receiver,
        bytes calldata payload,
        uint32 gasLimit,
        uint8 finality,
        TokenAmount[] calldata tokens
    ) external nonReentrant returns (bytes32 id) {
        // The breaker first: nothing is taken from a sender on a closed or paused lane.
        Lane memory config = _lanes[destChainId];
        if (!config.enabled) revert OutboxUnknownLane(destChainId);
        _requireNotPaused(destChainId, config.pauseFlags, PAUSE_SEND);
        if (tokens.length > MessageLib.MAX_TOKENS) revert OutboxTooManyTokens(tokens.length, MessageLib.MAX_TOKENS);
        TokenTransfer[] memory transfers = new TokenTransfer[](tokens.length);
        for (uint256 i; i < tokens.length; ++i) {
            transfers[i] = _takeTokens(destChainId, tokens[i]);
        }
        return _send(destChainId, receiver, payload, gasLimit, finality, transfers);
    }

    function _takeTokens(uint64 destChainId, TokenAmount calldata input)
        private
        returns (TokenTransfer memory transfer)
    {
        ITokenPool pool = _pools[input.token];
        if (address(pool) == address(0)) revert OutboxUnsupportedToken(input.token);
        if (input.amount == 0) revert OutboxZeroAmount(input.token);
        _limits[destChainId][input.token].consume(input.amount, input.token);
        transfer.token = input.token;
        transfer.amount = pool.lockOrBurn(msg.sender, input.amount);
        transfer.mode = pool.mode();
    }

    function _send(
        uint64 destChainId,
        address receiver,
        bytes calldata payload,
        uint32 gasLimit,
        uint8 finality,
        TokenTransfer[] memory tokens
    ) private returns (bytes32 id) {
        Lane memory config = _lanes[destChainId];
        if (!config.enabled) revert OutboxUnknownLane(destChainId);
        _requireNotPaused(destChainId, config.pauseFlags, PAUSE_SEND);
        if (receiver == address(0)) revert OutboxZeroReceiver();
        if (payload.length > MessageLib.MAX_PAYLOAD_BYTES) {
            revert OutboxPayloadTooLarge(payload.length, MessageLib.MAX_PAYLOAD_BYTES);
        }
        if (finality > MessageLib.FINALITY_FAST) revert OutboxUnknownFinality(finality);

        uint64 nonce = config.nextNonce;
        // Cannot overflow in practice: 2^64 messages on one lane.
        unchecked {
            _lanes[destChainId].nextNonce = nonce + 1;
        }
        bytes memory message = MessageLib.encode(
            Header(nonce, uint64(block.chainid), msg.sender, destChainId, receiver, finality, gasLimit), tokens, payload
        );
        id = keccak256(message);
        uint256 leafIndex = _tree.insert(id);
        emit MessageSent(id, destChainId, nonce, leafIndex, message);
    }

    // ---------------------------------------------------------------- views

    /// @notice Root of the tree of every message id sent from here (all lanes), for validators' checks.
    function root() external view returns (bytes32) {
        return _tree.root();
    }

    /// @notice Number of messages sent from here (all lanes).
    function count() external view returns (uint256) {
        return _tree.count;
    }

    function lane(uint64 destChainId) external view returns (Lane memory) {
        return _lanes[destChainId];
    }

    function poolOf(address token) external view returns (ITokenPool) {
        return _pools[token];
    }

    function rateLimit(uint64 destChainId, address token) external view returns (RateLimiter.Bucket memory) {
        return _limits[destChainId][token];
    }

    function availableToSend(uint64 destChainId, address token) external view returns (uint256) {
        return _limits[destChainId][token].available();
    }

    // ---------------------------------------------------------------- admin

    function setLane(uint64 destChainId, bool enabled) external onlyOwner {
        _lanes[destChainId].enabled = enabled;
        emit LaneSet(destChainId, enabled);
    }

    function setPool(address token, ITokenPool pool) external onlyOwner {
        if (address(pool) != address(0) && pool.token() != token) revert OutboxPoolTokenMismatch(token, pool.token());
        _pools[token] = pool;
        emit PoolSet(token, address(pool));
    }

    function setRateLimit(uint64 destChainId, address token, bool enabled, uint128 capacity, uint128 rate)
        external
        onlyOwner
    {
        _limits[destChainId][token].configure(enabled, capacity, rate);
        emit RateLimitSet(destChainId, token, enabled, capacity, rate);
    }

    function _lanePauseFlags(uint64 chainId) internal view override returns (uint8) {
        return _lanes[chainId].pauseFlags;
    }

    function _setLanePauseFlags(uint64 chainId, uint8 flags) internal override {
        _lanes[chainId].pauseFlags = flags;
    }
}
