// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Guardable} from "../../src/guardian/Guardable.sol";
import {ITokenPool} from "../../src/messaging/interfaces/ITokenPool.sol";
import {Outbox, TokenAmount} from "../../src/messaging/Outbox.sol";
import {Header, MessageLib, TokenTransfer} from "../../src/messaging/libraries/MessageLib.sol";
import {LockReleasePool} from "../../src/messaging/pools/LockReleasePool.sol";
import {MessagingFixture} from "./MessagingFixture.sol";
import {FeeOnTransferToken} from "./mocks/FeeOnTransferToken.sol";
import {NoReturnToken} from "./mocks/NoReturnToken.sol";
import {ReturnsFalseToken} from "./mocks/ReturnsFalseToken.sol";

/// @notice Outbox.sendWithTokens: pools, misbehaving tokens and the checks on token inputs.
contract OutboxSendWithTokensTest is MessagingFixture {
    using SafeERC20 for IERC20;
    bytes internal constant PAYLOAD = "deposit";

    function setUp() public override {
        super.setUp();
        _onSource();
    }

    function test_sendWithTokens_locksInThePool() public {
        bytes memory message =
            _sendWithTokens(address(receiver), PAYLOAD, GAS_LIMIT, _tokens(address(srcLockToken), 10e18));
        assertEq(srcLockToken.balanceOf(address(srcLockPool)), 10e18);
        assertEq(srcLockToken.balanceOf(alice), SENDER_FUNDS - 10e18);
        assertEq(
            message, _expected(MessageLib.FINALITY_FINAL, _transfer(address(srcLockToken), 10e18, MessageLib.MODE_LOCK))
        );
    }

    function test_sendWithTokens_burnsThroughThePool() public {
        uint256 supply = srcBurnToken.totalSupply();
        bytes memory message =
            _sendWithTokens(address(receiver), PAYLOAD, GAS_LIMIT, _tokens(address(srcBurnToken), 5e18));
        assertEq(srcBurnToken.totalSupply(), supply - 5e18);
        assertEq(srcBurnToken.balanceOf(address(srcBurnPool)), 0);
        assertEq(
            message, _expected(MessageLib.FINALITY_FINAL, _transfer(address(srcBurnToken), 5e18, MessageLib.MODE_BURN))
        );
    }

    function test_sendWithTokens_carriesSeveralTokensInOrder() public {
        TokenAmount[] memory input = _tokens(address(srcBurnToken), 2e18, address(srcLockToken), 3e18);
        TokenTransfer[] memory expected = new TokenTransfer[](2);
        expected[0] = TokenTransfer(address(srcBurnToken), 2e18, MessageLib.MODE_BURN);
        expected[1] = TokenTransfer(address(srcLockToken), 3e18, MessageLib.MODE_LOCK);
        assertEq(
            _sendWithTokens(address(receiver), PAYLOAD, GAS_LIMIT, input),
            _expected(MessageLib.FINALITY_FINAL, expected)
        );
    }

    function test_sendWithTokens_acceptsFastFinality() public {
        vm.recordLogs();
        vm.prank(alice);
        outbox.sendWithTokens(
            DST, address(receiver), PAYLOAD, GAS_LIMIT, MessageLib.FINALITY_FAST, new TokenAmount[](0)
        );
        assertEq(_sentMessage(), _expected(MessageLib.FINALITY_FAST, new TokenTransfer[](0)));
    }

    function test_sendWithTokens_creditsWhatArrivedForFeeOnTransfer() public {
        FeeOnTransferToken token = new FeeOnTransferToken(100); // 1 %
        LockReleasePool pool = _listToken(address(token));
        token.mint(alice, 100e18);
        bytes memory message = _sendWithTokens(address(receiver), PAYLOAD, GAS_LIMIT, _tokens(address(token), 100e18));
        assertEq(token.balanceOf(address(pool)), 99e18);
        assertEq(message, _expected(MessageLib.FINALITY_FINAL, _transfer(address(token), 99e18, MessageLib.MODE_LOCK)));
    }

    function test_sendWithTokens_revertsWhen_nothingArrives() public {
        FeeOnTransferToken token = new FeeOnTransferToken(10_000); // takes everything
        _listToken(address(token));
        token.mint(alice, 1e18);
        vm.expectRevert(abi.encodeWithSelector(ITokenPool.TokenPoolNothingReceived.selector, address(token)));
        _sendTokens(address(token), 1e18);
    }

    function test_sendWithTokens_worksWithTokenWithoutReturnValue() public {
        NoReturnToken token = new NoReturnToken();
        LockReleasePool pool = _listToken(address(token));
        token.mint(alice, 7e6);
        bytes memory message = _sendWithTokens(address(receiver), PAYLOAD, GAS_LIMIT, _tokens(address(token), 7e6));
        assertEq(token.balanceOf(address(pool)), 7e6);
        assertEq(message, _expected(MessageLib.FINALITY_FINAL, _transfer(address(token), 7e6, MessageLib.MODE_LOCK)));
    }

    function test_sendWithTokens_revertsWhen_tokenReturnsFalse() public {
        ReturnsFalseToken token = new ReturnsFalseToken();
        _listToken(address(token));
        token.mint(alice, 1e18);
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, address(token)));
        _sendTokens(address(token), 1e18);
    }

    function test_sendWithTokens_revertsWhen_tooManyTokens() public {
        TokenAmount[] memory input = new TokenAmount[](MessageLib.MAX_TOKENS + 1);
        for (uint256 i; i < input.length; ++i) {
            input[i] = TokenAmount(address(srcLockToken), 1);
        }
        vm.expectRevert(
            abi.encodeWithSelector(Outbox.OutboxTooManyTokens.selector, input.length, MessageLib.MAX_TOKENS)
        );
        vm.prank(alice);
        outbox.sendWithTokens(DST, address(receiver), PAYLOAD, GAS_LIMIT, 0, input);
    }

    function test_sendWithTokens_acceptsEightTokens() public {
        TokenAmount[] memory input = new TokenAmount[](MessageLib.MAX_TOKENS);
        for (uint256 i; i < input.length; ++i) {
            input[i] = TokenAmount(address(srcLockToken), 1);
        }
        vm.prank(alice);
        outbox.sendWithTokens(DST, address(receiver), PAYLOAD, GAS_LIMIT, 0, input);
        assertEq(srcLockToken.balanceOf(address(srcLockPool)), MessageLib.MAX_TOKENS);
    }

    function test_sendWithTokens_revertsWhen_unknownFinality() public {
        vm.expectRevert(abi.encodeWithSelector(Outbox.OutboxUnknownFinality.selector, uint8(2)));
        vm.prank(alice);
        outbox.sendWithTokens(DST, address(receiver), PAYLOAD, GAS_LIMIT, 2, new TokenAmount[](0));
    }

    function test_sendWithTokens_revertsWhen_unsupportedToken() public {
        address token = address(new NoReturnToken());
        vm.expectRevert(abi.encodeWithSelector(Outbox.OutboxUnsupportedToken.selector, token));
        _sendTokens(token, 1e18);
    }

    function test_sendWithTokens_revertsWhen_zeroAmount() public {
        vm.expectRevert(abi.encodeWithSelector(Outbox.OutboxZeroAmount.selector, address(srcLockToken)));
        _sendTokens(address(srcLockToken), 0);
    }

    function test_sendWithTokens_revertsWhen_laneUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(Outbox.OutboxUnknownLane.selector, OTHER));
        vm.prank(alice);
        outbox.sendWithTokens(OTHER, address(receiver), PAYLOAD, GAS_LIMIT, 0, _tokens(address(srcLockToken), 1e18));
    }

    function test_sendWithTokens_revertsWhen_lanePaused() public {
        uint8 pauseSend = outbox.PAUSE_SEND();
        vm.prank(guardian);
        outbox.pause(DST, pauseSend);
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianPaused.selector, DST, pauseSend));
        _sendTokens(address(srcLockToken), 1e18);
        assertEq(srcLockToken.balanceOf(alice), SENDER_FUNDS, "a rejected send keeps the tokens");
    }

    /// @notice The breaker is the first check: a paused lane says so even when a token is also wrong.
    function test_sendWithTokens_revertsWhen_lanePaused_beforeAnyTokenCheck() public {
        uint8 pauseSend = outbox.PAUSE_SEND();
        vm.prank(guardian);
        outbox.pause(DST, pauseSend);
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianPaused.selector, DST, pauseSend));
        vm.prank(alice);
        outbox.sendWithTokens(DST, address(receiver), PAYLOAD, GAS_LIMIT, 0, _tokens(address(0xdead), 1e18));
    }

    function test_sendWithTokens_revertsWhen_receiverZero() public {
        vm.expectRevert(Outbox.OutboxZeroReceiver.selector);
        vm.prank(alice);
        outbox.sendWithTokens(DST, address(0), PAYLOAD, GAS_LIMIT, 0, _tokens(address(srcLockToken), 1e18));
    }

    function test_sendWithTokens_revertsWhen_payloadTooLarge() public {
        uint256 max = MessageLib.MAX_PAYLOAD_BYTES;
        vm.expectRevert(abi.encodeWithSelector(Outbox.OutboxPayloadTooLarge.selector, max + 1, max));
        vm.prank(alice);
        outbox.sendWithTokens(DST, address(receiver), new bytes(max + 1), GAS_LIMIT, 0, new TokenAmount[](0));
    }

    // ---------------------------------------------------------------- helpers

    function _sendTokens(address token, uint256 amount) private {
        vm.prank(alice);
        outbox.sendWithTokens(DST, address(receiver), PAYLOAD, GAS_LIMIT, 0, _tokens(token, amount));
    }

    /// @dev A lock/release pool for `token` on SRC, approved by alice.
    function _listToken(address token) private returns (LockReleasePool pool) {
        pool = new LockReleasePool(IERC20(token), address(outbox), address(0));
        vm.prank(owner);
        outbox.setPool(token, pool);
        vm.prank(alice);
        IERC20(token).forceApprove(address(pool), type(uint256).max); // no-return tokens too
    }

    function _transfer(address token, uint256 amount, uint8 mode) private pure returns (TokenTransfer[] memory one) {
        one = new TokenTransfer[](1);
        one[0] = TokenTransfer(token, amount, mode);
    }

    function _expected(uint8 finality, TokenTransfer[] memory tokens) private view returns (bytes memory) {
        return MessageLib.encode(Header(0, SRC, alice, DST, address(receiver), finality, GAS_LIMIT), tokens, PAYLOAD);
    }
}
