"""Names that vulture cannot see used, read by vulture only (never imported).

brownie runs an operator script's functions by name: `brownie run scripts/issuers.py revoke ...`;
`http.server` calls a handler's `do_GET`.
"""

from scripts import issuers  # type: ignore[import-not-found]
from tests.cli.test_client import _Receipts

_ = [issuers.revoke, _Receipts.do_GET]
