"""Names that vulture cannot see used, read by vulture only (never imported).

brownie runs an operator script's functions by name: `brownie run scripts/keys.py annul_all ...`;
`http.server` calls a handler's `do_GET`; FastAPI reads a security scheme's `scheme_name`.
"""

from api.deps import ApiKey
from scripts import admin, bodies, keys, status  # type: ignore[import-not-found]
from tests.cli.test_client import _Receipts

_ = [
    admin.begin_transfer,
    admin.accept_transfer,
    admin.cancel_transfer,
    admin.change_delay,
    admin.rollback_delay,
    admin.revoke,
    bodies.rename,
    bodies.suspend,
    bodies.reactivate,
    bodies.retire,
    keys.rotate,
    keys.retire,
    keys.compromise,
    keys.annul,
    keys.annul_all,
    status.lift,
    status.supersede,
    status.extend,
    _Receipts.do_GET,
    ApiKey.scheme_name,
]
