// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {Delivery, DeliveredToken} from "../../src/messaging/interfaces/IMessageReceiver.sol";
import {MessageReader} from "../messaging/utils/MessageReader.sol";
import {SentMessages} from "../messaging/utils/SentMessages.sol";
import {Outbox} from "../../src/messaging/Outbox.sol";
import {BurnMintPool} from "../../src/messaging/pools/BurnMintPool.sol";
import {
    AssetParams, ChainParams, Globals, Health, MarginEngine, RateModel
} from "../../src/margin/MarginEngine.sol";
import {LatencyModel} from "../../src/margin/LatencyModel.sol";
import {Credit, MarginMessages, Release} from "../../src/margin/MarginMessages.sol";
import {BurnMintERC20} from "../../src/tokens/BurnMintERC20.sol";
import {MockAggregator} from "./mocks/MockAggregator.sol";
import {TestAssets} from "./utils/TestAssets.sol";

/// @title MarginFixture
/// @notice The hub side: a MarginEngine with a real Outbox (for release and borrow-delivery messages)
/// and a USDC burn/mint pool. The test contract plays the hub's Inbox, handing the engine verified
/// deliveries directly — verification has its own tests (contracts/test/messaging); here it is the
/// engine's accounting that is under test. Spoke vaults are plain addresses: the engine only checks
/// that a credit comes from the vault registered for its chain.
abstract contract MarginFixture is Test {
    using MessageReader for bytes;

    uint64 internal constant L1 = 31_001;
    uint64 internal constant HUB = 31_002;
    uint64 internal constant BASE = 31_003;
    uint64 internal constant BANK = 31_004;
    uint256 internal constant WAD = 1e18;

    address internal owner = makeAddr("owner");
    address internal guardian = makeAddr("guardian");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal lender = makeAddr("lender");
    address internal liquidator = makeAddr("liquidator");
    address internal stranger = makeAddr("stranger");
    address internal vaultL1 = makeAddr("vaultL1");
    address internal vaultBase = makeAddr("vaultBase");
    address internal vaultBank = makeAddr("vaultBank");
    /// @dev Token addresses on the spokes (the engine never calls them).
    address internal wethL1 = makeAddr("wethL1");
    address internal wethBase = makeAddr("wethBase");
    address internal wbtcBank = makeAddr("wbtcBank");

    Outbox internal outbox;
    MarginEngine internal engine;
    BurnMintERC20 internal usdc;
    BurnMintPool internal usdcPool;
    MockAggregator internal ethFeed;
    MockAggregator internal btcFeed;
    uint16 internal weth;
    uint16 internal wbtc;
    uint256 private _nonce;

    function setUp() public virtual {
        vm.chainId(HUB);
        vm.warp(1_700_000_000);
        usdc = new BurnMintERC20("USD Coin", "USDC", 6, owner);
        outbox = new Outbox(owner, guardian);
        engine = new MarginEngine(owner, guardian, outbox, address(this), HUB, usdc, new LatencyModel());
        usdcPool = new BurnMintPool(usdc, address(outbox), address(0xdead));
        ethFeed = new MockAggregator(8, 3000e8);
        btcFeed = new MockAggregator(8, 60_000e8);

        vm.startPrank(owner);
        usdc.setMinter(owner, true);
        usdc.setMinter(address(usdcPool), true);
        outbox.setLane(L1, true);
        outbox.setLane(BASE, true);
        outbox.setLane(BANK, true);
        outbox.setPool(address(usdc), usdcPool);
        weth = engine.listAsset(_wethParams());
        wbtc = engine.listAsset(_wbtcParams());
        engine.setAssetToken(L1, wethL1, weth);
        engine.setAssetToken(BASE, wethBase, weth);
        engine.setAssetToken(BANK, wbtcBank, wbtc);
        engine.setChain(L1, ChainParams(vaultL1, 60, 60, 0.02e18, 1e18, true));
        engine.setChain(BASE, ChainParams(vaultBase, 60, 60, 0.02e18, 1e18, true));
        engine.setChain(BANK, ChainParams(vaultBank, 60, 60, 0.02e18, 1e18, true));
        engine.setGlobals(Globals(60, 1020, 600, 1.1e18, 2000e18));
        engine.setRateModel(RateModel(0, 0.04e18, 0.75e18, 0.8e18));
        usdc.mint(lender, 1_000_000e6);
        usdc.mint(liquidator, 1_000_000e6);
        vm.stopPrank();

        vm.startPrank(lender);
        usdc.approve(address(engine), type(uint256).max);
        engine.supply(1_000_000e6);
        vm.stopPrank();
        vm.prank(liquidator);
        usdc.approve(address(engine), type(uint256).max);
    }

    function _wethParams() internal view returns (AssetParams memory) {
        return TestAssets.weth(ethFeed);
    }

    function _wbtcParams() internal view returns (AssetParams memory) {
        return TestAssets.wbtc(btcFeed);
    }

    // ---------------------------------------------------------------- deliveries

    function _vaultOf(uint64 chainId) internal view returns (address) {
        return chainId == L1 ? vaultL1 : chainId == BASE ? vaultBase : vaultBank;
    }

    function _delivery(uint64 chainId, address sender, bytes memory payload) internal returns (Delivery memory) {
        return Delivery(keccak256(abi.encode("message", ++_nonce)), chainId, sender, new DeliveredToken[](0), payload);
    }

    /// @notice Delivers a vault's credit as the hub Inbox would after verification.
    function _credit(uint64 chainId, address account, address token, uint256 amount) internal {
        _creditAndBorrow(chainId, account, token, amount, 0, 0, address(0));
    }

    function _creditAndBorrow(
        uint64 chainId,
        address account,
        address token,
        uint256 amount,
        uint256 borrowAmount,
        uint64 borrowChainId,
        address recipient
    ) internal {
        Credit memory credit =
            Credit(account, token, amount, uint64(block.timestamp), borrowAmount, borrowChainId, recipient);
        engine.receiveMessage(_delivery(chainId, _vaultOf(chainId), MarginMessages.encodeCredit(credit)));
    }

    /// @notice The release carried by the last message the hub Outbox sent (consumes recorded logs).
    function _lastRelease() internal returns (bytes memory message, Release memory release) {
        message = SentMessages.last(address(outbox));
        release = this.decodeRelease(message.payload());
    }

    function decodeRelease(bytes calldata payload) external pure returns (Release memory) {
        return MarginMessages.decodeRelease(payload);
    }

    function _health(address account) internal view returns (Health memory) {
        return engine.healthOf(account);
    }

    /// @notice Sets the ETH price (8 decimals) as fresh.
    function _ethPrice(int256 price) internal {
        ethFeed.set(price, block.timestamp);
    }
}
