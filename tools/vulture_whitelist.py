"""Names that vulture cannot see used, read by vulture only (never imported).

brownie runs an operator script's functions by name: `brownie run scripts/issuers.py revoke ...`.
"""

from scripts import issuers  # type: ignore[import-not-found]

_ = [issuers.revoke]
