// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Vm} from "forge-std/Vm.sol";
import {FixedPointMathLib as M} from "solady/utils/FixedPointMathLib.sol";
import {CollateralVault} from "../../../src/margin/CollateralVault.sol";
import {AssetParams, Health, MarginEngine, PositionView} from "../../../src/margin/MarginEngine.sol";
import {Credit, MarginMessages, Release} from "../../../src/margin/MarginMessages.sol";
import {Delivery, DeliveredToken} from "../../../src/messaging/interfaces/IMessageReceiver.sol";
import {Header} from "../../../src/messaging/libraries/MessageLib.sol";
import {Outbox} from "../../../src/messaging/Outbox.sol";
import {BurnMintERC20} from "../../../src/tokens/BurnMintERC20.sol";
import {MessageLibHarness} from "../../messaging/utils/MessageLibHarness.sol";
import {MockAggregator} from "../mocks/MockAggregator.sol";

/// @notice One (spoke, token) pair: the vault that locks the token and the hub asset it counts as.
struct Pair {
    uint64 chainId;
    CollateralVault vault;
    /// @dev The spoke's Outbox: the vault's credits leave through it.
    Outbox outbox;
    /// @dev The spoke's Inbox as the vault knows it: the handler plays it.
    address inbox;
    BurnMintERC20 token;
    MockAggregator feed;
    uint16 assetId;
    /// @dev The largest single deposit the handler makes.
    uint256 maxDeposit;
}

/// @notice The hub: the engine, its Outbox (releases, USDC deliveries), its Inbox (played by the handler).
struct Hub {
    MarginEngine engine;
    Outbox outbox;
    address inbox;
    BurnMintERC20 usdc;
    uint64 chainId;
}

/// @notice What the handler knows of each (spoke, token) pair, from the messages it carried and the
/// engine's position changes it observed. Amounts in the token's units, cumulative unless "in flight".
struct PairGhost {
    /// @dev Locked by deposits on the spoke (the vault's balance delta).
    uint256 deposited;
    /// @dev Credits sent by the vault, not yet taken or refused by the hub.
    uint256 creditsInFlight;
    /// @dev Credits the hub took (its positions grew by exactly this).
    uint256 credited;
    /// @dev Credits the hub refused and ordered refunded.
    uint256 refused;
    /// @dev Hub debits: withdrawals and seizures (its positions shrank by exactly this).
    uint256 debited;
    /// @dev Releases the hub sent (withdraw, seize, refund), not yet paid by the vault.
    uint256 releasesInFlight;
    /// @dev Paid by the vault for withdrawals and seizures.
    uint256 releasedForDebits;
    /// @dev Paid by the vault as refunds of refused credits.
    uint256 releasedRefunds;
}

/// @notice Calldata decoders for the margin payloads (MarginMessages reads calldata only).
contract MarginCodec {
    function credit(bytes calldata payload) external pure returns (Credit memory) {
        return MarginMessages.decodeCredit(payload);
    }

    function release(bytes calldata payload) external pure returns (Release memory) {
        return MarginMessages.decodeRelease(payload);
    }
}

/// @notice Drives the margin system with random operation sequences: deposits on spokes, credits
/// delivered to the hub (in order or overtaken, arbitrarily late), borrows, repayments, withdrawals,
/// liquidations, releases delivered to the spokes, price moves and stale prices, time.
/// @dev The handler plays the hub's Inbox and every spoke's Inbox: it reads each message from the
/// Outbox's MessageSent event and hands the receiver the Delivery the Inbox would, with the message's
/// gas limit. Verification, replay protection and retries are the messaging layer's (its own invariant
/// suite, contracts/test/messaging/invariants); here it is the margin accounting that is under test.
/// Handler functions never revert on a violation (fail_on_revert is off, so a revert would be
/// swallowed): each violation is recorded, and the invariant test asserts there is none.
contract MarginHandler is CommonBase, StdUtils {
    uint256 internal constant WAD = 1e18;
    /// @dev 10^(18 − 6): USDC units to USD WAD.
    uint256 internal constant USDC_SCALE = 1e12;
    /// @dev Slack for predicting the engine's health checks from outside (USD WAD): two USDC units
    /// of debt rounding, far above the few wei of collateral rounding.
    uint256 internal constant TOLERANCE = 2e12;
    bytes32 internal constant MESSAGE_SENT = keccak256("MessageSent(bytes32,uint64,uint64,uint256,bytes)");

    /// @notice A message the handler carries: a credit to the hub or a release to a spoke.
    struct InFlight {
        bytes message;
        uint8 pair;
        address account;
        uint256 amount;
        bool delivered;
    }

    /// @dev Before-and-after readings of a liquidation, kept together for the stack's sake.
    struct LiquidationCheck {
        address account;
        address liquidator;
        uint256 pair;
        uint256 repay;
        uint256 held;
        uint256 debt;
        uint256 liquidatorUsdc;
        Health before;
    }

    Hub private _hub;
    Pair[] private _pairs;
    address[] private _actors;
    MockAggregator[] private _feeds;
    int256[] private _initialPrices;
    MessageLibHarness private immutable _messageLib;
    MarginCodec private immutable _codec;

    InFlight[] private _credits;
    InFlight[] private _releases;
    uint256 private _creditHead;
    uint256 private _releaseHead;
    uint256 public pendingCredits;
    uint256 public pendingReleases;

    mapping(uint256 pair => PairGhost) private _ghosts;
    mapping(address account => mapping(uint256 pair => uint256)) public debitedOf;
    mapping(address account => mapping(uint256 pair => uint256)) public releasedOf;
    mapping(address account => mapping(uint256 pair => uint256)) public refusedOf;
    mapping(address account => mapping(uint256 pair => uint256)) public refundedOf;

    /// @notice Successful calls per action (and a few outcomes worth counting), by name.
    mapping(string action => uint256) public successes;

    /// @notice Why the last refused liquidation was refused (for failure messages).
    bytes public lastLiquidationRefusal;

    /// @notice The first violation seen, and how many there were.
    string public violation;
    uint256 public violationCount;

    constructor(
        Hub memory hub,
        Pair[] memory pairs,
        address[] memory actors_,
        MockAggregator[] memory feeds,
        MessageLibHarness messageLib
    ) {
        _hub = hub;
        for (uint256 i; i < pairs.length; ++i) {
            _pairs.push(pairs[i]);
        }
        _actors = actors_;
        for (uint256 i; i < feeds.length; ++i) {
            _feeds.push(feeds[i]);
            (, int256 price,,,) = feeds[i].latestRoundData();
            _initialPrices.push(price);
        }
        _messageLib = messageLib;
        _codec = new MarginCodec();
        for (uint256 a; a < actors_.length; ++a) {
            vm.startPrank(actors_[a]);
            hub.usdc.approve(address(hub.engine), type(uint256).max);
            for (uint256 i; i < pairs.length; ++i) {
                pairs[i].token.approve(address(pairs[i].vault), type(uint256).max);
            }
            vm.stopPrank();
        }
    }

    // ---------------------------------------------------------------- actions: spoke → hub

    /// @notice An actor locks collateral on a spoke (1 in 8 for another actor's account; 1 in 4 a
    /// deposit-and-borrow, half of those delivered on the spoke); the credit goes in flight.
    function deposit(uint256 actorSeed, uint256 pairSeed, uint256 amount, uint256 borrowSeed) external {
        address depositor = _actor(actorSeed);
        address account = _beneficiary(actorSeed, depositor);
        uint256 p = pairSeed % _pairs.length;
        Pair memory pair = _pairs[p];
        amount = bound(amount, 1, pair.maxDeposit);
        uint256 borrowAmount = borrowSeed % 4 == 0 ? bound(borrowSeed >> 8, 1, _usdcValue(pair, amount) + 1) : 0;
        uint64 borrowChain = borrowSeed % 8 == 0 ? pair.chainId : 0;

        vm.chainId(pair.chainId);
        pair.token.mint(depositor, amount);
        uint256 lockedBefore = pair.vault.locked(address(pair.token));
        vm.recordLogs();
        if (!_lock(pair, depositor, amount, account, borrowAmount, borrowChain)) return;
        bytes memory message = _onlySent(vm.getRecordedLogs(), address(pair.outbox));
        if (message.length == 0) return;
        (, Header memory header,, bytes memory payload) = _messageLib.decode(message);
        Credit memory credit = _codec.credit(payload);
        if (
            header.destChainId != _hub.chainId || header.receiver != address(_hub.engine) || credit.account != account
                || credit.token != address(pair.token) || credit.amount != amount
                || credit.borrowAmount != borrowAmount
        ) _fail("deposit: the credit does not say what was deposited");
        if (pair.vault.locked(address(pair.token)) != lockedBefore + amount) _fail("deposit: locked != before + amount");

        _credits.push(InFlight(message, uint8(p), account, amount, false));
        ++pendingCredits;
        _ghosts[p].deposited += amount;
        _ghosts[p].creditsInFlight += amount;
        ++successes["deposit"];
    }

    /// @notice Delivers a credit to the hub as its Inbox would: the oldest (3 in 4) or one that
    /// overtakes older ones; what is not picked stays in flight, arbitrarily long.
    function deliverCredit(uint256 seed) external {
        (bool found, uint256 index) = _pick(_credits, _creditHead, pendingCredits, seed);
        if (!found) return;
        _deliverCredit(index);
        while (_creditHead < _credits.length && _credits[_creditHead].delivered) ++_creditHead;
    }

    // ---------------------------------------------------------------- actions: the hub

    /// @notice Borrows around the edge of the actor's borrowing power (exactly at it, just past it, two
    /// units under it, or anywhere up to 1/8 past it), on the hub or delivered to a spoke.
    /// @dev Invariant 4: a borrow that succeeds leaves borrowing power ≥ debt; one refused for
    /// collateral was indeed past the borrowing power.
    function borrow(uint256 actorSeed, uint256 amount, uint256 mode) external {
        address actor = _actor(actorSeed);
        vm.chainId(_hub.chainId);
        Health memory before = _hub.engine.healthOf(actor);
        uint256 headroom =
            before.borrowPowerUsd > before.debtUsd ? (before.borrowPowerUsd - before.debtUsd) / USDC_SCALE : 0;
        if (mode % 4 == 0) amount = headroom == 0 ? 1 : headroom;
        else if (mode % 4 == 1) amount = headroom + bound(amount, 1, 3);
        else if (mode % 4 == 2) amount = headroom > 2 ? headroom - 2 : 1;
        else amount = bound(amount, 1, headroom + headroom / 8 + 1);
        uint64 chainId = (mode >> 2) % 4 == 0 ? _pairs[(mode >> 4) % _pairs.length].chainId : _hub.chainId;

        vm.recordLogs();
        vm.prank(actor);
        try _hub.engine.borrow(amount, chainId, actor) {
            Health memory afterwards = _hub.engine.healthOf(actor);
            if (afterwards.borrowPowerUsd < afterwards.debtUsd) _fail("inv4: a borrow left borrowing power below debt");
            if (afterwards.borrowHf < WAD) _fail("inv4: borrowHf < 1 after a borrow");
            if (afterwards.debtUsd + TOLERANCE < before.debtUsd + amount * USDC_SCALE) {
                _fail("borrow: debt grew by less than the amount");
            }
            _noReleaseSent(vm.getRecordedLogs());
            ++successes[chainId == _hub.chainId ? "borrow" : "borrowToSpoke"];
        } catch (bytes memory reason) {
            if (bytes4(reason) == MarginEngine.EngineInsufficientCollateral.selector) {
                if (before.debtUsd + amount * USDC_SCALE + TOLERANCE <= before.borrowPowerUsd) {
                    _fail("inv4: a borrow within borrowing power was refused");
                }
                ++successes["borrowRefused"];
            } else if (bytes4(reason) != MarginEngine.EngineInsufficientLiquidity.selector) {
                _fail(string.concat("borrow: unexpected revert ", vm.toString(reason)));
            }
        }
    }

    /// @notice Repays part or all of an account's debt (up to 1/4 more is offered), from the account or
    /// another actor.
    function repay(uint256 actorSeed, uint256 payerSeed, uint256 amount) external {
        address account = _actor(actorSeed);
        address payer = payerSeed % 2 == 0 ? account : _actor(payerSeed >> 1);
        vm.chainId(_hub.chainId);
        uint256 debt = _hub.engine.debtOf(account);
        if (debt == 0) return;
        _repay(account, payer, bound(amount, 1, debt + debt / 4));
    }

    /// @notice Withdraws part or all of a position; the hub debits, and the release goes in flight.
    function withdraw(uint256 actorSeed, uint256 pairSeed, uint256 amount) external {
        address actor = _actor(actorSeed);
        uint256 p = pairSeed % _pairs.length;
        vm.chainId(_hub.chainId);
        uint256 held = _held(actor, p);
        if (held == 0) return;
        _withdraw(actor, p, amount % 4 == 0 ? held : bound(amount, 1, held));
    }

    /// @notice A liquidator repays part or all of an account's debt and seizes one of its positions.
    /// @dev Invariant 5: only when LHF < 1, never lowering LHF; refused as healthy only when LHF ≥ 1.
    /// Invariant 3 (first half): the seize release is exactly the debit.
    function liquidate(uint256 accountSeed, uint256 liquidatorSeed, uint256 pairSeed, uint256 repaySeed) external {
        // Half the time the least healthy account, as a keeper would pick; otherwise any.
        address account = accountSeed % 2 == 0 ? _leastHealthy() : _actor(accountSeed >> 1);
        vm.chainId(_hub.chainId);
        uint256 debt = _hub.engine.debtOf(account);
        if (debt == 0) return;
        uint256 amount = repaySeed % 4 == 0 ? debt : bound(repaySeed, 1, debt);
        _liquidate(account, _actor(liquidatorSeed), _heldPair(account, pairSeed), amount);
    }

    // ---------------------------------------------------------------- actions: hub → spoke

    /// @notice Delivers a release to its spoke as the spoke's Inbox would: the oldest (3 in 4) or one
    /// that overtakes older ones.
    function deliverRelease(uint256 seed) external {
        (bool found, uint256 index) = _pick(_releases, _releaseHead, pendingReleases, seed);
        if (!found) return;
        _deliverRelease(index);
        while (_releaseHead < _releases.length && _releases[_releaseHead].delivered) ++_releaseHead;
    }

    /// @notice A release that does not come from the engine on the hub (another sender, or the engine's
    /// address on another chain) is refused and pays nothing.
    function forgeRelease(uint256 pairSeed, uint256 senderSeed, uint256 amount) external {
        Pair memory pair = _pairs[pairSeed % _pairs.length];
        bool wrongChain = senderSeed % 2 == 0;
        address sender = wrongChain ? address(_hub.engine) : _actor(senderSeed >> 1);
        uint64 source = wrongChain ? pair.chainId : _hub.chainId;
        uint256 locked = pair.vault.locked(address(pair.token));
        amount = bound(amount, 1, locked + 1);
        Release memory release = Release(sender, address(pair.token), amount, sender, MarginMessages.REASON_WITHDRAW);
        Delivery memory delivery = Delivery(
            keccak256(abi.encode("forged", senderSeed, amount)),
            source,
            sender,
            new DeliveredToken[](0),
            MarginMessages.encodeRelease(release)
        );
        vm.chainId(pair.chainId);
        vm.prank(pair.inbox);
        try pair.vault.receiveMessage(delivery) {
            _fail("inv3: the vault paid a release that is not the engine's");
        } catch (bytes memory reason) {
            if (bytes4(reason) != CollateralVault.VaultUnknownSender.selector) _fail("forged release: unexpected revert");
            if (pair.vault.locked(address(pair.token)) != locked) _fail("forged release: locked changed");
            ++successes["forgeRelease"];
        }
    }

    // ---------------------------------------------------------------- actions: the world

    /// @notice Moves one asset's price by up to ±30% (kept within 1/10 and 10 times its start), fresh
    /// 7 in 8 times, else up to two days old.
    function movePrice(uint256 feedSeed, uint256 bps, uint256 ageSeed) external {
        uint256 f = feedSeed % _feeds.length;
        (, int256 price,,,) = _feeds[f].latestRoundData();
        int256 moved = price * (10_000 + bound(int256(bps), -3000, 3000)) / 10_000;
        int256 floor = _initialPrices[f] / 10;
        int256 ceiling = _initialPrices[f] * 10;
        moved = moved < floor ? floor : moved > ceiling ? ceiling : moved;
        uint256 age = ageSeed % 8 == 0 ? bound(ageSeed >> 3, 0, 2 days) : 0;
        _feeds[f].set(moved, block.timestamp - M.min(age, block.timestamp));
        ++successes["movePrice"];
    }

    /// @notice Time passes: up to 10 minutes (prices stay fresh for heartbeat + grace = 70 minutes),
    /// 1 in 16 times from one hour to three days (prices go stale, interest accrues).
    function warp(uint256 seconds_) external {
        uint256 step = seconds_ % 16 == 0 ? bound(seconds_ >> 4, 1 hours, 3 days) : bound(seconds_ >> 4, 1, 10 minutes);
        vm.warp(block.timestamp + step);
        ++successes["warp"];
    }

    // ---------------------------------------------------------------- end-of-run helpers (not targeted)

    /// @notice Every price falls by `bps` (fresh), then every account below LHF 1 is liquidated, on each
    /// position in turn while it stays below: invariant 5 on the run's final state. The liquidator
    /// offers the whole debt, and halves its offer (up to six times) while the engine refuses it with
    /// EngineLiquidationLowersHealth (as it does for an offer that would take the whole position of an
    /// account whose bonus is capped: see MarginEngineFindings.t.sol).
    /// @return candidates Accounts below LHF 1 after the fall.
    /// @return liquidations Liquidations that went through.
    function crashAndLiquidate(uint256 bps) external returns (uint256 candidates, uint256 liquidations) {
        for (uint256 f; f < _feeds.length; ++f) {
            (, int256 price,,,) = _feeds[f].latestRoundData();
            _feeds[f].set(price * int256(10_000 - bps) / 10_000, block.timestamp);
        }
        vm.chainId(_hub.chainId);
        for (uint256 a; a < _actors.length; ++a) {
            address account = _actors[a];
            if (_hub.engine.healthOf(account).lhf >= WAD) continue;
            ++candidates;
            for (uint256 p; p < _pairs.length; ++p) {
                uint256 offer = _hub.engine.debtOf(account);
                for (uint256 attempt; attempt < 7 && offer != 0; ++attempt) {
                    if (_hub.engine.healthOf(account).lhf >= WAD) break;
                    if (_liquidate(account, _actors[(a + 1) % _actors.length], p, offer)) {
                        ++liquidations;
                        break;
                    }
                    if (bytes4(lastLiquidationRefusal) != MarginEngine.EngineLiquidationLowersHealth.selector) break;
                    offer /= 2;
                }
            }
        }
    }

    /// @notice Delivers every message in flight, credits first (a refused one adds a release), then
    /// releases.
    function drain() public {
        for (uint256 i = _creditHead; i < _credits.length; ++i) {
            if (!_credits[i].delivered) _deliverCredit(i);
        }
        while (_creditHead < _credits.length && _credits[_creditHead].delivered) ++_creditHead;
        for (uint256 i = _releaseHead; i < _releases.length; ++i) {
            if (!_releases[i].delivered) _deliverRelease(i);
        }
        while (_releaseHead < _releases.length && _releases[_releaseHead].delivered) ++_releaseHead;
    }

    /// @notice The end of a run, made to carry risk whatever the run did: prices fresh again, every
    /// message delivered, every actor deposits `amount` of the first pair and borrows to just under its
    /// borrowing power (through the same checked actions).
    function settle(uint256 amount) external {
        for (uint256 f; f < _feeds.length; ++f) {
            (, int256 price,,,) = _feeds[f].latestRoundData();
            _feeds[f].set(price, block.timestamp);
        }
        for (uint256 a; a < _actors.length; ++a) {
            this.deposit(a, 0, amount, 1);
        }
        drain();
        for (uint256 a; a < _actors.length; ++a) {
            // Mode 6: two units under the headroom, on the hub.
            this.borrow(a, 0, 6);
        }
    }

    /// @notice Every account repays its whole debt and withdraws every position (through the same
    /// checked paths as the actions): once the releases are delivered, every vault must be empty.
    function unwind() external {
        for (uint256 a; a < _actors.length; ++a) {
            address account = _actors[a];
            vm.chainId(_hub.chainId);
            uint256 debt = _hub.engine.debtOf(account);
            if (debt != 0) _repay(account, account, debt);
            for (uint256 p; p < _pairs.length; ++p) {
                uint256 held = _held(account, p);
                if (held != 0) _withdraw(account, p, held);
            }
        }
    }

    // ---------------------------------------------------------------- views for the invariants

    function ghost(uint256 p) external view returns (PairGhost memory) {
        return _ghosts[p];
    }

    function pairCount() external view returns (uint256) {
        return _pairs.length;
    }

    function pairAt(uint256 p) external view returns (Pair memory) {
        return _pairs[p];
    }

    /// @notice What the hub holds for the pair: the sum of every account's position.
    function hubCredits(uint256 p) public view returns (uint256 total) {
        for (uint256 a; a < _actors.length; ++a) {
            total += _held(_actors[a], p);
        }
    }

    // ---------------------------------------------------------------- internals: deliveries

    function _deliverCredit(uint256 index) private {
        InFlight memory credit = _credits[index];
        Pair memory pair = _pairs[credit.pair];
        (, Header memory header,, bytes memory payload) = _messageLib.decode(credit.message);
        Credit memory decoded = _codec.credit(payload);
        vm.chainId(_hub.chainId);
        uint256 held = _held(credit.account, credit.pair);
        uint256 debt = _hub.engine.debtOf(credit.account);

        vm.recordLogs();
        vm.prank(_hub.inbox);
        try _hub.engine.receiveMessage{gas: header.gasLimit}(_delivery(credit.message, header, payload)) {}
        catch (bytes memory reason) {
            // Out of gas: the Inbox keeps the message for a retry with more; it stays in flight.
            if (bytes4(reason) == MarginEngine.EngineOutOfGas.selector) ++successes["creditOutOfGas"];
            else _fail(string.concat("credit delivery reverted: ", vm.toString(reason)));
            return;
        }
        Vm.Log[] memory logs = vm.getRecordedLogs();
        _credits[index].delivered = true;
        --pendingCredits;
        PairGhost storage g = _ghosts[credit.pair];
        g.creditsInFlight -= credit.amount;

        if (_emitted(logs, address(_hub.engine), MarginEngine.Credited.selector)) {
            if (_held(credit.account, credit.pair) != held + credit.amount) {
                _fail("credit: the position did not grow by the amount");
            }
            g.credited += credit.amount;
            ++successes["deliverCredit"];
            if (decoded.borrowAmount != 0) _checkBorrowInstruction(credit.account, debt, logs);
        } else {
            // Refused: the whole amount goes back to the account on its chain, and nothing was credited.
            if (_held(credit.account, credit.pair) != held) _fail("refused credit: the position changed");
            g.refused += credit.amount;
            refusedOf[credit.account][credit.pair] += credit.amount;
            _takeRelease(
                logs,
                credit.pair,
                Release(
                    credit.account, address(pair.token), credit.amount, credit.account, MarginMessages.REASON_REFUND
                )
            );
            ++successes["creditRefused"];
        }
    }

    /// @dev Invariant 4 for deposit-and-borrow: if the instruction borrowed, borrowing power ≥ debt.
    function _checkBorrowInstruction(address account, uint256 debtBefore, Vm.Log[] memory logs) private {
        if (_emitted(logs, address(_hub.engine), MarginEngine.InstructionFailed.selector)) {
            ++successes["borrowInstructionFailed"];
            return;
        }
        Health memory afterwards = _hub.engine.healthOf(account);
        if (afterwards.borrowPowerUsd < afterwards.debtUsd) _fail("inv4: deposit-and-borrow left power below debt");
        if (_hub.engine.debtOf(account) <= debtBefore) _fail("deposit-and-borrow: no failure reported, no debt added");
        ++successes["borrowInstruction"];
    }

    /// @dev Invariant 3 (second half): the vault pays exactly what the release says, and an account's
    /// releases never exceed the hub's debits of it (refunds: its refused credits) so far.
    function _deliverRelease(uint256 index) private {
        InFlight memory release = _releases[index];
        Pair memory pair = _pairs[release.pair];
        (, Header memory header,, bytes memory payload) = _messageLib.decode(release.message);
        Release memory decoded = _codec.release(payload);
        vm.chainId(header.destChainId);
        uint256 locked = pair.vault.locked(address(pair.token));
        uint256 paid = pair.token.balanceOf(decoded.recipient);

        vm.prank(pair.inbox);
        try pair.vault.receiveMessage{gas: header.gasLimit}(_delivery(release.message, header, payload)) {}
        catch (bytes memory reason) {
            // Conservation says the vault always holds enough: a release it refuses is a violation.
            _fail(string.concat("release delivery reverted: ", vm.toString(reason)));
            return;
        }
        _releases[index].delivered = true;
        --pendingReleases;
        if (pair.vault.locked(address(pair.token)) + release.amount != locked) _fail("release: locked != before - amount");
        if (pair.token.balanceOf(decoded.recipient) != paid + release.amount) _fail("release: recipient not paid");

        PairGhost storage g = _ghosts[release.pair];
        g.releasesInFlight -= release.amount;
        if (decoded.reason == MarginMessages.REASON_REFUND) {
            g.releasedRefunds += release.amount;
            refundedOf[release.account][release.pair] += release.amount;
            if (refundedOf[release.account][release.pair] > refusedOf[release.account][release.pair]) {
                _fail("inv3: refunded more than the hub refused");
            }
        } else {
            g.releasedForDebits += release.amount;
            releasedOf[release.account][release.pair] += release.amount;
            if (releasedOf[release.account][release.pair] > debitedOf[release.account][release.pair]) {
                _fail("inv3: released more than the hub debited, or before it did");
            }
        }
        ++successes["deliverRelease"];
    }

    function _delivery(bytes memory message, Header memory header, bytes memory payload)
        private
        pure
        returns (Delivery memory)
    {
        return Delivery(keccak256(message), header.sourceChainId, header.sender, new DeliveredToken[](0), payload);
    }

    // ---------------------------------------------------------------- internals: repay, withdraw

    function _repay(address account, address payer, uint256 amount) private {
        vm.chainId(_hub.chainId);
        uint256 debt = _hub.engine.debtOf(account);
        _fund(payer, amount);
        Health memory before = _hub.engine.healthOf(account);
        vm.prank(payer);
        try _hub.engine.repay(amount, account) returns (uint256 repaid) {
            if (repaid != M.min(amount, debt)) _fail("repay: repaid != min(amount, debt)");
            if (_hub.engine.debtOf(account) + repaid < debt) _fail("repay: more debt erased than paid");
            if (_hub.engine.healthOf(account).lhf < before.lhf) _fail("repay: LHF fell");
            ++successes["repay"];
        } catch (bytes memory reason) {
            _fail(string.concat("repay: unexpected revert ", vm.toString(reason)));
        }
    }

    /// @dev Invariant 4: a withdrawal that succeeds leaves borrowing power ≥ debt; one refused for
    /// collateral was indeed past it. Invariant 3 (first half): the release the hub sends is exactly
    /// the debit it just made.
    function _withdraw(address actor, uint256 p, uint256 amount) private {
        Pair memory pair = _pairs[p];
        vm.chainId(_hub.chainId);
        uint256 held = _held(actor, p);
        Health memory before = _hub.engine.healthOf(actor);
        uint256 powerLost = _powerOf(actor, p, amount);

        vm.recordLogs();
        vm.prank(actor);
        try _hub.engine.withdraw(pair.chainId, address(pair.token), amount, actor) {
            if (held - _held(actor, p) != amount) _fail("withdraw: the position did not shrink by the amount");
            Health memory afterwards = _hub.engine.healthOf(actor);
            if (afterwards.debtUsd != 0 && afterwards.borrowPowerUsd < afterwards.debtUsd) {
                _fail("inv4: a withdrawal left borrowing power below debt");
            }
            _debit(actor, p, amount);
            _takeRelease(
                vm.getRecordedLogs(), p, Release(actor, address(pair.token), amount, actor, MarginMessages.REASON_WITHDRAW)
            );
            ++successes["withdraw"];
        } catch (bytes memory reason) {
            if (bytes4(reason) == MarginEngine.EngineInsufficientCollateral.selector) {
                if (before.debtUsd == 0) _fail("inv4: a withdrawal without debt was refused");
                uint256 powerAfter = before.borrowPowerUsd > powerLost ? before.borrowPowerUsd - powerLost : 0;
                if (powerAfter >= before.debtUsd + TOLERANCE) _fail("inv4: a withdrawal within borrowing power was refused");
                ++successes["withdrawRefused"];
            } else {
                _fail(string.concat("withdraw: unexpected revert ", vm.toString(reason)));
            }
        }
    }

    // ---------------------------------------------------------------- internals: liquidation

    /// @return liquidated Whether the liquidation went through.
    function _liquidate(address account, address liquidator, uint256 p, uint256 repayAmount)
        private
        returns (bool liquidated)
    {
        LiquidationCheck memory c;
        (c.account, c.liquidator, c.pair, c.repay) = (account, liquidator, p, repayAmount);
        vm.chainId(_hub.chainId);
        c.held = _held(account, p);
        c.debt = _hub.engine.debtOf(account);
        c.before = _hub.engine.healthOf(account);
        _fund(liquidator, repayAmount);
        c.liquidatorUsdc = _hub.usdc.balanceOf(liquidator);
        Pair memory pair = _pairs[p];

        vm.recordLogs();
        vm.prank(liquidator);
        try _hub.engine.liquidate(account, pair.chainId, address(pair.token), repayAmount, liquidator) returns (
            uint256 repaid, uint256 seized, bytes32
        ) {
            _checkLiquidation(c, repaid, seized);
            return true;
        } catch (bytes memory reason) {
            _checkRefusedLiquidation(c, reason);
        }
    }

    function _checkLiquidation(LiquidationCheck memory c, uint256 repaid, uint256 seized) private {
        if (c.before.lhf >= WAD) _fail("inv5: liquidated an account with LHF >= 1");
        Health memory afterwards = _hub.engine.healthOf(c.account);
        if (afterwards.lhf < c.before.lhf) {
            _fail(
                string.concat(
                    "inv5: liquidation lowered LHF from ", vm.toString(c.before.lhf), " to ", vm.toString(afterwards.lhf)
                )
            );
        }
        if (repaid == 0 || repaid > c.repay || repaid > c.debt) _fail("liquidation: repaid outside (0, offer]");
        if (c.liquidatorUsdc - _hub.usdc.balanceOf(c.liquidator) != repaid) _fail("liquidation: liquidator paid != repaid");
        // A liquidation erases at least what was repaid (rounding in the account's favour, by design:
        // otherwise rounding alone could lower LHF), and at most one USDC unit more.
        uint256 debtAfter = _hub.engine.debtOf(c.account);
        if (debtAfter + repaid > c.debt) _fail("liquidation: less debt erased than repaid");
        if (debtAfter + repaid + 1 < c.debt) _fail("liquidation: more than one unit erased beyond the repayment");
        if (c.held - _held(c.account, c.pair) != seized) _fail("liquidation: position did not shrink by the seizure");
        _debit(c.account, c.pair, seized);
        _takeRelease(
            vm.getRecordedLogs(),
            c.pair,
            Release(c.account, address(_pairs[c.pair].token), seized, c.liquidator, MarginMessages.REASON_SEIZE)
        );
        ++successes["liquidate"];
    }

    function _checkRefusedLiquidation(LiquidationCheck memory c, bytes memory reason) private {
        lastLiquidationRefusal = reason;
        bytes4 selector = bytes4(reason);
        if (selector == MarginEngine.EngineNotLiquidatable.selector) {
            if (c.before.lhf < WAD) _fail("inv5: refused to liquidate an account with LHF < 1");
            ++successes["liquidateRefusedHealthy"];
        } else if (selector == MarginEngine.EngineExceedsPosition.selector) {
            if (c.held != 0) _fail("liquidation: refused a position the account holds");
        } else if (selector == MarginEngine.EngineLiquidationLowersHealth.selector) {
            // The engine's own guard of invariant 5 refused it: counted, the run's report shows how often.
            ++successes["liquidateRefusedLowersHealth"];
        } else if (selector != MarginEngine.EngineZeroAmount.selector) {
            _fail(string.concat("liquidation: unexpected revert ", vm.toString(reason)));
        }
    }

    // ---------------------------------------------------------------- internals: bookkeeping

    function _debit(address account, uint256 p, uint256 amount) private {
        _ghosts[p].debited += amount;
        debitedOf[account][p] += amount;
    }

    /// @dev Invariant 3 (first half): the hub sent exactly one release in this action, to the pair's
    /// vault on its chain, and it is `expected`: the debit (or refusal) just observed. It goes in flight.
    function _takeRelease(Vm.Log[] memory logs, uint256 p, Release memory expected) private {
        bytes memory message = _onlySent(logs, address(_hub.outbox));
        if (message.length == 0) return;
        (, Header memory header,, bytes memory payload) = _messageLib.decode(message);
        Release memory release = _codec.release(payload);
        Pair memory pair = _pairs[p];
        if (
            header.destChainId != pair.chainId || header.receiver != address(pair.vault)
                || header.sender != address(_hub.engine) || keccak256(abi.encode(release)) != keccak256(abi.encode(expected))
        ) {
            _fail("inv3: the release sent is not the debit just made");
        }
        _releases.push(InFlight(message, uint8(p), release.account, release.amount, false));
        ++pendingReleases;
        _ghosts[p].releasesInFlight += release.amount;
    }

    /// @dev A borrow sends no release (a delivery to a spoke carries USDC to the borrower, not to a vault).
    function _noReleaseSent(Vm.Log[] memory logs) private {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(_hub.outbox) || logs[i].topics[0] != MESSAGE_SENT) continue;
            (, bytes memory message) = abi.decode(logs[i].data, (uint256, bytes));
            (, Header memory header,,) = _messageLib.decode(message);
            for (uint256 p; p < _pairs.length; ++p) {
                if (header.receiver == address(_pairs[p].vault)) _fail("borrow: a release was sent");
            }
        }
    }

    /// @dev The one message `outbox` sent among `logs` (a violation if there is not exactly one).
    function _onlySent(Vm.Log[] memory logs, address outbox) private returns (bytes memory message) {
        uint256 count;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == outbox && logs[i].topics[0] == MESSAGE_SENT) {
                (, message) = abi.decode(logs[i].data, (uint256, bytes));
                ++count;
            }
        }
        if (count != 1) {
            _fail(string.concat("expected one message, the Outbox sent ", vm.toString(count)));
            return "";
        }
    }

    function _emitted(Vm.Log[] memory logs, address emitter, bytes32 topic) private pure returns (bool) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == emitter && logs[i].topics.length != 0 && logs[i].topics[0] == topic) return true;
        }
        return false;
    }

    /// @dev The k-th message in flight from `head` (k = 0, the oldest, 3 in 4 times).
    function _pick(InFlight[] storage queue, uint256 head, uint256 pending, uint256 seed)
        private
        view
        returns (bool, uint256)
    {
        if (pending == 0) return (false, 0);
        uint256 k = seed % 4 == 0 ? (seed >> 2) % pending : 0;
        for (uint256 i = head; i < queue.length; ++i) {
            if (queue[i].delivered) continue;
            if (k == 0) return (true, i);
            --k;
        }
        return (false, 0);
    }

    function _leastHealthy() private view returns (address worst) {
        uint256 lowest = type(uint256).max;
        for (uint256 a; a < _actors.length; ++a) {
            uint256 lhf = _hub.engine.healthOf(_actors[a]).lhf;
            if (lhf <= lowest) (worst, lowest) = (_actors[a], lhf);
        }
    }

    /// @dev A pair the account holds a position in; any pair 1 in 8 times, or when it holds none.
    function _heldPair(address account, uint256 seed) private view returns (uint256) {
        uint256 any = seed % _pairs.length;
        if (seed % 8 == 0) return any;
        for (uint256 i; i < _pairs.length; ++i) {
            uint256 p = (any + i) % _pairs.length;
            if (_held(account, p) != 0) return p;
        }
        return any;
    }

    function _held(address account, uint256 p) private view returns (uint256) {
        return _hub.engine.positionOf(account, _pairs[p].chainId, address(_pairs[p].token)).amount;
    }

    /// @dev The borrowing power `amount` of the position carries now (0 when stale). λ depends on the
    /// amount only through the unwind term, which shrinks with it: what is left keeps at least this much
    /// less, so borrowing power after the withdrawal is at least the current one minus this.
    function _powerOf(address account, uint256 p, uint256 amount) private view returns (uint256) {
        PositionView[] memory positions = _hub.engine.positionsOf(account);
        for (uint256 i; i < positions.length; ++i) {
            if (positions[i].chainId != _pairs[p].chainId || positions[i].token != address(_pairs[p].token)) continue;
            if (!positions[i].fresh) return 0;
            (AssetParams memory params,) = _hub.engine.assetParams(positions[i].assetId);
            uint256 value = M.fullMulDivUp(amount, positions[i].price, 10 ** params.decimals);
            return M.mulWadUp(value, M.mulWadUp(params.ltv, positions[i].lambda)) + 1;
        }
        return 0;
    }

    /// @dev The depositor locks `amount` on the pair's spoke, with a borrow instruction if `borrowAmount` != 0.
    function _lock(
        Pair memory pair,
        address depositor,
        uint256 amount,
        address account,
        uint256 borrowAmount,
        uint64 borrowChain
    ) private returns (bool) {
        address token = address(pair.token);
        vm.prank(depositor);
        if (borrowAmount == 0) {
            try pair.vault.deposit(token, amount, account) {
                return true;
            } catch (bytes memory reason) {
                _fail(string.concat("deposit reverted: ", vm.toString(reason)));
            }
        } else {
            try pair.vault.depositAndBorrow(token, amount, account, borrowAmount, borrowChain, depositor) {
                return true;
            } catch (bytes memory reason) {
                _fail(string.concat("deposit-and-borrow reverted: ", vm.toString(reason)));
            }
        }
        return false;
    }

    /// @dev The deposit's value in USDC units at the current price (the feed has 8 decimals).
    function _usdcValue(Pair memory pair, uint256 amount) private view returns (uint256) {
        (, int256 price,,,) = pair.feed.latestRoundData();
        return M.fullMulDiv(amount, uint256(price), 10 ** (pair.token.decimals() + 2));
    }

    function _fund(address who, uint256 amount) private {
        uint256 balance = _hub.usdc.balanceOf(who);
        if (balance < amount) _hub.usdc.mint(who, amount - balance);
    }

    /// @dev The account a deposit credits: the depositor's own, 1 in 8 times another actor's.
    function _beneficiary(uint256 actorSeed, address depositor) private view returns (address) {
        uint256 other = actorSeed / _actors.length;
        return other % 8 == 7 ? _actor(other / 8) : depositor;
    }

    function _actor(uint256 seed) private view returns (address) {
        return _actors[seed % _actors.length];
    }

    function _fail(string memory what) private {
        if (violationCount == 0) violation = what;
        ++violationCount;
    }
}
