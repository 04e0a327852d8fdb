// SPDX-License-Identifier: MIT
// ethvoip's hardened key store.  What it fixes in the paper's contract (KeyStorePaper.sol):
//   * proof of possession: every key enters the store only with a secp256k1 signature by that
//     key over (domain tag, chain id, this contract, identifier, sender), checked with ecrecover;
//   * no front-running: registration is commit-reveal (ENS ETHRegistrarController style), the
//     commitment binds identifier, key, sender and a secret, and must be between
//     minCommitmentAge and maxCommitmentAge old when revealed;
//   * no receipt, nor anything a SIP credential derives from, is ever stored or emitted;
//   * phone numbers never appear: identifiers are keccak256(tag || operator salt || E.164),
//     computed off chain;
//   * approval names the exact key (hash) and version; rotation is signed by the current key;
//     revocation by the current key or the operator; recovery by the operator is time-locked
//     and the current key can cancel it.
// Every state change emits an event; every refusal is a custom error.
pragma solidity 0.8.37;

contract KeyStore {
    enum Status {
        None,
        Pending,
        Approved,
        Revoked
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
        uint64 serial; // names this announcement in the veto signature (never reused)
    }

    // Domain tags: a signature for one purpose never verifies for another.
    bytes32 public constant POSSESSION_TAG = keccak256("ethvoip.KeyStore.possession.v1");
    bytes32 public constant ROTATE_TAG = keccak256("ethvoip.KeyStore.rotate.v1");
    bytes32 public constant REVOKE_TAG = keccak256("ethvoip.KeyStore.revoke.v1");
    bytes32 public constant CANCEL_RECOVERY_TAG = keccak256("ethvoip.KeyStore.cancelRecovery.v1");

    // secp256k1 group order / 2: signatures with a larger s are the malleated twin of another.
    uint256 private constant HALF_ORDER =
        0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    address public immutable operator;
    uint256 public immutable minCommitmentAge;
    uint256 public immutable maxCommitmentAge;
    uint256 public immutable recoveryDelay;

    mapping(bytes32 => Record) public records;
    mapping(bytes32 => uint256) public commitments;
    mapping(bytes32 => Recovery) public recoveries;
    uint64 public recoveryCount;

    event Committed(bytes32 indexed commitment);
    event Registered(bytes32 indexed identifier, uint64 version, bytes publicKey, address indexed registrant);
    event Approved(bytes32 indexed identifier, uint64 version, bytes32 keyHash);
    event Rotated(bytes32 indexed identifier, uint64 version, bytes publicKey);
    event Revoked(bytes32 indexed identifier, uint64 version, bool byOperator);
    event RecoveryAnnounced(
        bytes32 indexed identifier, uint64 version, bytes publicKey, uint64 executableAt, uint64 serial
    );
    event RecoveryCancelled(bytes32 indexed identifier, uint64 version);
    event RecoveryExecuted(bytes32 indexed identifier, uint64 version, bytes publicKey);

    error BadConfiguration();
    error NotOperator();
    error UnexpiredCommitmentExists(bytes32 commitment);
    error CommitmentNotFound(bytes32 commitment);
    error CommitmentTooNew(bytes32 commitment);
    error CommitmentTooOld(bytes32 commitment);
    error BadPublicKeyLength(uint256 length);
    error BadSignature();
    error WrongSigner(address expected, address recovered);
    error AlreadyApproved(bytes32 identifier);
    error NotPending(bytes32 identifier);
    error NotApproved(bytes32 identifier);
    error NotActive(bytes32 identifier);
    error KeyMismatch(bytes32 expected, bytes32 actual);
    error VersionMismatch(uint64 expected, uint64 actual);
    error RecoveryAlreadyPending(bytes32 identifier);
    error NoRecoveryPending(bytes32 identifier);
    error RecoveryNotReady(bytes32 identifier, uint64 executableAt);

    constructor(uint256 minAge, uint256 maxAge, uint256 delay) {
        if (minAge >= maxAge || delay == 0) revert BadConfiguration();
        operator = msg.sender;
        minCommitmentAge = minAge;
        maxCommitmentAge = maxAge;
        recoveryDelay = delay;
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

    /// Step 2: reveal.  The key goes to Pending with a new version; a Pending entry may be
    /// replaced (the operator approves one exact key and version), an Approved one may not.
    function register(
        bytes32 identifier,
        bytes calldata publicKey,
        bytes32 secret,
        bytes calldata signature
    ) external {
        _consumeCommitment(keccak256(abi.encode(identifier, publicKey, msg.sender, secret)));
        Record storage r = records[identifier];
        if (r.status == Status.Approved) revert AlreadyApproved(identifier);
        (bytes32 x, bytes32 y) = _splitKey(publicKey);
        _checkSigner(_possessionDigest(identifier, msg.sender), signature, publicKey);
        uint64 version = r.version + 1;
        r.x = x;
        r.y = y;
        r.version = version;
        r.status = Status.Pending;
        emit Registered(identifier, version, publicKey, msg.sender);
    }

    /// The operator approves the pending key it has checked off chain, naming it exactly.
    function approve(bytes32 identifier, bytes32 keyHash, uint64 version) external onlyOperator {
        Record storage r = records[identifier];
        if (r.status != Status.Pending) revert NotPending(identifier);
        if (r.version != version) revert VersionMismatch(r.version, version);
        bytes32 actual = keccak256(abi.encodePacked(r.x, r.y));
        if (actual != keyHash) revert KeyMismatch(actual, keyHash);
        r.status = Status.Approved;
        emit Approved(identifier, version, keyHash);
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
        uint64 version = r.version + 1;
        bytes32 digest = keccak256(
            abi.encode(ROTATE_TAG, block.chainid, address(this), identifier, keccak256(newPublicKey), version)
        );
        _checkSigner(digest, currentKeySignature, abi.encodePacked(r.x, r.y));
        _checkSigner(_possessionDigest(identifier, msg.sender), newKeySignature, newPublicKey);
        r.x = x;
        r.y = y;
        r.version = version;
        _clearRecovery(identifier, version);
        emit Rotated(identifier, version, newPublicKey);
    }

    /// The holder of the current (pending or approved) key withdraws it.
    function revoke(bytes32 identifier, bytes calldata signature) external {
        Record storage r = records[identifier];
        if (r.status != Status.Pending && r.status != Status.Approved) revert NotActive(identifier);
        bytes32 digest = keccak256(abi.encode(REVOKE_TAG, block.chainid, address(this), identifier, r.version));
        _checkSigner(digest, signature, abi.encodePacked(r.x, r.y));
        _revoke(identifier, r, false);
    }

    /// The operator withdraws a key (a squatter's pending entry, a reported compromise).
    function operatorRevoke(bytes32 identifier) external onlyOperator {
        Record storage r = records[identifier];
        if (r.status != Status.Pending && r.status != Status.Approved) revert NotActive(identifier);
        _revoke(identifier, r, true);
    }

    // ------------------------------------------------------------------ recovery

    /// The operator announces that it will replace a lost key after recoveryDelay.  The new key
    /// proves possession with the operator as sender.
    function announceRecovery(bytes32 identifier, bytes calldata newPublicKey, bytes calldata signature)
        external
        onlyOperator
    {
        Record storage r = records[identifier];
        if (r.status != Status.Approved) revert NotApproved(identifier);
        if (recoveries[identifier].executableAt != 0) revert RecoveryAlreadyPending(identifier);
        _splitKey(newPublicKey);
        _checkSigner(_possessionDigest(identifier, msg.sender), signature, newPublicKey);
        uint64 executableAt = uint64(block.timestamp + recoveryDelay);
        uint64 serial = ++recoveryCount;
        recoveries[identifier] = Recovery(keccak256(newPublicKey), executableAt, serial);
        emit RecoveryAnnounced(identifier, r.version, newPublicKey, executableAt, serial);
    }

    /// The current key vetoes a pending recovery.  The signature names that announcement
    /// (key hash and serial), so it cannot be replayed against a later one.
    function cancelRecovery(bytes32 identifier, bytes calldata signature) external {
        Recovery storage rec = recoveries[identifier];
        if (rec.executableAt == 0) revert NoRecoveryPending(identifier);
        Record storage r = records[identifier];
        bytes32 digest = keccak256(
            abi.encode(
                CANCEL_RECOVERY_TAG, block.chainid, address(this), identifier, rec.keyHash, rec.serial
            )
        );
        _checkSigner(digest, signature, abi.encodePacked(r.x, r.y));
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
        Record storage r = records[identifier];
        uint64 version = r.version + 1;
        r.x = x;
        r.y = y;
        r.version = version;
        delete recoveries[identifier];
        emit RecoveryExecuted(identifier, version, newPublicKey);
    }

    // ------------------------------------------------------------------ reads

    /// The approved key of an identifier (64 bytes) and its version.
    function lookup(bytes32 identifier) external view returns (bytes memory publicKey, uint64 version) {
        Record storage r = records[identifier];
        if (r.status != Status.Approved) revert NotApproved(identifier);
        return (abi.encodePacked(r.x, r.y), r.version);
    }

    /// The digest a key signs to prove possession for `identifier` when `sender` submits.
    function possessionDigest(bytes32 identifier, address sender) external view returns (bytes32) {
        return _possessionDigest(identifier, sender);
    }

    // ------------------------------------------------------------------ internals

    function _consumeCommitment(bytes32 commitment) private {
        uint256 committedAt = commitments[commitment];
        if (committedAt == 0) revert CommitmentNotFound(commitment);
        if (committedAt + minCommitmentAge > block.timestamp) revert CommitmentTooNew(commitment);
        if (committedAt + maxCommitmentAge < block.timestamp) revert CommitmentTooOld(commitment);
        delete commitments[commitment];
    }

    function _revoke(bytes32 identifier, Record storage r, bool byOperator) private {
        uint64 version = r.version;
        r.x = 0;
        r.y = 0;
        r.status = Status.Revoked;
        _clearRecovery(identifier, version);
        emit Revoked(identifier, version, byOperator);
    }

    function _clearRecovery(bytes32 identifier, uint64 version) private {
        if (recoveries[identifier].executableAt != 0) {
            delete recoveries[identifier];
            emit RecoveryCancelled(identifier, version);
        }
    }

    function _possessionDigest(bytes32 identifier, address sender) private view returns (bytes32) {
        return keccak256(abi.encode(POSSESSION_TAG, block.chainid, address(this), identifier, sender));
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
