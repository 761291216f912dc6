"""anchor: anchor document digests on a proof-of-authority Ethereum network.

Importing this package has no side effects and pulls in no heavy dependency; the modules
are imported one by one (`anchor.merkle`, `anchor.proof`, `anchor.verify`, ...).
"""

__version__ = "0.1.0"
