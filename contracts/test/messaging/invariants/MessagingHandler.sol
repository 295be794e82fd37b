// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Inbox} from "../../../src/messaging/Inbox.sol";
import {Outbox, TokenAmount} from "../../../src/messaging/Outbox.sol";
import {CommitteeVerifier} from "../../../src/messaging/verifiers/CommitteeVerifier.sol";
import {MockReceiver} from "../mocks/MockReceiver.sol";
import {BatchTree} from "../utils/BatchTree.sol";
import {CommitteeProofs} from "../utils/CommitteeProofs.sol";
import {MessageReader} from "../utils/MessageReader.sol";
import {SentMessages} from "../utils/SentMessages.sol";

/// @notice Everything the handler acts on, set up by the invariant test.
struct Deployment {
    Outbox outbox;
    Inbox inbox;
    CommitteeVerifier verifier;
    MockReceiver good;
    MockReceiver flaky;
    IERC20 lockToken;
    address sender;
    uint64 sourceChainId;
    uint64 destChainId;
    uint32 epoch;
}

/// @notice Drives one lane with random traffic: sends (random payload sizes, tokens, receivers that
/// may revert), relays random subsets of signed batches in random order, replays, retries.
contract MessagingHandler is CommonBase, StdUtils {
    using MessageReader for bytes;

    uint256 public constant MAX_MESSAGES = 48;
    uint256 public constant MAX_BATCH = 16;
    uint32 public constant GAS_LIMIT = 500_000;

    Deployment private _d;
    uint256[] private _quorum;

    bytes[] private _messages;
    /// @dev keccak256 of _messages[i]; on this single lane the nonce of message i is i.
    bytes32[] private _ids;
    mapping(bytes32 id => bool) public wasSent;
    mapping(bytes32 id => bool) public wasRelayed;
    uint256 public relayedCount;
    uint256 public lockedSent;

    /// @dev Ghost flags: set when the Inbox accepted something it must refuse.
    bool public replayAccepted;
    bool public batchReverted;
    bytes public batchRevertReason;

    uint256 public replaysRejected;
    uint256 public retries;

    constructor(Deployment memory deployment, uint256[] memory quorum) {
        _d = deployment;
        _quorum = quorum;
    }

    // ---------------------------------------------------------------- actions

    function send(uint256 seed, uint256 payloadSize, bool toFlaky, uint256 amount) external {
        if (_messages.length >= MAX_MESSAGES) return;
        bytes memory payload = _payload(seed, bound(payloadSize, 0, 2048));
        address to = toFlaky ? address(_d.flaky) : address(_d.good);
        amount = bound(amount, 0, 1_000e18);
        bytes memory message = _sendOnSource(to, payload, amount);
        lockedSent += amount;
        _messages.push(message);
        _ids.push(keccak256(message));
        wasSent[keccak256(message)] = true;
    }

    /// @notice Validators sign the batch of nonces [start, start + length); the relayer submits a random
    /// non-empty subset in random order, the first submitted message carrying the signatures.
    function relayBatch(uint256 start, uint256 length, uint256 subsetSeed, uint256 orderSeed) external {
        uint256 sent = _messages.length;
        if (sent == 0) return;
        start = bound(start, 0, sent - 1);
        length = bound(length, 1, _min(sent - start, MAX_BATCH));
        bytes32[] memory ids = new bytes32[](length);
        for (uint256 i; i < length; ++i) {
            ids[i] = keccak256(_messages[start + i]);
        }
        uint256[] memory picked = _shuffle(_subset(length, subsetSeed), orderSeed);
        (bytes[] memory batch, bytes[] memory proofs) = _prove(ids, start, picked);

        vm.chainId(_d.destChainId);
        try _d.inbox.executeBatch(batch, proofs) {
            for (uint256 i; i < batch.length; ++i) {
                _markRelayed(batch[i]);
            }
        } catch (bytes memory reason) {
            // Valid proofs never make a batch revert: remembered for the invariant to report.
            batchReverted = true;
            batchRevertReason = reason;
        }
    }

    /// @notice One message with a batch-of-one proof: a first execution or a replay.
    function relayOne(uint256 index) external {
        if (_messages.length == 0) return;
        bytes memory message = _messages[bound(index, 0, _messages.length - 1)];
        bytes32 id = keccak256(message);
        bytes memory proof = CommitteeProofs.encode(_d.epoch, 1, id, new bytes32[](0), _signatures(id, 1));
        vm.chainId(_d.destChainId);
        bool executedBefore = _state(message) != Inbox.ExecutionState.UNTOUCHED;
        try _d.inbox.execute(message, proof) {
            if (executedBefore) replayAccepted = true;
            _markRelayed(message);
        } catch (bytes memory reason) {
            if (!executedBefore || bytes4(reason) != Inbox.InboxAlreadyExecuted.selector) batchReverted = true;
            ++replaysRejected;
        }
    }

    /// @notice Retries the first FAILURE at or after `index`, with at least the original gas.
    function retry(uint256 index, uint256 extraGas) external {
        uint256 sent = _messages.length;
        if (sent == 0) return;
        index = bound(index, 0, sent - 1);
        vm.chainId(_d.destChainId);
        for (uint256 i; i < sent; ++i) {
            bytes memory message = _messages[(index + i) % sent];
            if (_state(message) != Inbox.ExecutionState.FAILURE) continue;
            _d.inbox.retry(message, uint32(GAS_LIMIT + bound(extraGas, 0, 100_000)));
            ++retries;
            return;
        }
    }

    function setFlakyReverting(bool reverting) external {
        _d.flaky.setBehavior(reverting ? MockReceiver.Behavior.Revert : MockReceiver.Behavior.Accept);
    }

    // ---------------------------------------------------------------- views for the invariants

    function messageCount() external view returns (uint256) {
        return _messages.length;
    }

    function messageAt(uint256 index) external view returns (bytes memory) {
        return _messages[index];
    }

    function ids() external view returns (bytes32[] memory) {
        return _ids;
    }

    // ---------------------------------------------------------------- internals

    function _prove(bytes32[] memory ids, uint256 start, uint256[] memory picked)
        private
        view
        returns (bytes[] memory batch, bytes[] memory proofs)
    {
        bytes32 root = BatchTree.root(ids);
        uint32 leafCount = uint32(ids.length);
        batch = new bytes[](picked.length);
        proofs = new bytes[](picked.length);
        for (uint256 i; i < picked.length; ++i) {
            batch[i] = _messages[start + picked[i]];
            bytes memory signatures = i == 0 ? _signatures(root, leafCount) : bytes("");
            proofs[i] = CommitteeProofs.encode(_d.epoch, leafCount, root, BatchTree.proof(ids, picked[i]), signatures);
        }
    }

    /// @return message The full message, as the Outbox's MessageSent event carries it.
    function _sendOnSource(address to, bytes memory payload, uint256 amount) private returns (bytes memory message) {
        vm.chainId(_d.sourceChainId);
        vm.recordLogs();
        vm.prank(_d.sender);
        if (amount == 0) {
            _d.outbox.send(_d.destChainId, to, payload, GAS_LIMIT);
        } else {
            TokenAmount[] memory tokens = new TokenAmount[](1);
            tokens[0] = TokenAmount(address(_d.lockToken), amount);
            _d.outbox.sendWithTokens(_d.destChainId, to, payload, GAS_LIMIT, 0, tokens);
        }
        vm.chainId(_d.destChainId);
        message = SentMessages.last(address(_d.outbox));
    }

    function _signatures(bytes32 root, uint32 leafCount) private view returns (bytes memory) {
        return CommitteeProofs.sign(_d.verifier.batchDigest(_d.epoch, root, leafCount), _quorum);
    }

    function _markRelayed(bytes memory message) private {
        bytes32 id = keccak256(message);
        if (wasRelayed[id]) return;
        wasRelayed[id] = true;
        ++relayedCount;
    }

    function _state(bytes memory message) private view returns (Inbox.ExecutionState) {
        return _d.inbox.executionState(message.sourceChainId(), message.nonce());
    }

    /// @dev Indices 0..length-1 selected by the bits of `seed`; never empty.
    function _subset(uint256 length, uint256 seed) private pure returns (uint256[] memory picked) {
        picked = new uint256[](length);
        uint256 count;
        for (uint256 i; i < length; ++i) {
            if ((seed >> i) & 1 == 1) {
                picked[count] = i;
                ++count;
            }
        }
        if (count == 0) {
            picked[0] = seed % length;
            count = 1;
        }
        assembly ("memory-safe") {
            mstore(picked, count)
        }
    }

    function _shuffle(uint256[] memory items, uint256 seed) private pure returns (uint256[] memory) {
        for (uint256 i = items.length; i > 1; --i) {
            uint256 j = uint256(keccak256(abi.encode(seed, i))) % i;
            (items[i - 1], items[j]) = (items[j], items[i - 1]);
        }
        return items;
    }

    function _payload(uint256 seed, uint256 size) private pure returns (bytes memory payload) {
        payload = new bytes(size);
        if (size >= 32) {
            assembly ("memory-safe") {
                mstore(add(payload, 0x20), seed)
            }
        }
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
