// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {FixedPointMathLib as M} from "solady/utils/FixedPointMathLib.sol";
import {Guardable} from "../guardian/Guardable.sol";
import {Delivery, IMessageReceiver} from "../messaging/interfaces/IMessageReceiver.sol";
import {MessageLib} from "../messaging/libraries/MessageLib.sol";
import {Outbox, TokenAmount} from "../messaging/Outbox.sol";
import {AggregatorV3Interface} from "../oracles/interfaces/AggregatorV3Interface.sol";
import {LatencyInput, LatencyMath} from "./LatencyMath.sol";
import {LatencyModel} from "./LatencyModel.sol";
import {Credit, MarginMessages, Release} from "./MarginMessages.sol";

/// @notice Tells the engine whether a reserve-backed token may count as collateral (its reserves
/// cover its supply on its own chain, as last reported by a verified message).
interface ICollateralGate {
    function isEligible(uint64 chainId, address token) external view returns (bool);
}

/// @notice Risk parameters of one asset, as the owner sets them (WAD ratios, seconds).
struct AssetParams {
    AggregatorV3Interface feed;
    uint8 decimals;
    uint32 heartbeat;
    uint64 ltv;
    uint64 liquidationThreshold;
    uint64 liquidationBonus;
    uint64 volatility;
    uint64 theta;
    uint64 conf;
    uint128 unwindPerDay;
    uint128 supplyCap;
    bool enabled;
}

/// @notice Per source chain: its vault and what delivery from it costs in time and risk.
struct ChainParams {
    address vault;
    uint32 finalityTime;
    uint32 relayTime;
    uint64 bridgeIntensity;
    uint64 bridgeLgd;
    bool enabled;
}

/// @notice Hub-wide timing and thresholds.
struct Globals {
    uint32 detectTime;
    uint32 hubFinalityTime;
    uint32 grace;
    uint64 marginCallLevel;
    /// @dev Below this debt (USD WAD) a liquidation may close everything (Aave v3's small-position rule).
    uint96 smallDebtUsd;
}

/// @notice The kinked borrow-rate model, annual WAD rates.
struct RateModel {
    uint64 baseRate;
    uint64 slope1;
    uint64 slope2;
    uint64 kink;
}

/// @notice One collateral position as views return it.
struct PositionView {
    uint64 chainId;
    address token;
    uint16 assetId;
    uint256 amount;
    uint64 sourceTime;
    uint256 price;
    uint256 priceAge;
    uint256 valueUsd;
    uint256 lambda;
    bool fresh;
}

/// @notice An account's health: LHF on liquidation terms, borrowHf on initial-margin terms.
struct Health {
    uint256 collateralUsd;
    uint256 liquidationValueUsd;
    uint256 borrowPowerUsd;
    uint256 debtUsd;
    uint256 lhf;
    uint256 borrowHf;
}

/// @title MarginEngine
/// @notice The hub's unified margin account (docs/margin.md): collateral locked in vaults on spoke
/// chains, credited by verified messages, valued with the latency-adjusted health factor; a USDC
/// lending pool with a kinked rate; borrowing on the hub or delivered to a spoke; withdrawals and
/// liquidations that debit here first and release on the spoke by message.
/// @dev Positions are keyed by (source chain, token on that chain); each maps to an asset whose
/// risk parameters and price feed it shares with the same asset on other chains.
contract MarginEngine is IMessageReceiver, Guardable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 internal constant WAD = 1e18;
    uint256 public constant MAX_POSITIONS = 16;
    /// @notice Below this LHF a liquidation may repay the whole debt instead of half.
    uint256 public constant FULL_CLOSE_LHF = 0.95e18;
    /// @dev How far below LHF/(LT·λ) a capped liquidation bonus stays (1e-9 relative).
    uint256 private constant BONUS_CAP_MARGIN = 1e9;
    /// @notice Gas the spoke vault gets to release collateral.
    uint32 public constant RELEASE_GAS = 150_000;

    struct Asset {
        // slot 0: read for every position
        AggregatorV3Interface feed;
        uint32 heartbeat;
        uint8 decimals;
        uint8 feedDecimals;
        bool enabled;
        /// @dev Reserve-backed: also eligible only while the collateral gate says so.
        bool gated;
        // slots 1 and 2: also read for every position
        uint64 ltv;
        uint64 liquidationThreshold;
        uint64 volatility;
        uint64 sqrtT0;
        uint64 theta;
        uint64 conf;
        uint128 unwindPerDay;
        // slot 3: liquidations and credits only
        uint64 liquidationBonus;
        uint128 supplyCap;
        // slot 4: only credits and debits touch it
        uint256 totalCollateral;
    }

    struct Chain {
        uint32 finalityTime;
        uint32 relayTime;
        uint64 bridgeIntensity;
        uint64 bridgeLgd;
        bool enabled;
        uint8 pauseFlags;
    }

    struct Position {
        uint128 amount;
        uint64 sourceTime;
        uint16 assetId;
    }

    struct Account {
        uint128 scaledDebt;
        uint8 positionCount;
    }

    /// @dev Borrow index and totals: one slot, read and written once per action.
    struct Pool {
        uint96 borrowIndex;
        uint32 lastAccrual;
        uint128 totalScaledDebt;
    }

    struct Liquidity {
        uint128 cash;
        uint128 totalShares;
    }

    /// @dev What a liquidation needs to know about the position it seizes, found in the health loop.
    struct Target {
        uint256 valueUsd;
        uint256 weight;
        uint256 priceWad;
        uint16 assetId;
        uint128 amount;
        bool found;
    }

    struct Liquidation {
        uint256 index;
        uint256 repaid;
        uint256 seized;
        uint256 bonus;
        uint256 lhfBefore;
        uint256 lhfAfter;
    }

    IERC20 public immutable usdc;
    /// @notice Computes every position's λ (a contract of its own: see LatencyModel).
    LatencyModel public immutable latency;
    Outbox public immutable outbox;
    address public immutable inbox;
    uint64 public immutable hubChainId;
    /// @dev 10^(18 − USDC decimals): USDC units to USD WAD at a price of 1.
    uint256 private immutable _usdcScale;

    Globals private _globals;
    RateModel private _rateModel;
    Pool private _pool;
    Liquidity private _liquidity;
    uint16 private _assetCount;
    /// @notice Consulted for gated (reserve-backed) assets: while it says no, they weigh nothing.
    ICollateralGate public collateralGate;
    /// @dev The Outbox's USDC pool, approved once (see {syncUsdcPool}).
    address private _usdcPool;

    mapping(uint16 assetId => Asset) private _assets;
    mapping(uint64 chainId => Chain) private _chains;
    mapping(uint64 chainId => address) private _vaults;
    mapping(uint64 chainId => mapping(address token => uint16 assetId)) private _assetOf;
    mapping(address account => Account) private _accounts;
    mapping(address account => mapping(uint256 index => bytes32 key)) private _positionKeys;
    mapping(address account => mapping(bytes32 key => Position)) private _positions;
    mapping(address lender => uint256) private _shares;

    event AssetListed(uint16 indexed assetId, AssetParams params);
    event AssetTokenSet(uint64 indexed chainId, address indexed token, uint16 indexed assetId);
    event ChainSet(uint64 indexed chainId, ChainParams params);
    event GlobalsSet(Globals globals);
    event AssetGateSet(uint16 indexed assetId, address gate, bool gated);
    event RateModelSet(RateModel model);
    event Credited(
        address indexed account, uint64 indexed chainId, address indexed token, uint256 amount, uint64 sourceTime, bytes32 messageId
    );
    /// @notice A credit the hub could not take went back to the depositor on its chain.
    event CreditRefunded(
        address indexed account, uint64 indexed chainId, address indexed token, uint256 amount, bytes4 reason, bytes32 refundId
    );
    /// @notice The borrow instruction of a deposit-and-borrow failed; the deposit itself was credited.
    event InstructionFailed(address indexed account, bytes32 indexed messageId, bytes reason);
    event Borrowed(
        address indexed account, uint256 amount, uint64 indexed chainId, address recipient, bytes32 messageId
    );
    event Repaid(address indexed account, address indexed payer, uint256 amount);
    event Withdrawn(
        address indexed account, uint64 indexed chainId, address indexed token, uint256 amount, address recipient, bytes32 messageId
    );
    event Liquidated(
        address indexed account,
        address indexed liquidator,
        uint64 indexed chainId,
        address token,
        uint256 repaid,
        uint256 seized,
        uint256 bonus,
        uint256 lhfBefore,
        uint256 lhfAfter,
        bytes32 messageId
    );
    /// @notice The account's LHF is below the margin-call level: add collateral or repay.
    event MarginCall(address indexed account, uint256 lhf, uint256 callLevel);
    event Supplied(address indexed lender, uint256 amount, uint256 shares);
    event Redeemed(address indexed lender, uint256 amount, uint256 shares);

    error EngineUnauthorizedCaller(address caller);
    /// @notice The message did not come from the vault registered for its chain.
    error EngineUnknownVault(uint64 chainId, address sender);
    error EngineUnknownChain(uint64 chainId);
    error EngineUnknownAsset(uint64 chainId, address token);
    error EngineZeroAmount();
    error EngineZeroAddress();
    error EngineInvalidConfig(string reason);
    /// @notice The action would leave borrowing power below the debt: `required` USD (WAD) of borrowing
    /// power is needed, `available` is what the collateral gives.
    error EngineInsufficientCollateral(uint256 required, uint256 available);
    error EngineInsufficientLiquidity(uint256 requested, uint256 available);
    error EngineExceedsPosition(uint256 requested, uint256 available);
    error EngineTooManyPositions(uint256 max);
    error EngineOverSupplyCap(uint16 assetId, uint256 total, uint256 cap);
    error EngineAssetNotEligible(uint16 assetId);
    /// @notice The feed answered a non-positive price: the position cannot be valued.
    error EngineBadPrice(uint16 assetId, int256 answer);
    /// @notice Only accounts with LHF < 1 can be liquidated.
    error EngineNotLiquidatable(uint256 lhf);
    error EngineNotBelowCallLevel(uint256 lhf, uint256 callLevel);
    /// @notice Defensive: a liquidation must never lower the account's LHF (DESIGN §11, invariant 5).
    error EngineLiquidationLowersHealth(uint256 before, uint256 afterwards);
    error EngineNothingToRepay();
    error EngineOutOfGas();

    modifier onlyInbox() {
        if (msg.sender != inbox) revert EngineUnauthorizedCaller(msg.sender);
        _;
    }

    function typeAndVersion() external pure returns (string memory) {
        return "MarginEngine 1.0.0";
    }

    constructor(
        address owner_,
        address guardian_,
        Outbox outbox_,
        address inbox_,
        uint64 hubChainId_,
        IERC20 usdc_,
        LatencyModel latency_
    ) Guardable(owner_, guardian_) {
        if (
            address(outbox_) == address(0) || inbox_ == address(0) || address(usdc_) == address(0)
                || address(latency_) == address(0)
        ) revert EngineZeroAddress();
        latency = latency_;
        outbox = outbox_;
        inbox = inbox_;
        hubChainId = hubChainId_;
        usdc = usdc_;
        _usdcScale = 10 ** (18 - _decimalsOf(address(usdc_)));
        _pool = Pool({borrowIndex: uint96(WAD), lastAccrual: uint32(block.timestamp), totalScaledDebt: 0});
    }

    // ───────────────────────────── collateral in ─────────────────────────────

    /// @notice Credits collateral a spoke vault locked (and runs a deposit-and-borrow instruction).
    /// @dev A credit the hub cannot take is refunded to the depositor on its chain rather than reverted:
    /// the tokens are already locked there, and a reverted credit would leave them stranded.
    function receiveMessage(Delivery calldata delivery) external onlyInbox {
        uint64 source = delivery.sourceChainId;
        Chain memory chain = _chains[source];
        if (!chain.enabled || delivery.sender != _vaults[source]) revert EngineUnknownVault(source, delivery.sender);
        _requireNotPaused(source, chain.pauseFlags, PAUSE_DEPOSIT);
        Credit memory credit = MarginMessages.decodeCredit(delivery.payload);
        if (credit.amount == 0) revert EngineZeroAmount();

        try this.applyCredit(source, credit) {
            emit Credited(credit.account, source, credit.token, credit.amount, credit.depositedAt, delivery.messageId);
        } catch (bytes memory reason) {
            // No reason: out of gas. Revert so the message can be retried with more, rather than refunded.
            if (reason.length < 4) revert EngineOutOfGas();
            bytes32 refundId = _release(
                source,
                Release(credit.account, credit.token, credit.amount, credit.account, MarginMessages.REASON_REFUND)
            );
            emit CreditRefunded(credit.account, source, credit.token, credit.amount, bytes4(reason), refundId);
            return;
        }
        if (credit.borrowAmount == 0) return;
        try this.borrowInstruction(credit.account, credit.borrowAmount, credit.borrowChainId, credit.borrowRecipient) {}
        catch (bytes memory reason) {
            emit InstructionFailed(credit.account, delivery.messageId, reason);
        }
    }

    /// @notice Adds a credit to its position. Called by this contract only, so a refused credit can be
    /// caught and refunded.
    function applyCredit(uint64 chainId, Credit calldata credit) external {
        if (msg.sender != address(this)) revert EngineUnauthorizedCaller(msg.sender);
        uint16 assetId = _assetOf[chainId][credit.token];
        if (assetId == 0) revert EngineUnknownAsset(chainId, credit.token);
        Asset storage asset = _assets[assetId];
        if (!_eligible(asset, chainId, credit.token)) revert EngineAssetNotEligible(assetId);
        uint256 total = asset.totalCollateral + credit.amount;
        if (asset.supplyCap != 0 && total > asset.supplyCap) revert EngineOverSupplyCap(assetId, total, asset.supplyCap);
        asset.totalCollateral = total;

        bytes32 key = _positionKey(chainId, credit.token);
        Position storage position = _positions[credit.account][key];
        if (position.amount == 0) {
            Account storage account = _accounts[credit.account];
            uint8 count = account.positionCount;
            if (count >= MAX_POSITIONS) revert EngineTooManyPositions(MAX_POSITIONS);
            _positionKeys[credit.account][count] = key;
            account.positionCount = count + 1;
            position.assetId = assetId;
        }
        position.amount += uint128(credit.amount);
        if (credit.depositedAt > position.sourceTime) position.sourceTime = credit.depositedAt;
    }

    /// @notice The borrow half of a deposit-and-borrow. Called by this contract only.
    function borrowInstruction(address account, uint256 amount, uint64 chainId, address recipient) external {
        if (msg.sender != address(this)) revert EngineUnauthorizedCaller(msg.sender);
        _borrow(account, amount, chainId == 0 ? hubChainId : chainId, recipient);
    }

    // ───────────────────────────── borrowing ─────────────────────────────

    /// @notice Borrows USDC against the account's collateral, paid on the hub (`chainId` = the hub's id)
    /// or delivered to `recipient` on another chain by a programmable token transfer.
    /// @return messageId The delivery message, or zero on the hub.
    function borrow(uint256 amount, uint64 chainId, address recipient)
        external
        nonReentrant
        returns (bytes32 messageId)
    {
        return _borrow(msg.sender, amount, chainId, recipient);
    }

    function _borrow(address account, uint256 amount, uint64 chainId, address recipient)
        private
        returns (bytes32 messageId)
    {
        if (amount == 0) revert EngineZeroAmount();
        if (recipient == address(0)) revert EngineZeroAddress();
        _requireNotPaused(chainId, _chains[chainId].pauseFlags, PAUSE_WITHDRAW);
        uint256 index = _accrue();
        Liquidity memory liquidity = _liquidity;
        if (amount > liquidity.cash) revert EngineInsufficientLiquidity(amount, liquidity.cash);

        Account memory acct = _accounts[account];
        uint256 added = M.divWadUp(amount, index);
        acct.scaledDebt += uint128(added);
        _requireBorrowPower(account, acct, index);
        _accounts[account].scaledDebt = acct.scaledDebt;
        _pool.totalScaledDebt += uint128(added);
        _liquidity.cash = liquidity.cash - uint128(amount);

        if (chainId == hubChainId) {
            usdc.safeTransfer(recipient, amount);
        } else {
            messageId = _deliverUsdc(chainId, recipient, amount);
        }
        emit Borrowed(account, amount, chainId, recipient, messageId);
    }

    /// @notice Repays up to `amount` of `onBehalfOf`'s debt from the caller's USDC.
    /// @return repaid What was actually repaid (at most the debt).
    function repay(uint256 amount, address onBehalfOf) external nonReentrant returns (uint256 repaid) {
        if (amount == 0) revert EngineZeroAmount();
        uint256 index = _accrue();
        Account storage acct = _accounts[onBehalfOf];
        uint256 scaled = acct.scaledDebt;
        if (scaled == 0) revert EngineNothingToRepay();
        repaid = _reduceDebt(acct, scaled, index, amount, false);
        usdc.safeTransferFrom(msg.sender, address(this), repaid);
        _liquidity.cash += uint128(repaid);
        emit Repaid(onBehalfOf, msg.sender, repaid);
    }

    // ───────────────────────────── collateral out ─────────────────────────────

    /// @notice Withdraws collateral: the hub debits and checks health first, then messages the vault
    /// to release the tokens to `recipient` on `chainId`.
    function withdraw(uint64 chainId, address token, uint256 amount, address recipient)
        external
        nonReentrant
        returns (bytes32 messageId)
    {
        if (amount == 0) revert EngineZeroAmount();
        if (recipient == address(0)) revert EngineZeroAddress();
        Chain memory chain = _chains[chainId];
        if (!chain.enabled) revert EngineUnknownChain(chainId);
        _requireNotPaused(chainId, chain.pauseFlags, PAUSE_WITHDRAW);
        uint256 index = _accrue();
        _debit(msg.sender, chainId, token, amount);
        Account memory acct = _accounts[msg.sender];
        if (acct.scaledDebt != 0) _requireBorrowPower(msg.sender, acct, index);
        messageId = _release(chainId, Release(msg.sender, token, amount, recipient, MarginMessages.REASON_WITHDRAW));
        emit Withdrawn(msg.sender, chainId, token, amount, recipient, messageId);
    }

    /// @notice Liquidates an account below LHF 1: the caller repays up to the close factor of its debt
    /// and receives the seized collateral, with the remote bonus, on the collateral's chain.
    /// @dev Stale prices never block a liquidation. The bonus is capped so the account's LHF never
    /// falls (a seizure at bonus B lowers LHF exactly when LHF < LT·λ·B).
    function liquidate(address account, uint64 chainId, address token, uint256 repayAmount, address recipient)
        external
        nonReentrant
        returns (uint256 repaid, uint256 seized, bytes32 messageId)
    {
        if (repayAmount == 0) revert EngineZeroAmount();
        if (recipient == address(0)) revert EngineZeroAddress();
        Liquidation memory plan = _planLiquidation(account, chainId, token, repayAmount);
        (repaid, seized) = (plan.repaid, plan.seized);

        _reduceDebt(_accounts[account], _accounts[account].scaledDebt, plan.index, repaid, true);
        usdc.safeTransferFrom(msg.sender, address(this), repaid);
        _liquidity.cash += uint128(repaid);
        _debit(account, chainId, token, seized);
        messageId = _release(chainId, Release(account, token, seized, recipient, MarginMessages.REASON_SEIZE));
        emit Liquidated(
            account, msg.sender, chainId, token, repaid, seized, plan.bonus, plan.lhfBefore, plan.lhfAfter, messageId
        );
    }

    /// @notice Records a margin call on chain: anyone (a keeper) may call it while the account's LHF is
    /// below the margin-call level.
    function marginCall(address account) external returns (uint256 lhf) {
        lhf = healthOf(account).lhf;
        uint256 level = _globals.marginCallLevel;
        if (lhf >= level) revert EngineNotBelowCallLevel(lhf, level);
        emit MarginCall(account, lhf, level);
    }

    // ───────────────────────────── lending pool ─────────────────────────────

    /// @notice Supplies USDC liquidity for shares of the pool (cash plus outstanding debt).
    function supply(uint256 amount) external nonReentrant returns (uint256 shares) {
        if (amount == 0) revert EngineZeroAmount();
        _accrue();
        Liquidity memory liquidity = _liquidity;
        // Virtual shares and assets: the first supplier cannot inflate the share price against the next.
        shares = M.fullMulDiv(amount, uint256(liquidity.totalShares) + 1e6, totalAssets() + 1);
        if (shares == 0) revert EngineZeroAmount();
        usdc.safeTransferFrom(msg.sender, address(this), amount);
        _liquidity = Liquidity(liquidity.cash + uint128(amount), liquidity.totalShares + uint128(shares));
        _shares[msg.sender] += shares;
        emit Supplied(msg.sender, amount, shares);
    }

    /// @notice Redeems pool shares for USDC, as far as cash allows.
    function redeem(uint256 shares) external nonReentrant returns (uint256 amount) {
        if (shares == 0) revert EngineZeroAmount();
        _accrue();
        Liquidity memory liquidity = _liquidity;
        amount = M.fullMulDiv(shares, totalAssets() + 1, uint256(liquidity.totalShares) + 1e6);
        if (amount > liquidity.cash) revert EngineInsufficientLiquidity(amount, liquidity.cash);
        _shares[msg.sender] -= shares;
        _liquidity = Liquidity(liquidity.cash - uint128(amount), liquidity.totalShares - uint128(shares));
        usdc.safeTransfer(msg.sender, amount);
        emit Redeemed(msg.sender, amount, shares);
    }

    /// @notice Approves the Outbox's current USDC pool for borrow deliveries. Done once on first use;
    /// anyone may call it again after the Outbox's pool changes.
    function syncUsdcPool() public {
        address pool = address(outbox.poolOf(address(usdc)));
        if (pool == address(0)) revert EngineZeroAddress();
        _usdcPool = pool;
        usdc.forceApprove(pool, type(uint256).max);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @notice The account's LHF, borrowing power and debt, at the current block.
    function healthOf(address account) public view returns (Health memory health) {
        Account memory acct = _accounts[account];
        (health,) = _health(account, acct.scaledDebt, acct.positionCount, _currentIndex(), bytes32(0));
    }

    /// @notice Every collateral position of `account`, valued and weighted.
    function positionsOf(address account) external view returns (PositionView[] memory views) {
        uint256 count = _accounts[account].positionCount;
        views = new PositionView[](count);
        Globals memory globals = _globals;
        for (uint256 i; i < count; ++i) {
            bytes32 key = _positionKeys[account][i];
            Position memory position = _positions[account][key];
            uint64 chainId = uint64(uint256(key) >> 160);
            (uint256 valueUsd, uint256 priceWad, uint256 age, uint256 lambda, bool fresh) =
                _terms(position, key, globals);
            views[i] = PositionView(
                chainId,
                address(uint160(uint256(key))),
                position.assetId,
                position.amount,
                position.sourceTime,
                priceWad,
                age,
                valueUsd,
                lambda,
                fresh
            );
        }
    }

    /// @notice The account's debt in USDC units, interest included (rounded up).
    function debtOf(address account) external view returns (uint256) {
        return M.mulWadUp(_accounts[account].scaledDebt, _currentIndex());
    }

    function positionOf(address account, uint64 chainId, address token) external view returns (Position memory) {
        return _positions[account][_positionKey(chainId, token)];
    }

    function assetParams(uint16 assetId) external view returns (AssetParams memory params, uint256 totalCollateral) {
        Asset storage a = _assets[assetId];
        params = AssetParams(
            a.feed,
            a.decimals,
            a.heartbeat,
            a.ltv,
            a.liquidationThreshold,
            a.liquidationBonus,
            a.volatility,
            a.theta,
            a.conf,
            a.unwindPerDay,
            a.supplyCap,
            a.enabled
        );
        totalCollateral = a.totalCollateral;
    }

    function assetCount() external view returns (uint16) {
        return _assetCount;
    }

    function assetOf(uint64 chainId, address token) external view returns (uint16) {
        return _assetOf[chainId][token];
    }

    function chainParams(uint64 chainId) external view returns (ChainParams memory) {
        Chain memory c = _chains[chainId];
        return ChainParams(_vaults[chainId], c.finalityTime, c.relayTime, c.bridgeIntensity, c.bridgeLgd, c.enabled);
    }

    function globalParams() external view returns (Globals memory) {
        return _globals;
    }

    function rateModel() external view returns (RateModel memory) {
        return _rateModel;
    }

    /// @notice Pool assets: cash plus outstanding debt (with interest accrued to now).
    function totalAssets() public view returns (uint256) {
        return _liquidity.cash + totalDebt();
    }

    function totalDebt() public view returns (uint256) {
        return M.mulWadUp(_pool.totalScaledDebt, _currentIndex());
    }

    function cash() external view returns (uint256) {
        return _liquidity.cash;
    }

    function sharesOf(address lender) external view returns (uint256) {
        return _shares[lender];
    }

    /// @notice The current annual borrow rate (WAD) from the kinked model.
    function borrowRate() public view returns (uint256) {
        uint256 debt = totalDebt();
        uint256 assets = _liquidity.cash + debt;
        return _rate(assets == 0 ? 0 : M.divWad(debt, assets));
    }

    // ───────────────────────────── configuration ─────────────────────────────

    /// @notice Lists a new asset; returns its id (ids start at 1).
    function listAsset(AssetParams calldata params) external onlyOwner returns (uint16 assetId) {
        assetId = ++_assetCount;
        _setAsset(assetId, params);
    }

    /// @notice Replaces an asset's risk parameters (eligibility included).
    function setAsset(uint16 assetId, AssetParams calldata params) external onlyOwner {
        if (assetId == 0 || assetId > _assetCount) revert EngineInvalidConfig("unknown asset");
        _setAsset(assetId, params);
    }

    /// @notice Maps `token` on `chainId` to an asset (0 unmaps it).
    function setAssetToken(uint64 chainId, address token, uint16 assetId) external onlyOwner {
        if (assetId > _assetCount) revert EngineInvalidConfig("unknown asset");
        _assetOf[chainId][token] = assetId;
        emit AssetTokenSet(chainId, token, assetId);
    }

    /// @notice Makes an asset reserve-backed: it counts only while `gate` says its reserves cover it.
    function setAssetGate(uint16 assetId, ICollateralGate gate, bool gated) external onlyOwner {
        if (assetId == 0 || assetId > _assetCount) revert EngineInvalidConfig("unknown asset");
        if (gated && address(gate) == address(0)) revert EngineZeroAddress();
        collateralGate = gate;
        _assets[assetId].gated = gated;
        emit AssetGateSet(assetId, address(gate), gated);
    }

    function setChain(uint64 chainId, ChainParams calldata params) external onlyOwner {
        if (params.bridgeLgd > WAD) revert EngineInvalidConfig("bridgeLgd > 1");
        if (params.enabled && params.vault == address(0)) revert EngineZeroAddress();
        Chain storage chain = _chains[chainId];
        chain.finalityTime = params.finalityTime;
        chain.relayTime = params.relayTime;
        chain.bridgeIntensity = params.bridgeIntensity;
        chain.bridgeLgd = params.bridgeLgd;
        chain.enabled = params.enabled;
        _vaults[chainId] = params.vault;
        emit ChainSet(chainId, params);
    }

    function setGlobals(Globals calldata globals_) external onlyOwner {
        if (globals_.marginCallLevel < WAD) revert EngineInvalidConfig("margin call level < 1");
        _globals = globals_;
        emit GlobalsSet(globals_);
    }

    function setRateModel(RateModel calldata model) external onlyOwner {
        if (model.kink == 0 || model.kink >= WAD) revert EngineInvalidConfig("kink outside (0, 1)");
        _accrue();
        _rateModel = model;
        emit RateModelSet(model);
    }

    // ───────────────────────────── internals ─────────────────────────────

    function _setAsset(uint16 assetId, AssetParams calldata p) private {
        if (address(p.feed) == address(0)) revert EngineZeroAddress();
        if (p.ltv > p.liquidationThreshold) revert EngineInvalidConfig("ltv > liquidation threshold");
        if (p.liquidationBonus < WAD) revert EngineInvalidConfig("liquidation bonus < 1");
        if (p.decimals > 36) revert EngineInvalidConfig("decimals > 36");
        uint256 sqrtT0 = latency.sqrtBaselineHorizon(p.liquidationThreshold, p.liquidationBonus, p.volatility);
        Asset storage a = _assets[assetId];
        a.feed = p.feed;
        a.heartbeat = p.heartbeat;
        a.decimals = p.decimals;
        a.feedDecimals = p.feed.decimals();
        a.enabled = p.enabled;
        a.ltv = p.ltv;
        a.liquidationThreshold = p.liquidationThreshold;
        a.liquidationBonus = p.liquidationBonus;
        a.volatility = p.volatility;
        a.sqrtT0 = uint64(sqrtT0);
        a.theta = p.theta;
        a.conf = p.conf;
        a.unwindPerDay = p.unwindPerDay;
        a.supplyCap = p.supplyCap;
        emit AssetListed(assetId, p);
    }

    /// @dev Sums every position's value, LT-weighted and LTV-weighted, both latency-adjusted; finds the
    /// position `targetKey` on the way for a liquidation. Collateral rounds down, debt up.
    function _health(address account, uint256 scaledDebt, uint256 count, uint256 index, bytes32 targetKey)
        private
        view
        returns (Health memory health, Target memory target)
    {
        Globals memory globals = _globals;
        for (uint256 i; i < count; ++i) {
            bytes32 key = _positionKeys[account][i];
            Position memory position = _positions[account][key];
            (uint256 valueUsd, uint256 priceWad,, uint256 lambda, bool fresh) =
                _terms(position, key, globals);
            Asset storage asset = _assets[position.assetId];
            uint256 weight = M.mulWad(asset.liquidationThreshold, lambda);
            health.collateralUsd += valueUsd;
            health.liquidationValueUsd += M.mulWad(valueUsd, weight);
            if (fresh) health.borrowPowerUsd += M.mulWad(valueUsd, M.mulWad(asset.ltv, lambda));
            if (key == targetKey) {
                target = Target(valueUsd, weight, priceWad, position.assetId, position.amount, true);
            }
        }
        health.debtUsd = M.mulWadUp(scaledDebt, index) * _usdcScale;
        if (health.debtUsd == 0) {
            health.lhf = type(uint256).max;
            health.borrowHf = type(uint256).max;
        } else {
            health.lhf = M.divWad(health.liquidationValueUsd, health.debtUsd);
            health.borrowHf = M.divWad(health.borrowPowerUsd, health.debtUsd);
        }
    }

    /// @dev Value (USD WAD, rounded down), price (WAD), price age, λ and freshness of one position.
    /// An ineligible asset weighs nothing.
    function _terms(Position memory position, bytes32 key, Globals memory globals)
        private
        view
        returns (uint256 valueUsd, uint256 priceWad, uint256 age, uint256 lambda, bool fresh)
    {
        Asset storage asset = _assets[position.assetId];
        (, int256 answer,, uint256 updatedAt,) = asset.feed.latestRoundData();
        if (answer <= 0) revert EngineBadPrice(position.assetId, answer);
        priceWad = uint256(answer) * 10 ** (18 - asset.feedDecimals);
        valueUsd = M.fullMulDiv(position.amount, priceWad, 10 ** asset.decimals);
        age = block.timestamp > updatedAt ? block.timestamp - updatedAt : 0;
        uint64 chainId = uint64(uint256(key) >> 160);
        if (!_eligible(asset, chainId, address(uint160(uint256(key))))) return (valueUsd, priceWad, age, 0, false);
        (lambda, fresh) = _lambda(position.amount, age, asset, _chains[chainId], globals);
    }

    function _lambda(uint256 amount, uint256 age, Asset storage asset, Chain memory chain, Globals memory globals)
        private
        view
        returns (uint256, bool)
    {
        return latency.lambda(
            LatencyInput({
                amount: amount,
                priceAge: age,
                volatility: asset.volatility,
                sqrtT0: asset.sqrtT0,
                theta: asset.theta,
                conf: asset.conf,
                heartbeat: asset.heartbeat,
                grace: globals.grace,
                unwindPerDay: asset.unwindPerDay,
                horizon: uint256(globals.detectTime) + globals.hubFinalityTime + chain.relayTime,
                bridgeIntensity: chain.bridgeIntensity,
                bridgeLgd: chain.bridgeLgd
            })
        );
    }

    function _requireBorrowPower(address account, Account memory acct, uint256 index) private view {
        (Health memory health,) = _health(account, acct.scaledDebt, acct.positionCount, index, bytes32(0));
        if (health.borrowPowerUsd < health.debtUsd) {
            revert EngineInsufficientCollateral(health.debtUsd, health.borrowPowerUsd);
        }
    }

    /// @dev Checks that `account` can be liquidated on this position and works out the amounts.
    function _planLiquidation(address account, uint64 chainId, address token, uint256 repayAmount)
        private
        returns (Liquidation memory plan)
    {
        Chain memory chain = _chains[chainId];
        if (!chain.enabled) revert EngineUnknownChain(chainId);
        _requireNotPaused(chainId, chain.pauseFlags, PAUSE_LIQUIDATE);
        plan.index = _accrue();
        Account memory acct = _accounts[account];
        (Health memory health, Target memory target) =
            _health(account, acct.scaledDebt, acct.positionCount, plan.index, _positionKey(chainId, token));
        if (health.lhf >= WAD) revert EngineNotLiquidatable(health.lhf);
        if (!target.found) revert EngineExceedsPosition(1, 0);
        (plan.repaid, plan.seized, plan.bonus) = _liquidationAmounts(health, target, chain, repayAmount);
        plan.lhfBefore = health.lhf;
        plan.lhfAfter = _lhfAfter(health, target, plan.seized, plan.repaid);
        if (plan.lhfAfter < plan.lhfBefore) revert EngineLiquidationLowersHealth(plan.lhfBefore, plan.lhfAfter);
    }

    /// @dev Close factor, remote bonus capped so LHF cannot fall, and the seizure in token units.
    function _liquidationAmounts(Health memory health, Target memory target, Chain memory chain, uint256 repayAmount)
        private
        view
        returns (uint256 repaid, uint256 seized, uint256 bonus)
    {
        uint256 debt = health.debtUsd / _usdcScale;
        bool fullClose = health.lhf <= FULL_CLOSE_LHF || health.debtUsd < _globals.smallDebtUsd;
        repaid = M.min(repayAmount, fullClose ? debt : debt / 2);
        Asset storage asset = _assets[target.assetId];
        bonus = latency.remoteBonus(
            asset.liquidationBonus, asset.volatility, uint256(_globals.hubFinalityTime) + chain.relayTime
        );
        // At the cap LHF would stay exactly level; 1e-9 below it absorbs the roundings in between.
        if (target.weight != 0) {
            bonus = M.min(bonus, M.mulWad(M.divWad(health.lhf, target.weight), WAD - BONUS_CAP_MARGIN));
        }
        uint256 unit = 10 ** asset.decimals;
        seized = M.fullMulDiv(M.mulWad(repaid * _usdcScale, bonus), unit, target.priceWad);
        if (seized > target.amount) {
            // Not enough collateral for the bonus on the whole repayment: repay only what it covers,
            // rounded up to a whole USDC unit so the account never pays for the rounding.
            seized = target.amount;
            repaid = M.min(repaid, _divUp(M.divWadUp(M.fullMulDivUp(seized, target.priceWad, unit), bonus), _usdcScale));
        }
        if (repaid == 0 || seized == 0) revert EngineZeroAmount();
    }

    /// @dev The LHF after seizing `seized` and repaying `repaid`, from the loop's totals (no second loop).
    function _lhfAfter(Health memory health, Target memory target, uint256 seized, uint256 repaid)
        private
        view
        returns (uint256)
    {
        uint256 seizedValue = M.fullMulDivUp(seized, target.priceWad, 10 ** _assets[target.assetId].decimals);
        uint256 lost = M.mulWadUp(seizedValue, target.weight);
        uint256 remaining = health.liquidationValueUsd > lost ? health.liquidationValueUsd - lost : 0;
        uint256 debtAfter = health.debtUsd - M.min(health.debtUsd, repaid * _usdcScale);
        return debtAfter == 0 ? type(uint256).max : M.divWad(remaining, debtAfter);
    }

    function _debit(address account, uint64 chainId, address token, uint256 amount) private {
        bytes32 key = _positionKey(chainId, token);
        Position storage position = _positions[account][key];
        uint256 held = position.amount;
        if (amount > held) revert EngineExceedsPosition(amount, held);
        _assets[position.assetId].totalCollateral -= amount;
        if (amount < held) {
            position.amount = uint128(held - amount);
            return;
        }
        // Emptied: swap-and-pop its key so the health loop stays as short as the live positions.
        delete _positions[account][key];
        Account storage acct = _accounts[account];
        uint256 last = acct.positionCount - 1;
        for (uint256 i; i <= last; ++i) {
            if (_positionKeys[account][i] == key) {
                _positionKeys[account][i] = _positionKeys[account][last];
                break;
            }
        }
        delete _positionKeys[account][last];
        acct.positionCount = uint8(last);
    }

    /// @dev Lowers the debt by up to `amount` USDC; returns what was repaid. A repayment's scaled
    /// reduction rounds down, so it never erases more debt than was paid. A liquidation's rounds up
    /// (`eraseAtLeast`): the debt must fall by at least what the liquidator paid, or rounding alone
    /// could leave the account's LHF below where it was (invariant 5).
    function _reduceDebt(Account storage acct, uint256 scaled, uint256 index, uint256 amount, bool eraseAtLeast)
        private
        returns (uint256 repaid)
    {
        uint256 debt = M.mulWadUp(scaled, index);
        uint256 removed;
        if (amount >= debt) {
            repaid = debt;
            removed = scaled;
        } else {
            repaid = amount;
            removed = eraseAtLeast ? M.min(M.divWadUp(amount, index), scaled) : M.divWad(amount, index);
        }
        acct.scaledDebt = uint128(scaled - removed);
        _pool.totalScaledDebt -= uint128(M.min(removed, _pool.totalScaledDebt));
    }

    function _release(uint64 chainId, Release memory release) private returns (bytes32) {
        return outbox.send(chainId, _vaults[chainId], MarginMessages.encodeRelease(release), RELEASE_GAS);
    }

    function _deliverUsdc(uint64 chainId, address recipient, uint256 amount) private returns (bytes32) {
        if (_usdcPool == address(0)) syncUsdcPool();
        TokenAmount[] memory tokens = new TokenAmount[](1);
        tokens[0] = TokenAmount(address(usdc), amount);
        return outbox.sendWithTokens(chainId, recipient, "", 0, MessageLib.FINALITY_FINAL, tokens);
    }

    /// @dev Accrues interest to now: index ×= 1 + rate·Δt (compounding at every accrual).
    function _accrue() private returns (uint256 index) {
        Pool memory pool = _pool;
        index = pool.borrowIndex;
        if (pool.lastAccrual == block.timestamp) return index;
        index = _currentIndex();
        _pool = Pool(uint96(index), uint32(block.timestamp), pool.totalScaledDebt);
    }

    function _currentIndex() private view returns (uint256) {
        Pool memory pool = _pool;
        uint256 elapsed = block.timestamp - pool.lastAccrual;
        if (elapsed == 0 || pool.totalScaledDebt == 0) return pool.borrowIndex;
        uint256 debt = M.mulWadUp(pool.totalScaledDebt, pool.borrowIndex);
        uint256 utilization = M.divWad(debt, _liquidity.cash + debt);
        uint256 growth = M.mulDivUp(_rate(utilization), elapsed, LatencyMath.YEAR);
        return M.mulWadUp(pool.borrowIndex, WAD + growth);
    }

    /// @dev base + slope1·U/kink below the kink; base + slope1 + slope2·(U − kink)/(1 − kink) above.
    function _rate(uint256 utilization) private view returns (uint256) {
        RateModel memory m = _rateModel;
        if (m.kink == 0) return m.baseRate;
        if (utilization <= m.kink) return m.baseRate + M.fullMulDiv(m.slope1, utilization, m.kink);
        return m.baseRate + m.slope1 + M.fullMulDiv(m.slope2, utilization - m.kink, WAD - m.kink);
    }

    function _divUp(uint256 x, uint256 d) private pure returns (uint256) {
        return x == 0 ? 0 : (x - 1) / d + 1;
    }

    /// @dev Listed as eligible, and for a reserve-backed asset, backed right now.
    function _eligible(Asset storage asset, uint64 chainId, address token) private view returns (bool) {
        if (!asset.enabled) return false;
        return !asset.gated || collateralGate.isEligible(chainId, token);
    }

    function _positionKey(uint64 chainId, address token) private pure returns (bytes32) {
        return bytes32((uint256(chainId) << 160) | uint256(uint160(token)));
    }

    function _decimalsOf(address token) private view returns (uint8) {
        (bool ok, bytes memory data) = token.staticcall(abi.encodeWithSignature("decimals()"));
        if (!ok || data.length < 32) revert EngineInvalidConfig("token without decimals()");
        uint256 value = abi.decode(data, (uint256));
        if (value > 18) revert EngineInvalidConfig("token decimals > 18");
        return uint8(value);
    }

    function _lanePauseFlags(uint64 chainId) internal view override returns (uint8) {
        return _chains[chainId].pauseFlags;
    }

    function _setLanePauseFlags(uint64 chainId, uint8 flags) internal override {
        _chains[chainId].pauseFlags = flags;
    }
}
