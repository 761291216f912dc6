"""The anchoring service, in data-flow order: intake, batcher, submitter, proofs, worker.

Plus its metrics and logs. It uses the store and the chain; it never imports the API.
"""
