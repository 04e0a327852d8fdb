"""Tests of the impl layer: crypto, wire codec, handshake role machines."""
