"""Reference implementation: crypto, wire codecs, role machines, chain client, VoIP stack."""
