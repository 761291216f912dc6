"""Helpers shared by the test suites (plain modules: conftest files hold fixtures only)."""
