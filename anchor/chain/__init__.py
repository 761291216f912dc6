"""The chain: one client policy, the registry binding and reader, fees, keys, the dev chain.

Everything that speaks JSON-RPC lives here; the layers above (service, verify) call it.
"""
