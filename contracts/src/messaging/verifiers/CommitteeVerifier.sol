// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {SSTORE2} from "solady/utils/SSTORE2.sol";
import {IVerifier} from "../interfaces/IVerifier.sol";
import {MessageLib} from "../libraries/MessageLib.sol";

/// @title CommitteeVerifier
/// @notice t-of-n validator signatures over the Merkle root of a batch of message ids from one lane
/// (docs/messaging.md). A single message is a batch of one: root = id, no siblings. In one
/// transaction the first message of a batch carries the signatures and the proven root is cached in
/// transient storage, so the rest of the batch pays only for their inclusion proofs.
contract CommitteeVerifier is IVerifier, Ownable2Step {
    using MessageLib for bytes;

    /// @dev One slot per epoch. The signer list itself is stored as contract code (SSTORE2): one
    /// EXTCODECOPY reads the whole set, cheaper than a storage read per signer.
    struct Epoch {
        address signers;
        uint8 threshold;
        uint8 size;
        bool retired;
    }

    bytes32 public constant BATCH_TYPEHASH = keccak256(
        "IsthmusBatch(uint64 sourceChainId,address sourceOutbox,uint64 destChainId,address destInbox,uint32 epoch,bytes32 root,uint32 leafCount)"
    );
    uint256 private constant SIGNATURE_BYTES = 65;
    uint256 private constant PROOF_HEADER_BYTES = 41; // epoch 4 + leafCount 4 + root 32 + siblingCount 1

    uint64 public immutable sourceChainId;
    address public immutable sourceOutbox;
    address public immutable inbox;

    uint32 private _latestEpoch;
    mapping(uint32 epoch => Epoch) private _epochs;

    event ValidatorsSet(uint32 indexed epoch, address[] signers, uint8 threshold);
    event EpochRetired(uint32 indexed epoch);

    error VerifierWrongSource(uint64 expected, uint64 actual);
    error VerifierWrongDestination(uint64 expected, uint64 actual);
    error VerifierMalformedProof(uint256 length);
    error VerifierZeroRoot();
    error VerifierZeroLeafCount();
    /// @notice Only a batch of one may have no siblings.
    error VerifierEmptyProof(uint32 leafCount);
    error VerifierProofTooLong(uint256 siblings, uint256 max);
    /// @notice The siblings do not lead from this message's id to the signed root.
    error VerifierInvalidProof(bytes32 messageId, bytes32 root);
    error VerifierUnknownEpoch(uint32 epoch);
    error VerifierEpochRetired(uint32 epoch);
    /// @notice Signatures may be omitted only when this root was proven earlier in the transaction.
    error VerifierRootNotProven(bytes32 root);
    error VerifierBelowThreshold(uint256 signatures, uint256 threshold);
    error VerifierBadSignature(uint256 index);
    error VerifierUnknownSigner(uint256 index, address signer);
    /// @notice Signers must be strictly ascending by address (which also rules out duplicates).
    error VerifierSignersNotAscending(uint256 index, address signer);
    error VerifierInvalidValidatorSet(string reason);

    constructor(address owner_, uint64 sourceChainId_, address sourceOutbox_, address inbox_) Ownable(owner_) {
        sourceChainId = sourceChainId_;
        sourceOutbox = sourceOutbox_;
        inbox = inbox_;
    }

    /// @inheritdoc IVerifier
    function typeAndVersion() external pure returns (string memory) {
        return "CommitteeVerifier 1.0.0";
    }

    /// @inheritdoc IVerifier
    function verify(bytes calldata message, bytes calldata proof) external returns (bool) {
        // The Inbox validated the message already; a direct caller still gets a clean error.
        if (message.length < MessageLib.HEADER_BYTES) revert MessageLib.MessageMalformed("shorter than the 71-byte header");
        if (message.sourceChainId() != sourceChainId) revert VerifierWrongSource(sourceChainId, message.sourceChainId());
        if (message.destChainId() != block.chainid) {
            revert VerifierWrongDestination(uint64(block.chainid), message.destChainId());
        }
        if (proof.length < PROOF_HEADER_BYTES) revert VerifierMalformedProof(proof.length);
        (uint32 epochId, uint32 leafCount, bytes32 root, uint256 siblingCount) = _proofHeader(proof);
        uint256 signaturesStart = PROOF_HEADER_BYTES + siblingCount * 32;
        if (proof.length < signaturesStart || (proof.length - signaturesStart) % SIGNATURE_BYTES != 0) {
            revert VerifierMalformedProof(proof.length);
        }
        _checkInclusion(message.id(), root, leafCount, proof, siblingCount);
        bytes calldata signatures = proof[signaturesStart:];
        if (signatures.length == 0) {
            if (_provenLeafCount(root) != leafCount) revert VerifierRootNotProven(root);
        } else {
            _checkSignatures(epochId, root, leafCount, signatures);
            _cacheProven(root, leafCount);
        }
        return true;
    }

    /// @notice The digest validators sign (before the EIP-191 prefix) for a batch of this lane.
    function batchDigest(uint32 epoch, bytes32 root, uint32 leafCount) public view returns (bytes32) {
        return keccak256(
            abi.encode(
                BATCH_TYPEHASH, sourceChainId, sourceOutbox, uint64(block.chainid), inbox, epoch, root, leafCount
            )
        );
    }

    /// @dev The packed header: epoch (4) ‖ leafCount (4) ‖ root (32) ‖ siblingCount (1); length checked by the caller.
    function _proofHeader(bytes calldata proof)
        private
        pure
        returns (uint32 epochId, uint32 leafCount, bytes32 root, uint256 siblingCount)
    {
        assembly ("memory-safe") {
            let head := calldataload(proof.offset)
            epochId := shr(224, head)
            leafCount := and(shr(192, head), 0xffffffff)
            root := calldataload(add(proof.offset, 8))
            siblingCount := byte(0, calldataload(add(proof.offset, 40)))
        }
    }

    function _checkInclusion(bytes32 id, bytes32 root, uint32 leafCount, bytes calldata proof, uint256 siblingCount)
        private
        pure
    {
        if (root == bytes32(0)) revert VerifierZeroRoot();
        if (leafCount == 0) revert VerifierZeroLeafCount();
        if (leafCount > 1 && siblingCount == 0) revert VerifierEmptyProof(leafCount);
        uint256 maxSiblings = _ceilLog2(leafCount);
        if (siblingCount > maxSiblings) revert VerifierProofTooLong(siblingCount, maxSiblings);
        if (_processProof(id, proof, siblingCount) != root) revert VerifierInvalidProof(id, root);
    }

    /// @dev OpenZeppelin's MerkleProof.processProof (commutative keccak256 of each pair), read straight
    /// from calldata: no sibling array is built in memory.
    function _processProof(bytes32 leaf, bytes calldata proof, uint256 siblingCount)
        private
        pure
        returns (bytes32 node)
    {
        node = leaf;
        assembly ("memory-safe") {
            let sibling := add(proof.offset, PROOF_HEADER_BYTES)
            for { let end := add(sibling, mul(siblingCount, 32)) } lt(sibling, end) { sibling := add(sibling, 32) } {
                let other := calldataload(sibling)
                switch lt(node, other)
                case 1 {
                    mstore(0x00, node)
                    mstore(0x20, other)
                }
                default {
                    mstore(0x00, other)
                    mstore(0x20, node)
                }
                node := keccak256(0x00, 0x40)
            }
        }
    }

    function _checkSignatures(uint32 epochId, bytes32 root, uint32 leafCount, bytes calldata signatures)
        private
        view
    {
        Epoch memory config = _epochs[epochId];
        if (config.size == 0) revert VerifierUnknownEpoch(epochId);
        if (config.retired) revert VerifierEpochRetired(epochId);
        uint256 count = signatures.length / SIGNATURE_BYTES;
        if (count < config.threshold) revert VerifierBelowThreshold(count, config.threshold);
        bytes32 hash = MessageHashUtils.toEthSignedMessageHash(batchDigest(epochId, root, leafCount));
        bytes memory set = SSTORE2.read(config.signers);
        // Signers and the set are both ascending, so one forward scan of the set checks membership.
        uint256 cursor;
        address previous;
        for (uint256 i; i < count; ++i) {
            bytes calldata signature = signatures[i * SIGNATURE_BYTES:(i + 1) * SIGNATURE_BYTES];
            (address signer, ECDSA.RecoverError recoverError,) = ECDSA.tryRecover(hash, signature);
            if (recoverError != ECDSA.RecoverError.NoError) revert VerifierBadSignature(i);
            if (signer <= previous) revert VerifierSignersNotAscending(i, signer);
            while (cursor < config.size && _signerAt(set, cursor) < signer) ++cursor;
            if (cursor == config.size || _signerAt(set, cursor) != signer) revert VerifierUnknownSigner(i, signer);
            previous = signer;
        }
    }

    /// @dev The i-th address of a packed list of 20-byte addresses.
    function _signerAt(bytes memory set, uint256 i) private pure returns (address signer) {
        assembly ("memory-safe") {
            signer := shr(96, mload(add(add(set, 0x20), mul(i, 20))))
        }
    }

    /// @dev The transient slot is the root itself; the value is the leaf count it was signed with.
    function _cacheProven(bytes32 root, uint32 leafCount) private {
        assembly ("memory-safe") {
            tstore(root, leafCount)
        }
    }

    function _provenLeafCount(bytes32 root) private view returns (uint32 leafCount) {
        assembly ("memory-safe") {
            leafCount := tload(root)
        }
    }

    function _ceilLog2(uint256 x) private pure returns (uint256 result) {
        while ((uint256(1) << result) < x) ++result;
    }

    // ---------------------------------------------------------------- validator sets

    function latestEpoch() external view returns (uint32) {
        return _latestEpoch;
    }

    function epochConfig(uint32 epochId) external view returns (Epoch memory) {
        return _epochs[epochId];
    }

    function isSigner(uint32 epochId, address account) external view returns (bool) {
        Epoch memory config = _epochs[epochId];
        if (config.size == 0) return false;
        bytes memory set = SSTORE2.read(config.signers);
        for (uint256 i; i < config.size; ++i) {
            if (_signerAt(set, i) == account) return true;
        }
        return false;
    }

    /// @notice Starts the next epoch with a new validator set. `threshold` must be a majority of
    /// `signers` so two conflicting batches can never both reach a quorum of honest-looking keys.
    function setValidators(address[] calldata signers, uint8 threshold) external onlyOwner returns (uint32 newEpoch) {
        if (signers.length == 0 || signers.length > type(uint8).max) revert VerifierInvalidValidatorSet("size");
        if (uint256(threshold) * 2 <= signers.length) revert VerifierInvalidValidatorSet("threshold not a majority");
        if (threshold > signers.length) revert VerifierInvalidValidatorSet("threshold above size");
        newEpoch = _latestEpoch + 1;
        address previous;
        // 20 bytes per signer: abi.encodePacked would pad each array element to 32.
        bytes memory packed;
        for (uint256 i; i < signers.length; ++i) {
            if (signers[i] <= previous) revert VerifierInvalidValidatorSet("signers not ascending");
            previous = signers[i];
            packed = abi.encodePacked(packed, signers[i]);
        }
        _epochs[newEpoch] = Epoch({
            signers: SSTORE2.write(packed),
            threshold: threshold,
            size: uint8(signers.length),
            retired: false
        });
        _latestEpoch = newEpoch;
        emit ValidatorsSet(newEpoch, signers, threshold);
    }

    /// @notice Stops accepting signatures of an epoch (e.g. once its batches are delivered after a rotation).
    function retireEpoch(uint32 epochId) external onlyOwner {
        if (_epochs[epochId].size == 0) revert VerifierUnknownEpoch(epochId);
        _epochs[epochId].retired = true;
        emit EpochRetired(epochId);
    }
}
