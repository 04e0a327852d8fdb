"""My first protocol (nothing in it yet)."""
