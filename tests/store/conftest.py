"""The store tests run on both backends (the ``backend`` fixture in tests/conftest.py)."""
