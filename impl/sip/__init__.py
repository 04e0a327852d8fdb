"""SIP (RFC 3261 subset) for ethvoip: sans-IO codec, transactions, dialogs, digest, UA core."""
