"""The compiled AnchorRegistry artifact, committed and loaded at run time (no solc, no brownie)."""
