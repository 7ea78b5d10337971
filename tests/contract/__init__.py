"""One behaviour suite for every history store (ops/history/protocol.py)."""
