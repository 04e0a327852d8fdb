// SPDX-License-Identifier: MIT
// The key store of Kfoury & Khoury, "Secure End-to-End VoIP System Based on Ethereum
// Blockchain", section III.A.2, as published.  Its flaws are kept on purpose, because the
// attacks in ethvoip.attacks reproduce them:
//   * the receipt token (from which the SIP password is derived: password = hash(receipt))
//     travels in calldata and is stored on chain in clear;
//   * addClient sits in the public mempool, so anyone can copy its arguments and front-run it;
//   * nothing proves that the caller holds the private key of the public key it registers.
pragma solidity 0.8.37;

contract KeyStorePaper {
    struct Client {
        string phoneNumber;
        bytes publicKey;
        string receipt;
        bool exists;
    }

    // "the wallet management is the contract deployer"
    address public immutable creator;

    // "a mapping data structure indexed by the receipt tokens"
    mapping(string => Client) public pendingList;
    mapping(string => Client) public approvedList;
    // getClient(phoneNumber) needs to find the approved entry of a number.
    mapping(string => string) public receiptOf;

    event ClientAdded(string phoneNumber, bytes publicKey, string receipt, address indexed sender);
    event ClientApproved(string phoneNumber, bytes publicKey, string receipt);

    error NotCreator();
    error ReceiptAlreadyUsed();
    error NotPending();
    error PhoneNumberMismatch();
    error UnknownClient();

    constructor() {
        creator = msg.sender;
    }

    /// Anyone may add a pending entry; the first writer of a receipt wins ("a malicious user
    /// cannot overwrite a stored record").
    function addClient(string calldata phoneNumber, bytes calldata publicKey, string calldata receipt)
        external
    {
        if (pendingList[receipt].exists || approvedList[receipt].exists) revert ReceiptAlreadyUsed();
        pendingList[receipt] = Client(phoneNumber, publicKey, receipt, true);
        emit ClientAdded(phoneNumber, publicKey, receipt, msg.sender);
    }

    /// Only the creator (the wallet management) moves an entry from pending to approved.
    function approveClient(string calldata phoneNumber, string calldata receipt) external {
        if (msg.sender != creator) revert NotCreator();
        Client storage entry = pendingList[receipt];
        if (!entry.exists) revert NotPending();
        if (keccak256(bytes(entry.phoneNumber)) != keccak256(bytes(phoneNumber))) {
            revert PhoneNumberMismatch();
        }
        approvedList[receipt] = entry;
        receiptOf[phoneNumber] = receipt;
        emit ClientApproved(phoneNumber, entry.publicKey, receipt);
        delete pendingList[receipt];
    }

    /// The approved public key of a phone number.
    function getClient(string calldata phoneNumber) external view returns (bytes memory) {
        Client storage entry = approvedList[receiptOf[phoneNumber]];
        if (!entry.exists) revert UnknownClient();
        return entry.publicKey;
    }
}
