// SPDX-License-Identifier: MIT
// ethvoip's hardened key store.  What it fixes in the paper's contract (KeyStorePaper.sol):
//   * proof of possession: every key enters the store only with an EIP-712 signature by that
//     key naming the function, this contract, the chain, the identifier, the registrant and
//     the record's version, checked with ecrecover;
//   * no front-running: registration is commit-reveal (ENS ETHRegistrarController style), the
//     commitment binds identifier, key, sender and a secret, and must be between
//     minCommitmentAge and maxCommitmentAge old when revealed;
//   * no receipt, nor anything a SIP credential derives from, is ever stored or emitted;
//   * phone numbers never appear: identifiers are keccak256(tag || operator salt || E.164),
//     computed off chain.
// The key life cycle (issue 13, docs/contracts.rst "Life cycle"):
//   * a key enters the store at most once, ever, for any number (`keys`, set by its
//     registration, rotation to it or recovery to it): a revoked, rotated out or replaced key
//     never becomes active again, and no signature of it is accepted twice;
//   * pending registrations live beside the records, one per key, expire after pendingTtl and
//     never block another registration of the same number;
//   * the operator approves a key only for a number that has none (None or Revoked); its
//     kill switch (operatorRevoke) suspends a key (lookups fail at once) but the only way to
//     a new key for a number with an approved or suspended key is the current key's own
//     rotation or revocation, or the time-locked recovery that the current key can veto;
//   * every signature is EIP-712 typed data of its own type, naming the record's version or
//     the recovery's serial: none verifies for a second function or twice;
//   * the operator role moves in two steps (propose, accept).
// Every state change emits an event; every refusal is a custom error.
pragma solidity 0.8.37;

contract KeyStore {
    // Append only: the light client reads `status == Approved` (2).
    enum Status {
        None,
        Pending, // v1 only: pending registrations no longer live in records
        Approved,
        Revoked,
        Suspended
    }

    // x and y of the uncompressed secp256k1 key (64 bytes, no 0x04 prefix), then version and
    // status packed in one slot.  The light client reads these three slots; it takes their
    // positions from the committed storageLayout, never from this comment.
    struct Record {
        bytes32 x;
        bytes32 y;
        uint64 version;
        Status status;
    }

    struct Recovery {
        bytes32 keyHash;
        uint64 executableAt;
        uint64 serial; // names this announcement in the consent and veto signatures
    }

    // EIP-712: the domain and one struct type per function that checks a signature.
    bytes32 private constant DOMAIN_TYPE = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 private constant NAME_HASH = keccak256("ethvoip KeyStore");
    bytes32 private constant VERSION_HASH = keccak256("2");
    bytes32 public constant REGISTER_TYPE = keccak256(
        "Register(bytes32 identifier,bytes32 keyHash,address registrant,uint64 recordVersion)"
    );
    bytes32 public constant ROTATE_TYPE =
        keccak256("Rotate(bytes32 identifier,bytes32 newKeyHash,uint64 version)");
    bytes32 public constant ROTATE_TO_TYPE =
        keccak256("RotateTo(bytes32 identifier,bytes32 newKeyHash,uint64 version)");
    bytes32 public constant REVOKE_TYPE = keccak256("Revoke(bytes32 identifier,uint64 version)");
    bytes32 public constant RECOVERY_TYPE =
        keccak256("Recovery(bytes32 identifier,bytes32 newKeyHash,uint64 serial)");
    bytes32 public constant VETO_TYPE =
        keccak256("Veto(bytes32 identifier,bytes32 newKeyHash,uint64 serial)");

    // keys[keyHash]: 0 = never seen; otherwise the key has entered the store, for ever: USED
    // (rotated to, recovered to, or a dropped registration) or its registration's word,
    // registeredAt (top 64 bits) | the low 192 bits of keccak256(abi.encode(identifier,
    // recordVersion, registrant)), which approve checks (pending while unexpired and the
    // record still at recordVersion).  One word per key, written once, keeps commit +
    // register + approve under 200k gas (docs/contracts.rst, Gas).
    bytes32 private constant USED = bytes32(uint256(1));
    uint256 private constant BINDING_MASK = (1 << 192) - 1;

    // secp256k1 group order / 2: signatures with a larger s are the malleated twin of another.
    uint256 private constant HALF_ORDER =
        0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    uint256 public immutable minCommitmentAge;
    uint256 public immutable maxCommitmentAge;
    uint256 public immutable recoveryDelay;
    uint256 public immutable pendingTtl;
    uint256 private immutable cachedChainId;
    bytes32 private immutable cachedDomainSeparator;

    mapping(bytes32 => Record) public records;
    mapping(bytes32 => uint256) public commitments;
    mapping(bytes32 => Recovery) public recoveries;
    uint64 public recoveryCount;
    mapping(bytes32 => bytes32) public keys;
    address public operator;
    address public pendingOperator;

    event Committed(bytes32 indexed commitment);
    event Registered(bytes32 indexed identifier, bytes32 indexed keyHash, uint64 recordVersion, address registrant);
    event Approved(bytes32 indexed identifier, uint64 version, bytes32 keyHash);
    event Rotated(bytes32 indexed identifier, uint64 version, bytes publicKey);
    event Revoked(bytes32 indexed identifier, uint64 version);
    event Suspended(bytes32 indexed identifier, uint64 version);
    event RecoveryAnnounced(
        bytes32 indexed identifier, uint64 version, bytes publicKey, uint64 executableAt, uint64 serial
    );
    event RecoveryCancelled(bytes32 indexed identifier, uint64 version);
    event RecoveryExecuted(bytes32 indexed identifier, uint64 version, bytes publicKey);
    event PendingDropped(bytes32 indexed keyHash);
    event OperatorProposed(address indexed operator, address indexed proposed);
    event OperatorTransferred(address indexed previous, address indexed operator);

    error BadConfiguration();
    error NotOperator();
    error NotProposedOperator();
    error UnexpiredCommitmentExists(bytes32 commitment);
    error CommitmentNotFound(bytes32 commitment);
    error CommitmentTooNew(bytes32 commitment);
    error CommitmentTooOld(bytes32 commitment);
    error BadPublicKeyLength(uint256 length);
    error BadSignature();
    error WrongSigner(address expected, address recovered);
    error KeyAlreadyUsed(bytes32 keyHash);
    error NotPending(bytes32 keyHash);
    error PendingExpired(bytes32 keyHash);
    error NumberInUse(bytes32 identifier, Status status);
    error NotApproved(bytes32 identifier);
    error NotActive(bytes32 identifier);
    error KeyMismatch(bytes32 expected, bytes32 actual);
    error VersionMismatch(uint64 expected, uint64 actual);
    error RecoveryAlreadyPending(bytes32 identifier);
    error NoRecoveryPending(bytes32 identifier);
    error RecoveryNotReady(bytes32 identifier, uint64 executableAt);

    constructor(uint256 minAge, uint256 maxAge, uint256 delay, uint256 ttl) {
        if (minAge >= maxAge || delay == 0 || ttl == 0 || ttl >= 1 << 63) revert BadConfiguration();
        operator = msg.sender;
        minCommitmentAge = minAge;
        maxCommitmentAge = maxAge;
        recoveryDelay = delay;
        pendingTtl = ttl;
        cachedChainId = block.chainid;
        cachedDomainSeparator = _buildDomainSeparator();
    }

    modifier onlyOperator() {
        if (msg.sender != operator) revert NotOperator();
        _;
    }

    // ------------------------------------------------------------------ registration

    /// Step 1 of registration: publish keccak256(abi.encode(identifier, publicKey, sender,
    /// secret)).  Reveals nothing about the number or the key.
    function commit(bytes32 commitment) external {
        // A commitment may be refreshed only once the previous one has expired (ENS rule):
        // otherwise anyone could reset a victim's clock by re-committing the same value.
        if (commitments[commitment] + maxCommitmentAge >= block.timestamp) {
            revert UnexpiredCommitmentExists(commitment);
        }
        commitments[commitment] = block.timestamp;
        emit Committed(commitment);
    }

    /// Step 2: reveal.  The key becomes a pending registration for (identifier,
    /// recordVersion) by the sender; it touches no record, so it blocks nobody.
    function register(
        bytes32 identifier,
        bytes calldata publicKey,
        bytes32 secret,
        uint64 recordVersion,
        bytes calldata signature
    ) external {
        _consumeCommitment(keccak256(abi.encode(identifier, publicKey, msg.sender, secret)));
        _splitKey(publicKey);
        bytes32 keyHash = _freshKey(publicKey);
        _checkSigner(
            _digest(keccak256(abi.encode(REGISTER_TYPE, identifier, keyHash, msg.sender, recordVersion))),
            signature,
            publicKey
        );
        keys[keyHash] = bytes32(
            (block.timestamp << 192) | (uint256(_binding(identifier, recordVersion, msg.sender)) & BINDING_MASK)
        );
        emit Registered(identifier, keyHash, recordVersion, msg.sender);
    }

    /// The operator approves the pending registration it has checked off chain, naming the
    /// key, the registrant and the record's version exactly.  Only a number without a key
    /// (never registered, or revoked by its holder) gets one this way.
    function approve(bytes32 identifier, bytes32 x, bytes32 y, uint64 recordVersion, address registrant)
        external
        onlyOperator
    {
        bytes32 keyHash = keccak256(abi.encodePacked(x, y));
        bytes32 entry = keys[keyHash];
        if (entry == USED) revert KeyAlreadyUsed(keyHash);
        if (
            entry == 0
                || (uint256(entry) & BINDING_MASK)
                    != (uint256(_binding(identifier, recordVersion, registrant)) & BINDING_MASK)
        ) revert NotPending(keyHash);
        if (uint256(entry >> 192) + pendingTtl < block.timestamp) revert PendingExpired(keyHash);
        Record storage r = records[identifier];
        Status status = r.status;
        if (status != Status.None && status != Status.Revoked) revert NumberInUse(identifier, status);
        if (r.version != recordVersion) revert VersionMismatch(r.version, recordVersion);
        uint64 version = recordVersion + 1;
        r.x = x;
        r.y = y;
        r.version = version;
        r.status = Status.Approved;
        emit Approved(identifier, version, keyHash);
    }

    /// The operator voids a registration before it is approved (a squatter's, a mistaken
    /// one).  The key stays used: its holder registers a new one.
    function dropPending(bytes32 keyHash) external onlyOperator {
        bytes32 entry = keys[keyHash];
        if (entry == 0 || entry == USED) revert NotPending(keyHash);
        keys[keyHash] = USED;
        emit PendingDropped(keyHash);
    }

    // ------------------------------------------------------------------ life cycle

    /// The current key hands over to a new one; the new key proves possession.  Any pending
    /// recovery is void: the subscriber evidently still holds its key.
    function rotate(
        bytes32 identifier,
        bytes calldata newPublicKey,
        bytes calldata currentKeySignature,
        bytes calldata newKeySignature
    ) external {
        Record storage r = records[identifier];
        if (r.status != Status.Approved) revert NotApproved(identifier);
        (bytes32 x, bytes32 y) = _splitKey(newPublicKey);
        bytes32 newKeyHash = _freshKey(newPublicKey);
        uint64 version = r.version;
        _checkSigner(
            _digest(keccak256(abi.encode(ROTATE_TYPE, identifier, newKeyHash, version))),
            currentKeySignature,
            abi.encodePacked(r.x, r.y)
        );
        _checkSigner(
            _digest(keccak256(abi.encode(ROTATE_TO_TYPE, identifier, newKeyHash, version))),
            newKeySignature,
            newPublicKey
        );
        r.x = x;
        r.y = y;
        r.version = version + 1;
        keys[newKeyHash] = USED;
        _clearRecovery(identifier, version + 1);
        emit Rotated(identifier, version + 1, newPublicKey);
    }

    /// The holder of the current (approved or suspended) key withdraws it.  The number is
    /// then open for a new registration, which the operator approves only with a fresh
    /// proof of owning the number (its service burns the old receipts).
    function revoke(bytes32 identifier, bytes calldata signature) external {
        Record storage r = records[identifier];
        if (r.status != Status.Approved && r.status != Status.Suspended) revert NotActive(identifier);
        uint64 version = r.version;
        _checkSigner(
            _digest(keccak256(abi.encode(REVOKE_TYPE, identifier, version))),
            signature,
            abi.encodePacked(r.x, r.y)
        );
        r.x = 0;
        r.y = 0;
        r.version = version + 1;
        r.status = Status.Revoked;
        _clearRecovery(identifier, version + 1);
        emit Revoked(identifier, version + 1);
    }

    /// The operator's kill switch: lookups of the number fail at once.  Availability, not
    /// impersonation: the key stays in the record, keeps its veto over a recovery and may
    /// still revoke itself; a new key comes only through recovery.
    function operatorRevoke(bytes32 identifier) external onlyOperator {
        Record storage r = records[identifier];
        if (r.status != Status.Approved) revert NotApproved(identifier);
        uint64 version = r.version + 1;
        r.version = version;
        r.status = Status.Suspended;
        emit Suspended(identifier, version);
    }

    // ------------------------------------------------------------------ recovery

    /// The operator announces that it will replace a lost (or suspended) key after
    /// recoveryDelay.  The new key consents to this announcement (its serial).
    function announceRecovery(bytes32 identifier, bytes calldata newPublicKey, bytes calldata signature)
        external
        onlyOperator
    {
        Record storage r = records[identifier];
        if (r.status != Status.Approved && r.status != Status.Suspended) revert NotActive(identifier);
        if (recoveries[identifier].executableAt != 0) revert RecoveryAlreadyPending(identifier);
        _splitKey(newPublicKey);
        bytes32 newKeyHash = _freshKey(newPublicKey);
        uint64 serial = recoveryCount + 1;
        _checkSigner(
            _digest(keccak256(abi.encode(RECOVERY_TYPE, identifier, newKeyHash, serial))),
            signature,
            newPublicKey
        );
        recoveryCount = serial;
        uint64 executableAt = uint64(block.timestamp + recoveryDelay);
        recoveries[identifier] = Recovery(newKeyHash, executableAt, serial);
        emit RecoveryAnnounced(identifier, r.version, newPublicKey, executableAt, serial);
    }

    /// The current key vetoes a pending recovery.  The signature names that announcement
    /// (key hash and serial), so it cannot be replayed against a later one.
    function cancelRecovery(bytes32 identifier, bytes calldata signature) external {
        Recovery storage rec = recoveries[identifier];
        if (rec.executableAt == 0) revert NoRecoveryPending(identifier);
        Record storage r = records[identifier];
        _checkSigner(
            _digest(keccak256(abi.encode(VETO_TYPE, identifier, rec.keyHash, rec.serial))),
            signature,
            abi.encodePacked(r.x, r.y)
        );
        _clearRecovery(identifier, r.version);
    }

    /// After the delay, the operator installs the announced key as the approved one.
    function executeRecovery(bytes32 identifier, bytes calldata newPublicKey) external onlyOperator {
        Recovery storage rec = recoveries[identifier];
        uint64 executableAt = rec.executableAt;
        if (executableAt == 0) revert NoRecoveryPending(identifier);
        if (block.timestamp < executableAt) revert RecoveryNotReady(identifier, executableAt);
        (bytes32 x, bytes32 y) = _splitKey(newPublicKey);
        bytes32 keyHash = keccak256(newPublicKey);
        if (keyHash != rec.keyHash) revert KeyMismatch(rec.keyHash, keyHash);
        _freshKey(newPublicKey);
        Record storage r = records[identifier];
        uint64 version = r.version + 1;
        r.x = x;
        r.y = y;
        r.version = version;
        r.status = Status.Approved;
        keys[keyHash] = USED;
        delete recoveries[identifier];
        emit RecoveryExecuted(identifier, version, newPublicKey);
    }

    // ------------------------------------------------------------------ operator role

    function proposeOperator(address proposed) external onlyOperator {
        pendingOperator = proposed;
        emit OperatorProposed(msg.sender, proposed);
    }

    function acceptOperator() external {
        if (msg.sender != pendingOperator || msg.sender == address(0)) revert NotProposedOperator();
        address previous = operator;
        operator = msg.sender;
        pendingOperator = address(0);
        emit OperatorTransferred(previous, msg.sender);
    }

    // ------------------------------------------------------------------ reads

    /// The approved key of an identifier (64 bytes) and its version.
    function lookup(bytes32 identifier) external view returns (bytes memory publicKey, uint64 version) {
        Record storage r = records[identifier];
        if (r.status != Status.Approved) revert NotApproved(identifier);
        return (abi.encodePacked(r.x, r.y), r.version);
    }

    /// True once a key has entered the store (registered, rotated to or recovered to): it
    /// can never be registered, rotated to or recovered to again.
    function keyUsed(bytes32 keyHash) external view returns (bool) {
        return keys[keyHash] != 0;
    }

    /// The EIP-712 domain separator (name "ethvoip KeyStore", version "2").
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparator();
    }

    // ------------------------------------------------------------------ internals

    function _consumeCommitment(bytes32 commitment) private {
        uint256 committedAt = commitments[commitment];
        if (committedAt == 0) revert CommitmentNotFound(commitment);
        if (committedAt + minCommitmentAge > block.timestamp) revert CommitmentTooNew(commitment);
        if (committedAt + maxCommitmentAge < block.timestamp) revert CommitmentTooOld(commitment);
        delete commitments[commitment];
    }

    /// Reverts unless `publicKey` has never entered the store; its hash.
    function _freshKey(bytes calldata publicKey) private view returns (bytes32 keyHash) {
        keyHash = keccak256(publicKey);
        if (keys[keyHash] != 0) revert KeyAlreadyUsed(keyHash);
    }

    function _clearRecovery(bytes32 identifier, uint64 version) private {
        if (recoveries[identifier].executableAt != 0) {
            delete recoveries[identifier];
            emit RecoveryCancelled(identifier, version);
        }
    }

    function _binding(bytes32 identifier, uint64 recordVersion, address registrant) private pure returns (bytes32) {
        return keccak256(abi.encode(identifier, recordVersion, registrant));
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPE, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    // Recomputed if the chain id changes (a fork): a signature for one chain never verifies
    // on the other.
    function _domainSeparator() private view returns (bytes32) {
        return block.chainid == cachedChainId ? cachedDomainSeparator : _buildDomainSeparator();
    }

    function _digest(bytes32 structHash) private view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(), structHash));
    }

    function _splitKey(bytes calldata publicKey) private pure returns (bytes32 x, bytes32 y) {
        if (publicKey.length != 64) revert BadPublicKeyLength(publicKey.length);
        x = bytes32(publicKey[0:32]);
        y = bytes32(publicKey[32:64]);
    }

    /// Reverts unless `signature` (r || s || v, low s, v in {27, 28}) over `digest` recovers to
    /// the Ethereum address of `publicKey` (the last 20 bytes of its keccak256).
    function _checkSigner(bytes32 digest, bytes calldata signature, bytes memory publicKey) private pure {
        if (signature.length != 65) revert BadSignature();
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > HALF_ORDER || (v != 27 && v != 28)) revert BadSignature();
        address recovered = ecrecover(digest, v, r, s);
        if (recovered == address(0)) revert BadSignature();
        address expected = address(uint160(uint256(keccak256(publicKey))));
        if (recovered != expected) revert WrongSigner(expected, recovered);
    }
}
