"""The HTTP API of the anchoring service: HTTP in, `anchor` calls out.

Build the application with `api.app.create_app`; run it with
``uvicorn --factory api.app:create_app``.
"""
