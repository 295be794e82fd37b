// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {Inbox} from "../../src/messaging/Inbox.sol";
import {Outbox, TokenAmount} from "../../src/messaging/Outbox.sol";
import {Header, MessageLib, TokenTransfer} from "../../src/messaging/libraries/MessageLib.sol";
import {BurnMintPool} from "../../src/messaging/pools/BurnMintPool.sol";
import {LockReleasePool} from "../../src/messaging/pools/LockReleasePool.sol";
import {CommitteeVerifier} from "../../src/messaging/verifiers/CommitteeVerifier.sol";
import {BurnMintERC20} from "../../src/tokens/BurnMintERC20.sol";
import {MockReceiver} from "./mocks/MockReceiver.sol";
import {BatchTree} from "./utils/BatchTree.sol";
import {CommitteeProofs} from "./utils/CommitteeProofs.sol";
import {MessageReader} from "./utils/MessageReader.sol";
import {SentMessages} from "./utils/SentMessages.sol";

/// @title MessagingFixture
/// @notice One lane SRC → DST on a single EVM: the Outbox "lives" on SRC and the Inbox with its
/// CommitteeVerifier on DST; `vm.chainId` switches between them because the Outbox stamps
/// block.chainid as the source and the Inbox/verifier require destChainId == block.chainid.
/// After setUp the chain id is DST; `_send*` switch to SRC and back to whichever chain was current.
/// Tokens: a lock/release pair (srcLock* → dstLock*, the DST pool pre-funded) and a burn/mint pair.
abstract contract MessagingFixture is Test {
    using MessageReader for bytes;

    uint64 internal constant SRC = 31_001;
    uint64 internal constant DST = 31_002;
    /// @dev A third chain with no lane anywhere.
    uint64 internal constant OTHER = 31_003;
    uint32 internal constant EPOCH = 1;
    uint8 internal constant THRESHOLD = 3;
    uint256 internal constant COMMITTEE_SIZE = 5;
    /// @dev Enough for MockReceiver to record a delivery in fresh storage slots.
    uint32 internal constant GAS_LIMIT = 500_000;
    uint256 internal constant SENDER_FUNDS = 1_000_000e18;
    uint256 internal constant DST_LIQUIDITY = 1_000_000e18;

    address internal owner = makeAddr("owner");
    address internal guardian = makeAddr("guardian");
    address internal alice = makeAddr("alice");
    address internal stranger = makeAddr("stranger");

    Outbox internal outbox;
    Inbox internal inbox;
    CommitteeVerifier internal verifier;
    MockReceiver internal receiver;

    BurnMintERC20 internal srcLockToken;
    BurnMintERC20 internal dstLockToken;
    BurnMintERC20 internal srcBurnToken;
    BurnMintERC20 internal dstBurnToken;
    LockReleasePool internal srcLockPool;
    LockReleasePool internal dstLockPool;
    BurnMintPool internal srcBurnPool;
    BurnMintPool internal dstBurnPool;

    /// @dev The epoch-1 committee, sorted by address.
    uint256[] internal validatorKeys;
    address[] internal validators;

    function setUp() public virtual {
        vm.chainId(DST);
        outbox = new Outbox(owner, guardian);
        inbox = new Inbox(owner, guardian);
        verifier = new CommitteeVerifier(owner, SRC, address(outbox), address(inbox));
        receiver = new MockReceiver();

        validatorKeys = _committeeKeys("validator", COMMITTEE_SIZE);
        validators = CommitteeProofs.addresses(validatorKeys);

        vm.startPrank(owner);
        verifier.setValidators(validators, THRESHOLD);
        outbox.setLane(DST, true);
        inbox.setLane(SRC, verifier);
        inbox.setReceiver(SRC, address(receiver), true);
        vm.stopPrank();

        _deployTokens();
    }

    // ---------------------------------------------------------------- chains

    function _onSource() internal {
        vm.chainId(SRC);
    }

    function _onDest() internal {
        vm.chainId(DST);
    }

    // ---------------------------------------------------------------- sending

    /// @notice Sends from alice on SRC and returns the `message` of the MessageSent event.
    function _send(address to, bytes memory payload, uint32 gasLimit) internal returns (bytes memory) {
        uint256 current = block.chainid;
        _onSource();
        vm.recordLogs();
        vm.prank(alice);
        outbox.send(DST, to, payload, gasLimit);
        vm.chainId(current);
        return _sentMessage();
    }

    function _send(bytes memory payload) internal returns (bytes memory) {
        return _send(address(receiver), payload, GAS_LIMIT);
    }

    function _sendWithTokens(address to, bytes memory payload, uint32 gasLimit, TokenAmount[] memory tokens)
        internal
        returns (bytes memory)
    {
        uint256 current = block.chainid;
        _onSource();
        vm.recordLogs();
        vm.prank(alice);
        outbox.sendWithTokens(DST, to, payload, gasLimit, MessageLib.FINALITY_FINAL, tokens);
        vm.chainId(current);
        return _sentMessage();
    }

    /// @notice Sends `count` messages to the mock receiver, each with a distinct payload.
    function _sendMany(uint256 count) internal returns (bytes[] memory messages) {
        messages = new bytes[](count);
        for (uint256 i; i < count; ++i) {
            messages[i] = _send(abi.encode("message", i));
        }
    }

    /// @notice The `message` of the last MessageSent among the logs recorded since vm.recordLogs.
    function _sentMessage() internal returns (bytes memory) {
        return SentMessages.last(address(outbox));
    }

    function _tokens(address token, uint256 amount) internal pure returns (TokenAmount[] memory tokens) {
        tokens = new TokenAmount[](1);
        tokens[0] = TokenAmount(token, amount);
    }

    function _tokens(address tokenA, uint256 amountA, address tokenB, uint256 amountB)
        internal
        pure
        returns (TokenAmount[] memory tokens)
    {
        tokens = new TokenAmount[](2);
        tokens[0] = TokenAmount(tokenA, amountA);
        tokens[1] = TokenAmount(tokenB, amountB);
    }

    /// @notice A message built by hand (not sent), for inputs an Outbox would never produce. The test
    /// committee signs whatever it is shown, so crafted messages get valid proofs too.
    function _craft(uint64 source, uint64 dest, address to, bytes memory payload) internal view returns (bytes memory) {
        return MessageLib.encode(Header(0, source, alice, dest, to, 0, GAS_LIMIT), _noTokens(), payload);
    }

    function _craft(TokenTransfer[] memory tokens, bytes memory payload) internal view returns (bytes memory) {
        return MessageLib.encode(Header(0, SRC, alice, DST, address(receiver), 0, GAS_LIMIT), tokens, payload);
    }

    function _noTokens() internal pure returns (TokenTransfer[] memory) {
        return new TokenTransfer[](0);
    }

    // ---------------------------------------------------------------- proofs

    /// @notice The first THRESHOLD validators of epoch 1, ascending by address.
    function _quorum() internal view returns (uint256[] memory keys) {
        keys = new uint256[](THRESHOLD);
        for (uint256 i; i < THRESHOLD; ++i) {
            keys[i] = validatorKeys[i];
        }
    }

    /// @notice Signatures of `keys` (in that order) over this lane's batch digest.
    function _sign(uint32 epoch, bytes32 root, uint32 leafCount, uint256[] memory keys)
        internal
        view
        returns (bytes memory)
    {
        return CommitteeProofs.sign(verifier.batchDigest(epoch, root, leafCount), keys);
    }

    /// @notice A batch of one, signed by a quorum: the plain committee proof.
    function _proof(bytes memory message) internal view returns (bytes memory) {
        bytes32 id = keccak256(message);
        return CommitteeProofs.encode(EPOCH, 1, id, new bytes32[](0), _sign(EPOCH, id, 1, _quorum()));
    }

    function _ids(bytes[] memory messages) internal pure returns (bytes32[] memory ids) {
        ids = new bytes32[](messages.length);
        for (uint256 i; i < messages.length; ++i) {
            ids[i] = keccak256(messages[i]);
        }
    }

    /// @notice Proofs for `messages` as one batch; only the first proof carries the signatures.
    function _batchProofs(bytes[] memory messages) internal view returns (bytes[] memory proofs) {
        bytes32[] memory ids = _ids(messages);
        proofs = new bytes[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            proofs[i] = _batchProof(ids, i, i == 0);
        }
    }

    /// @notice The inclusion proof of leaf `index` in the batch `ids`, with a quorum's signatures if `signed`.
    function _batchProof(bytes32[] memory ids, uint256 index, bool signed) internal view returns (bytes memory) {
        bytes32 root = BatchTree.root(ids);
        uint32 leafCount = uint32(ids.length);
        bytes memory signatures = signed ? _sign(EPOCH, root, leafCount, _quorum()) : bytes("");
        return CommitteeProofs.encode(EPOCH, leafCount, root, BatchTree.proof(ids, index), signatures);
    }

    /// @notice Who the first signature in `signatures` recovers to under `other`'s digest: the signer a
    /// verifier reports when it is shown a signature made for another lane.
    function _firstSignerFor(CommitteeVerifier other, bytes32 root, uint32 leafCount, bytes memory signatures)
        internal
        view
        returns (address)
    {
        bytes memory first = new bytes(65);
        for (uint256 i; i < 65; ++i) {
            first[i] = signatures[i];
        }
        return CommitteeProofs.recover(other.batchDigest(EPOCH, root, leafCount), first);
    }

    // ---------------------------------------------------------------- executing

    function _execute(bytes memory message) internal {
        inbox.execute(message, _proof(message));
    }

    function _state(bytes memory message) internal view returns (Inbox.ExecutionState) {
        return inbox.executionState(message.sourceChainId(), message.nonce());
    }

    function _assertState(bytes memory message, Inbox.ExecutionState expected) internal view {
        assertEq(uint8(_state(message)), uint8(expected), "execution state");
    }

    /// @notice Expects the Inbox to record `state` for `message` with exactly `returnData`.
    function _expectStateChanged(bytes memory message, Inbox.ExecutionState state, bytes memory returnData) internal {
        vm.expectEmit(address(inbox));
        emit Inbox.ExecutionStateChanged(SRC, message.nonce(), keccak256(message), state, returnData);
    }

    // ---------------------------------------------------------------- setup pieces

    function _committeeKeys(string memory label, uint256 size) internal returns (uint256[] memory keys) {
        keys = new uint256[](size);
        for (uint256 i; i < size; ++i) {
            (, keys[i]) = makeAddrAndKey(string.concat(label, "-", vm.toString(i)));
        }
        CommitteeProofs.sortByAddress(keys);
    }

    function _deployTokens() private {
        srcLockToken = new BurnMintERC20("Locked on SRC", "sLCK", 18, owner);
        dstLockToken = new BurnMintERC20("Released on DST", "dLCK", 18, owner);
        srcBurnToken = new BurnMintERC20("Burned on SRC", "sBRN", 18, owner);
        dstBurnToken = new BurnMintERC20("Minted on DST", "dBRN", 18, owner);
        srcLockPool = new LockReleasePool(srcLockToken, address(outbox), address(0));
        dstLockPool = new LockReleasePool(dstLockToken, address(0), address(inbox));
        srcBurnPool = new BurnMintPool(srcBurnToken, address(outbox), address(0));
        dstBurnPool = new BurnMintPool(dstBurnToken, address(0), address(inbox));

        vm.startPrank(owner);
        srcLockToken.setMinter(owner, true);
        dstLockToken.setMinter(owner, true);
        srcBurnToken.setMinter(owner, true);
        dstBurnToken.setMinter(address(dstBurnPool), true);
        srcLockToken.mint(alice, SENDER_FUNDS);
        srcBurnToken.mint(alice, SENDER_FUNDS);
        dstLockToken.mint(address(dstLockPool), DST_LIQUIDITY);
        outbox.setPool(address(srcLockToken), srcLockPool);
        outbox.setPool(address(srcBurnToken), srcBurnPool);
        inbox.setPool(SRC, address(srcLockToken), dstLockPool);
        inbox.setPool(SRC, address(srcBurnToken), dstBurnPool);
        vm.stopPrank();

        vm.startPrank(alice);
        srcLockToken.approve(address(srcLockPool), type(uint256).max);
        srcBurnToken.approve(address(srcBurnPool), type(uint256).max);
        vm.stopPrank();
    }
}
