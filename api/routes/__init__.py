"""Thin route modules: each parses, calls `anchor`, and shapes the answer."""
