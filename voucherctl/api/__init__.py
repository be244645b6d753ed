"""The two remote APIs, as clients that send, read and check answers and never print.

``transport/`` is the HTTP every client shares; ``spid/`` and ``spaaza/`` are one client each.
Below ``ui``; above ``secrets`` (credential sets) and ``core`` (docs/architecture.md#layers).
"""
