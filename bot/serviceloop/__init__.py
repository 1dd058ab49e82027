"""The service loop (点单 → 派单 → 接单 → 配套 → 评单): the order lifecycle (pure), orders, dispatch, the ledger.

Domain: the database and the outbox; no Flask, channels, chat or console (tests/test_walls.py).
"""
