"""The protocol catalogue: one module per protocol, each with a paper and a hardened variant."""
