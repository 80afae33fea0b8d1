"""HTTP pieces shared by rewardlab's web apps (the scoring server, and the annotation app to come).

- ``auth.py``: API keys (which key a request offers, constant-time checks, a FastAPI dependency).
- ``middleware.py``: plain ASGI middleware: the key check before the body is read (401), the body
  limit (413), per-request accounting.
- ``errors.py``: the one error body ``{"error": {"type", "message"}}`` and the handlers mapping
  rewardlab's ``ServeError`` tree, schema violations and unexpected failures onto it.
"""
