// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Credit, MarginMessages, Release} from "../../src/margin/MarginMessages.sol";
import {CollateralVault} from "../../src/margin/CollateralVault.sol";
import {Outbox} from "../../src/messaging/Outbox.sol";
import {Header, MessageLib, TokenTransfer} from "../../src/messaging/libraries/MessageLib.sol";
import {BurnMintERC20} from "../../src/tokens/BurnMintERC20.sol";
import {MessagingFixture} from "../messaging/MessagingFixture.sol";
import {MessageLibHarness} from "../messaging/utils/MessageLibHarness.sol";
import {SentMessages} from "../messaging/utils/SentMessages.sol";

/// @title CollateralVaultFixture
/// @notice A vault on a spoke, wired to the real messaging layer of MessagingFixture: the fixture's
/// SRC is the hub (its Outbox carries the engine's releases to the spoke) and DST the spoke (its
/// Inbox and CommitteeVerifier deliver them to the vault). The spoke gets an Outbox of its own with a
/// lane to the hub, for the vault's credits. The "engine" is a plain address sending through the
/// hub's Outbox: the vault only knows the engine by its address.
/// After setUp the chain id is the spoke's; alice holds collateral and has approved the vault.
abstract contract CollateralVaultFixture is MessagingFixture {
    uint64 internal constant HUB = SRC;
    uint64 internal constant SPOKE = DST;
    uint256 internal constant DEPOSIT = 100e18;
    /// @dev What the engine gives a release: the vault's handling takes well under 100k.
    uint32 internal constant RELEASE_GAS_LIMIT = 150_000;
    uint32 internal constant CREDIT_GAS_LIMIT = 400_000;

    address internal engine = makeAddr("engine");
    address internal account = makeAddr("account");
    address internal recipient = makeAddr("recipient");

    Outbox internal spokeOutbox;
    CollateralVault internal vault;
    BurnMintERC20 internal collateral;
    MessageLibHarness internal messageLib;

    function setUp() public virtual override {
        super.setUp();
        spokeOutbox = new Outbox(owner, guardian);
        vault = new CollateralVault(owner, guardian, spokeOutbox, address(inbox), HUB, engine);
        collateral = new BurnMintERC20("Wrapped Ether", "WETH", 18, owner);
        messageLib = new MessageLibHarness();

        vm.startPrank(owner);
        spokeOutbox.setLane(HUB, true);
        inbox.setReceiver(HUB, address(vault), true);
        vault.setToken(address(collateral), true);
        collateral.setMinter(owner, true);
        collateral.mint(alice, SENDER_FUNDS);
        vm.stopPrank();

        vm.prank(alice);
        collateral.approve(address(vault), type(uint256).max);
    }

    // ---------------------------------------------------------------- spoke → hub

    /// @notice alice deposits `amount` of `token` for `account`; returns the credit message sent.
    function _deposit(address token, uint256 amount) internal returns (bytes memory) {
        vm.recordLogs();
        vm.prank(alice);
        vault.deposit(token, amount, account);
        return SentMessages.last(address(spokeOutbox));
    }

    function _deposit(uint256 amount) internal returns (bytes memory) {
        return _deposit(address(collateral), amount);
    }

    /// @notice The credit message the spoke Outbox must emit for `credit` as its `nonce`-th message.
    function _expectedCreditMessage(uint64 nonce, Credit memory credit, uint32 gasLimit)
        internal
        view
        returns (bytes memory)
    {
        Header memory header = Header(nonce, SPOKE, address(vault), HUB, engine, MessageLib.FINALITY_FINAL, gasLimit);
        return messageLib.encode(header, new TokenTransfer[](0), MarginMessages.encodeCredit(credit));
    }

    /// @notice The Credit inside a message the vault sent (header checks are the caller's).
    function _creditOf(bytes memory message) internal view returns (Credit memory) {
        (,,, bytes memory payload) = messageLib.decode(message);
        return this.decodeCredit(payload);
    }

    /// @dev MarginMessages decodes calldata only.
    function decodeCredit(bytes calldata payload) external pure returns (Credit memory) {
        return MarginMessages.decodeCredit(payload);
    }

    // ---------------------------------------------------------------- hub → spoke

    function _release(address token, uint256 amount) internal view returns (Release memory) {
        return Release(account, token, amount, recipient, MarginMessages.REASON_WITHDRAW);
    }

    function _release(uint256 amount) internal view returns (Release memory) {
        return _release(address(collateral), amount);
    }

    /// @notice `from` sends `payload` to the vault through the hub's Outbox; returns the message.
    function _sendFromHub(address from, bytes memory payload) internal returns (bytes memory) {
        uint256 current = block.chainid;
        vm.chainId(HUB);
        vm.recordLogs();
        vm.prank(from);
        outbox.send(SPOKE, address(vault), payload, RELEASE_GAS_LIMIT);
        vm.chainId(current);
        return SentMessages.last(address(outbox));
    }

    /// @notice The engine orders `release`; returns the message (not yet delivered).
    function _sendRelease(Release memory release) internal returns (bytes memory) {
        return _sendFromHub(engine, MarginMessages.encodeRelease(release));
    }

    /// @notice The engine orders `release` and the Inbox verifies and delivers it.
    function _deliverRelease(Release memory release) internal returns (bytes memory message) {
        message = _sendRelease(release);
        _execute(message);
    }
}
