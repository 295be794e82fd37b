// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CommitteeVerifier} from "../../src/messaging/verifiers/CommitteeVerifier.sol";
import {MessagingFixture} from "./MessagingFixture.sol";
import {BatchTree} from "./utils/BatchTree.sol";
import {CommitteeProofs} from "./utils/CommitteeProofs.sol";

/// @notice CommitteeVerifier.verify: every rejection, explicitly, and the signed domain.
contract CommitteeVerifierVerifyTest is MessagingFixture {
    bytes internal message;
    bytes32 internal id;

    function setUp() public override {
        super.setUp();
        message = _craft(SRC, DST, address(receiver), "verify me");
        id = keccak256(message);
    }

    function test_typeAndVersion() public view {
        assertEq(verifier.typeAndVersion(), "CommitteeVerifier 1.0.0");
    }

    function test_batchDigest_isTheSpecFormula() public view {
        bytes32 typehash = keccak256(
            "IsthmusBatch(uint64 sourceChainId,address sourceOutbox,uint64 destChainId,address destInbox,uint32 epoch,bytes32 root,uint32 leafCount)"
        );
        assertEq(verifier.BATCH_TYPEHASH(), typehash);
        assertEq(verifier.batchDigest(EPOCH, id, 1), _digest(SRC, address(outbox), DST, address(inbox), id, 1));
    }

    function test_verify_acceptsAQuorumOrMore() public {
        assertTrue(verifier.verify(message, _proof(message)));
        assertTrue(verifier.verify(message, _single(_sign(EPOCH, id, 1, validatorKeys))));
    }

    function test_verify_acceptsEveryLeafOfABatch() public {
        bytes[] memory batch = _batch(5);
        bytes[] memory proofs = _batchProofs(batch);
        for (uint256 i; i < batch.length; ++i) {
            assertTrue(verifier.verify(batch[i], proofs[i]));
        }
    }

    // ---------------------------------------------------------------- the message's lane

    function test_verify_revertsWhen_wrongSource() public {
        bytes memory other = _craft(OTHER, DST, address(receiver), "x");
        bytes memory proof = _proof(other);
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierWrongSource.selector, SRC, OTHER));
        verifier.verify(other, proof);
    }

    function test_verify_revertsWhen_wrongDestination() public {
        bytes memory other = _craft(SRC, OTHER, address(receiver), "x");
        bytes memory proof = _proof(other);
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierWrongDestination.selector, DST, OTHER));
        verifier.verify(other, proof);
    }

    // ---------------------------------------------------------------- proof structure

    function test_verify_revertsWhen_proofShorterThanItsHeader() public {
        _expectMalformed(40);
        verifier.verify(message, new bytes(40));
    }

    function test_verify_revertsWhen_siblingsAreMissing() public {
        bytes memory proof = abi.encodePacked(EPOCH, uint32(4), id, uint8(2)); // announces 2, carries 0
        _expectMalformed(proof.length);
        verifier.verify(message, proof);
    }

    function test_verify_revertsWhen_signatureTruncated() public {
        bytes memory proof = _proof(message);
        assembly ("memory-safe") {
            mstore(proof, sub(mload(proof), 1))
        }
        _expectMalformed(proof.length);
        verifier.verify(message, proof);
    }

    function test_verify_revertsWhen_rootIsZero() public {
        bytes memory proof = CommitteeProofs.encode(EPOCH, 1, bytes32(0), _none(), _sign(EPOCH, 0, 1, _quorum()));
        vm.expectRevert(CommitteeVerifier.VerifierZeroRoot.selector);
        verifier.verify(message, proof);
    }

    function test_verify_revertsWhen_leafCountIsZero() public {
        bytes memory proof = CommitteeProofs.encode(EPOCH, 0, id, _none(), _sign(EPOCH, id, 0, _quorum()));
        vm.expectRevert(CommitteeVerifier.VerifierZeroLeafCount.selector);
        verifier.verify(message, proof);
    }

    function test_verify_revertsWhen_noSiblingsForABatch() public {
        bytes memory proof = CommitteeProofs.encode(EPOCH, 2, id, _none(), _sign(EPOCH, id, 2, _quorum()));
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierEmptyProof.selector, uint32(2)));
        verifier.verify(message, proof);
    }

    function test_verify_revertsWhen_moreSiblingsThanTheTreeIsDeep() public {
        bytes32[] memory siblings = new bytes32[](2);
        bytes memory proof = CommitteeProofs.encode(EPOCH, 2, id, siblings, "");
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierProofTooLong.selector, 2, 1));
        verifier.verify(message, proof);
    }

    function test_verify_revertsWhen_aBatchOfOneHasASibling() public {
        bytes memory proof = CommitteeProofs.encode(EPOCH, 1, id, new bytes32[](1), "");
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierProofTooLong.selector, 1, 0));
        verifier.verify(message, proof);
    }

    function test_verify_revertsWhen_siblingTampered() public {
        bytes[] memory batch = _batch(4);
        bytes32[] memory ids = _ids(batch);
        bytes32[] memory siblings = BatchTree.proof(ids, 1);
        siblings[0] ^= bytes32(uint256(1));
        bytes32 root = BatchTree.root(ids);
        bytes memory proof = CommitteeProofs.encode(EPOCH, 4, root, siblings, _sign(EPOCH, root, 4, _quorum()));
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierInvalidProof.selector, ids[1], root));
        verifier.verify(batch[1], proof);
    }

    function test_verify_revertsWhen_messageTampered() public {
        bytes memory proof = _proof(message);
        bytes memory tampered = bytes.concat(message);
        tampered[tampered.length - 1] = "!";
        vm.expectRevert(
            abi.encodeWithSelector(CommitteeVerifier.VerifierInvalidProof.selector, keccak256(tampered), id)
        );
        verifier.verify(tampered, proof);
    }

    // ---------------------------------------------------------------- epochs and signatures

    function test_verify_revertsWhen_epochUnknown() public {
        bytes memory proof = CommitteeProofs.encode(7, 1, id, _none(), _sign(7, id, 1, _quorum()));
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierUnknownEpoch.selector, uint32(7)));
        verifier.verify(message, proof);
    }

    function test_verify_revertsWhen_epochRetired() public {
        bytes memory proof = _proof(message);
        vm.prank(owner);
        verifier.retireEpoch(EPOCH);
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierEpochRetired.selector, EPOCH));
        verifier.verify(message, proof);
    }

    function test_verify_revertsWhen_rootNotProvenInThisTransaction() public {
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierRootNotProven.selector, id));
        verifier.verify(message, _single(""));
    }

    function test_verify_revertsWhen_belowThreshold() public {
        bytes memory signatures = _sign(EPOCH, id, 1, _keys(0, 1));
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierBelowThreshold.selector, 2, THRESHOLD));
        verifier.verify(message, _single(signatures));
    }

    function test_verify_revertsWhen_signatureMalformed() public {
        bytes memory garbage = bytes.concat(bytes32(uint256(1)), bytes32(uint256(1)), bytes1(uint8(29)));
        bytes memory signatures = bytes.concat(_signBy(0), garbage, _signBy(2));
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierBadSignature.selector, 1));
        verifier.verify(message, _single(signatures));
    }

    function test_verify_revertsWhen_signatureHasHighS() public {
        bytes memory malleated = CommitteeProofs.highS(verifier.batchDigest(EPOCH, id, 1), validatorKeys[1]);
        assertEq(
            CommitteeProofs.recover(verifier.batchDigest(EPOCH, id, 1), malleated), validators[1], "still recovers"
        );
        bytes memory signatures = bytes.concat(_signBy(0), malleated, _signBy(2));
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierBadSignature.selector, 1));
        verifier.verify(message, _single(signatures));
    }

    function test_verify_revertsWhen_signerOutsideTheSet() public {
        (address outsider, uint256 outsiderKey) = makeAddrAndKey("outsider");
        uint256[] memory keys = _keys(0, 1);
        uint256[] memory withOutsider = new uint256[](3);
        (withOutsider[0], withOutsider[1], withOutsider[2]) = (keys[0], keys[1], outsiderKey);
        CommitteeProofs.sortByAddress(withOutsider);
        uint256 position = withOutsider[0] == outsiderKey ? 0 : withOutsider[1] == outsiderKey ? 1 : 2;
        bytes memory signatures = _sign(EPOCH, id, 1, withOutsider);
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierUnknownSigner.selector, position, outsider));
        verifier.verify(message, _single(signatures));
    }

    function test_verify_revertsWhen_signersNotAscending() public {
        bytes memory signatures = bytes.concat(_signBy(1), _signBy(0), _signBy(2));
        vm.expectRevert(
            abi.encodeWithSelector(CommitteeVerifier.VerifierSignersNotAscending.selector, 1, validators[0])
        );
        verifier.verify(message, _single(signatures));
    }

    function test_verify_revertsWhen_signerDuplicated() public {
        bytes memory signatures = bytes.concat(_signBy(0), _signBy(0), _signBy(1));
        vm.expectRevert(
            abi.encodeWithSelector(CommitteeVerifier.VerifierSignersNotAscending.selector, 1, validators[0])
        );
        verifier.verify(message, _single(signatures));
    }

    // ---------------------------------------------------------------- domain separation

    function test_verify_revertsWhen_signedForAnotherInbox() public {
        _expectRejectedDigest(_digest(SRC, address(outbox), DST, makeAddr("other inbox"), id, 1));
    }

    function test_verify_revertsWhen_signedForAnotherOutbox() public {
        _expectRejectedDigest(_digest(SRC, makeAddr("other outbox"), DST, address(inbox), id, 1));
    }

    function test_verify_revertsWhen_signedForAnotherSourceChain() public {
        _expectRejectedDigest(_digest(OTHER, address(outbox), DST, address(inbox), id, 1));
    }

    function test_verify_revertsWhen_signedForAnotherDestinationChain() public {
        _expectRejectedDigest(_digest(SRC, address(outbox), OTHER, address(inbox), id, 1));
    }

    // ---------------------------------------------------------------- the transient root cache

    function test_verify_aProvenRootNeedsNoSignaturesLaterInTheTransaction() public {
        bytes[] memory batch = _batch(4);
        bytes[] memory proofs = _batchProofs(batch);
        verifier.verify(batch[0], proofs[0]);
        assertEq(proofs[3].length, 41 + 2 * 32, "siblings only");
        assertTrue(verifier.verify(batch[3], proofs[3]));
    }

    function test_verify_revertsWhen_cachedRootClaimsAnotherLeafCount() public {
        bytes[] memory batch = _batch(4);
        bytes32[] memory ids = _ids(batch);
        bytes32 root = BatchTree.root(ids);
        verifier.verify(batch[0], _batchProof(ids, 0, true));
        bytes memory proof = CommitteeProofs.encode(EPOCH, 5, root, BatchTree.proof(ids, 1), "");
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierRootNotProven.selector, root));
        verifier.verify(batch[1], proof);
    }

    /// forge-config: default.isolate = true
    function test_verify_revertsWhen_rootWasProvenInAnEarlierTransaction() public {
        bytes[] memory batch = _batch(2);
        bytes[] memory proofs = _batchProofs(batch);
        verifier.verify(batch[0], proofs[0]); // its own transaction under isolate
        vm.expectRevert(
            abi.encodeWithSelector(CommitteeVerifier.VerifierRootNotProven.selector, BatchTree.root(_ids(batch)))
        );
        verifier.verify(batch[1], proofs[1]);
    }

    // ---------------------------------------------------------------- helpers

    function _expectMalformed(uint256 length) private {
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierMalformedProof.selector, length));
    }

    /// @dev Signs `digest` (another lane's) with a quorum and expects the first signature to recover to
    /// a stranger under this lane's digest.
    function _expectRejectedDigest(bytes32 digest) private {
        bytes memory signatures = CommitteeProofs.sign(digest, _quorum());
        address recovered = _firstSignerFor(verifier, id, 1, signatures);
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierUnknownSigner.selector, 0, recovered));
        verifier.verify(message, _single(signatures));
    }

    function _digest(
        uint64 source,
        address sourceOutbox,
        uint64 dest,
        address destInbox,
        bytes32 root,
        uint32 leafCount
    ) private view returns (bytes32) {
        return keccak256(
            abi.encode(verifier.BATCH_TYPEHASH(), source, sourceOutbox, dest, destInbox, EPOCH, root, leafCount)
        );
    }

    function _single(bytes memory signatures) private view returns (bytes memory) {
        return CommitteeProofs.encode(EPOCH, 1, id, _none(), signatures);
    }

    function _signBy(uint256 validator) private view returns (bytes memory) {
        uint256[] memory one = new uint256[](1);
        one[0] = validatorKeys[validator];
        return _sign(EPOCH, id, 1, one);
    }

    function _keys(uint256 a, uint256 b) private view returns (uint256[] memory keys) {
        keys = new uint256[](2);
        (keys[0], keys[1]) = (validatorKeys[a], validatorKeys[b]);
    }

    function _batch(uint256 size) private view returns (bytes[] memory batch) {
        batch = new bytes[](size);
        for (uint256 i; i < size; ++i) {
            batch[i] = _craft(SRC, DST, address(receiver), abi.encode(i));
        }
    }

    function _none() private pure returns (bytes32[] memory) {
        return new bytes32[](0);
    }
}
