// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Test} from "forge-std/Test.sol";
import {Header, MessageLib, TokenTransfer} from "../../src/messaging/libraries/MessageLib.sol";
import {CommitteeVerifier} from "../../src/messaging/verifiers/CommitteeVerifier.sol";
import {BatchTree} from "./utils/BatchTree.sol";
import {CommitteeProofs} from "./utils/CommitteeProofs.sol";
import {MessageLibHarness} from "./utils/MessageLibHarness.sol";

/// @notice The shared vectors (vectors/README.md), written by the TypeScript generator, checked against
/// the contracts and this suite's own tree and proof builders.
contract VectorsTest is Test {
    /// @dev CommitteeVerifier's storage (`forge inspect CommitteeVerifier storageLayout`): _latestEpoch
    /// is packed into slot 1 after Ownable2Step._pendingOwner. Used only to open the vectors' epochs.
    bytes32 internal constant LATEST_EPOCH_SLOT = bytes32(uint256(1));
    uint256 internal constant LATEST_EPOCH_SHIFT = 160;

    MessageLibHarness internal lib;
    string internal messagesJson;
    string internal batchesJson;
    string internal digestsJson;

    function setUp() public {
        lib = new MessageLibHarness();
        string memory dir = string.concat(vm.projectRoot(), "/vectors/");
        messagesJson = vm.readFile(string.concat(dir, "messages.json"));
        batchesJson = vm.readFile(string.concat(dir, "batches.json"));
        digestsJson = vm.readFile(string.concat(dir, "digests.json"));
    }

    // ---------------------------------------------------------------- messages.json

    function test_vectors_messagesEncodeToTheirBytesAndIds() public view {
        uint256 count = _count(messagesJson, ".messages");
        assertGt(count, 0, "no message vectors");
        for (uint256 i; i < count; ++i) {
            string memory path = string.concat(".messages[", vm.toString(i), "]");
            (Header memory header, TokenTransfer[] memory tokens, bytes memory payload) = _parseMessage(path);
            bytes memory encoded = vm.parseJsonBytes(messagesJson, string.concat(path, ".encoded"));
            assertEq(vm.parseJsonUint(messagesJson, string.concat(path, ".version")), MessageLib.VERSION);
            assertEq(lib.encode(header, tokens, payload), encoded, _name(messagesJson, path));
            assertEq(keccak256(encoded), vm.parseJsonBytes32(messagesJson, string.concat(path, ".id")));

            (, Header memory decoded, TokenTransfer[] memory decodedTokens, bytes memory decodedPayload) =
                lib.decode(encoded);
            assertEq(abi.encode(decoded), abi.encode(header));
            assertEq(abi.encode(decodedTokens), abi.encode(tokens));
            assertEq(decodedPayload, payload);
        }
    }

    function test_vectors_invalidMessagesAreRejectedForTheirReason() public {
        uint256 count = _count(messagesJson, ".invalid");
        assertGt(count, 0, "no invalid vectors");
        for (uint256 i; i < count; ++i) {
            string memory path = string.concat(".invalid[", vm.toString(i), "]");
            bytes memory encoded = vm.parseJsonBytes(messagesJson, string.concat(path, ".encoded"));
            string memory reason = _expectedReason(_name(messagesJson, path));
            vm.expectRevert(abi.encodeWithSelector(MessageLib.MessageMalformed.selector, reason));
            lib.validate(encoded);
        }
    }

    // ---------------------------------------------------------------- batches.json

    function test_vectors_batchRootsAndProofsMatchTheTreeBuilder() public view {
        uint256 count = _count(batchesJson, ".batches");
        assertGt(count, 0, "no batch vectors");
        for (uint256 i; i < count; ++i) {
            string memory path = string.concat(".batches[", vm.toString(i), "]");
            bytes32[] memory leaves = vm.parseJsonBytes32Array(batchesJson, string.concat(path, ".leaves"));
            bytes32 root = vm.parseJsonBytes32(batchesJson, string.concat(path, ".root"));
            uint256 maxLength = vm.parseJsonUint(batchesJson, string.concat(path, ".maxProofLength"));
            assertEq(leaves.length, vm.parseJsonUint(batchesJson, string.concat(path, ".leafCount")));
            assertEq(BatchTree.root(leaves), root, "root");
            for (uint256 j; j < leaves.length; ++j) {
                string memory proofPath = string.concat(path, ".proofs[", vm.toString(j), "]");
                bytes32[] memory proof = vm.parseJsonBytes32Array(batchesJson, proofPath);
                assertEq(proof, BatchTree.proof(leaves, j), "proof");
                assertLe(proof.length, maxLength);
                assertTrue(MerkleProof.verify(proof, root, leaves[j]), "OpenZeppelin verifies it");
            }
        }
    }

    function test_vectors_flatProofsVerify() public view {
        uint256 count = _count(batchesJson, ".proofsFlat");
        assertGt(count, 0, "no flat proofs");
        for (uint256 i; i < count; ++i) {
            string memory path = string.concat(".proofsFlat[", vm.toString(i), "]");
            bytes32[] memory siblings = vm.parseJsonBytes32Array(batchesJson, string.concat(path, ".siblings"));
            bytes32 leaf = vm.parseJsonBytes32(batchesJson, string.concat(path, ".leaf"));
            bytes32 root = vm.parseJsonBytes32(batchesJson, string.concat(path, ".root"));
            assertTrue(MerkleProof.verify(siblings, root, leaf), "flat proof");
        }
    }

    // ---------------------------------------------------------------- digests.json

    function test_vectors_typehashIsTheContracts() public {
        CommitteeVerifier any = new CommitteeVerifier(address(this), 1, address(1), address(2));
        assertEq(vm.parseJsonBytes32(digestsJson, ".typehash"), any.BATCH_TYPEHASH());
    }

    /// @notice For each lane: the digest a verifier for that lane computes, the signers behind the
    /// signatures, the packed proof, and finally CommitteeVerifier.verify on the vector's message.
    function test_vectors_lanesDigestsSignaturesAndProofs() public {
        uint256 count = _count(digestsJson, ".lanes");
        assertGt(count, 0, "no lane vectors");
        for (uint256 i; i < count; ++i) {
            _checkLane(string.concat(".lanes[", vm.toString(i), "]"));
        }
    }

    // ---------------------------------------------------------------- helpers

    function _checkLane(string memory path) private {
        uint32 epoch = uint32(vm.parseJsonUint(digestsJson, string.concat(path, ".epoch")));
        bytes32 digest = vm.parseJsonBytes32(digestsJson, string.concat(path, ".digest"));
        CommitteeVerifier laneVerifier = _verifierFor(path);
        assertEq(
            laneVerifier.batchDigest(
                epoch,
                vm.parseJsonBytes32(digestsJson, string.concat(path, ".root")),
                uint32(vm.parseJsonUint(digestsJson, string.concat(path, ".leafCount")))
            ),
            digest,
            _name(digestsJson, path)
        );
        (address[] memory signers, bytes memory signatures) = _checkSignatures(path, digest);
        bytes memory message = vm.parseJsonBytes(digestsJson, string.concat(path, ".message"));
        bytes memory proof = _checkProofLayout(path, message, signatures);

        _openEpoch(laneVerifier, epoch, signers);
        assertTrue(laneVerifier.verify(message, proof));
    }

    /// @return signers The lane's signers, each checked against its signature and ascending.
    /// @return packed The signatures back to back, as in a proof.
    function _checkSignatures(string memory path, bytes32 digest)
        private
        view
        returns (address[] memory signers, bytes memory packed)
    {
        signers = vm.parseJsonAddressArray(digestsJson, string.concat(path, ".signers"));
        bytes[] memory signatures = vm.parseJsonBytesArray(digestsJson, string.concat(path, ".signatures"));
        assertEq(signatures.length, signers.length);
        for (uint256 k; k < signers.length; ++k) {
            assertEq(CommitteeProofs.recover(digest, signatures[k]), signers[k], "signature recovers to its signer");
            if (k > 0) assertLt(uint160(signers[k - 1]), uint160(signers[k]), "signers ascending");
            packed = bytes.concat(packed, signatures[k]);
        }
    }

    /// @return proof The vector's packed proof, checked against this suite's encoder.
    function _checkProofLayout(string memory path, bytes memory message, bytes memory signatures)
        private
        view
        returns (bytes memory proof)
    {
        bytes32 leaf = vm.parseJsonBytes32(digestsJson, string.concat(path, ".leaf"));
        bytes32 root = vm.parseJsonBytes32(digestsJson, string.concat(path, ".root"));
        bytes32[] memory siblings = vm.parseJsonBytes32Array(digestsJson, string.concat(path, ".siblings"));
        assertEq(keccak256(message), leaf, "message id");
        assertEq(MerkleProof.processProof(siblings, leaf), root, "inclusion");
        proof = vm.parseJsonBytes(digestsJson, string.concat(path, ".proof"));
        bytes memory expected = CommitteeProofs.encode(
            uint32(vm.parseJsonUint(digestsJson, string.concat(path, ".epoch"))),
            uint32(vm.parseJsonUint(digestsJson, string.concat(path, ".leafCount"))),
            root,
            siblings,
            signatures
        );
        assertEq(proof, expected, "packed proof layout");
    }

    /// @dev A verifier for the vector's lane: the digest takes the source from the constructor and the
    /// destination from block.chainid.
    function _verifierFor(string memory path) private returns (CommitteeVerifier) {
        vm.chainId(vm.parseJsonUint(digestsJson, string.concat(path, ".destChainId")));
        return new CommitteeVerifier(
            address(this),
            uint64(vm.parseJsonUint(digestsJson, string.concat(path, ".sourceChainId"))),
            vm.parseJsonAddress(digestsJson, string.concat(path, ".sourceOutbox")),
            vm.parseJsonAddress(digestsJson, string.concat(path, ".destInbox"))
        );
    }

    /// @dev Makes `epoch` the next epoch (vectors use epochs up to 2^32 - 1) and opens it with the
    /// lane's signers and the smallest majority threshold.
    function _openEpoch(CommitteeVerifier laneVerifier, uint32 epoch, address[] memory signers) private {
        uint256 word = uint256(vm.load(address(laneVerifier), LATEST_EPOCH_SLOT));
        word = (word & ~(uint256(type(uint32).max) << LATEST_EPOCH_SHIFT)) | (uint256(epoch - 1) << LATEST_EPOCH_SHIFT);
        vm.store(address(laneVerifier), LATEST_EPOCH_SLOT, bytes32(word));
        assertEq(laneVerifier.latestEpoch(), epoch - 1, "storage layout of CommitteeVerifier changed");
        assertEq(laneVerifier.setValidators(signers, uint8(signers.length / 2 + 1)), epoch);
    }

    function _parseMessage(string memory path)
        private
        view
        returns (Header memory header, TokenTransfer[] memory tokens, bytes memory payload)
    {
        header = Header({
            nonce: uint64(_uint(path, ".nonce")),
            sourceChainId: uint64(_uint(path, ".sourceChainId")),
            sender: vm.parseJsonAddress(messagesJson, string.concat(path, ".sender")),
            destChainId: uint64(_uint(path, ".destChainId")),
            receiver: vm.parseJsonAddress(messagesJson, string.concat(path, ".receiver")),
            finality: uint8(_uint(path, ".finality")),
            gasLimit: uint32(_uint(path, ".gasLimit"))
        });
        string memory tokensPath = string.concat(path, ".tokens");
        tokens = new TokenTransfer[](_count(messagesJson, tokensPath));
        for (uint256 j; j < tokens.length; ++j) {
            string memory tokenPath = string.concat(tokensPath, "[", vm.toString(j), "]");
            tokens[j] = TokenTransfer(
                vm.parseJsonAddress(messagesJson, string.concat(tokenPath, ".token")),
                _uint(tokenPath, ".amount"),
                uint8(_uint(tokenPath, ".mode"))
            );
        }
        payload = vm.parseJsonBytes(messagesJson, string.concat(path, ".payload"));
    }

    function _uint(string memory path, string memory key) private view returns (uint256) {
        return vm.parseJsonUint(messagesJson, string.concat(path, key));
    }

    function _expectedReason(string memory name) private pure returns (string memory) {
        bytes32 key = keccak256(bytes(name));
        if (key == keccak256("too-short")) return "shorter than the 71-byte header";
        if (key == keccak256("version-0") || key == keccak256("version-2")) return "unknown version";
        if (key == keccak256("too-many-tokens")) return "more than 8 tokens";
        if (key == keccak256("token-section-overrun")) return "token section overruns the message";
        if (key == keccak256("payload-too-large")) return "payload over 16 KiB";
        if (key == keccak256("unknown-finality")) return "unknown finality";
        if (key == keccak256("unknown-token-mode")) return "unknown token mode";
        revert VectorsUnknownInvalidCase(name);
    }

    error VectorsUnknownInvalidCase(string name);

    /// @dev Length of the JSON array at `path` (typed cheatcodes cannot size an array of objects).
    function _count(string memory json, string memory path) private view returns (uint256 n) {
        while (vm.keyExistsJson(json, string.concat(path, "[", vm.toString(n), "]"))) ++n;
    }

    function _name(string memory json, string memory path) private pure returns (string memory) {
        return vm.parseJsonString(json, string.concat(path, ".name"));
    }
}
