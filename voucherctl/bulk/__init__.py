"""Bulk runs: ``--from FILE`` rows sent at most once, recorded in the ledger, resumable.

What users are promised: docs/contract.md#bulk-runs.

- ``rows``: reading and validating the CSV input, streamed;
- ``runner``: naming the run and finding it in the ledger;
- ``sending``: the worker pool, each row decided in the ledger as it is sent, interruption;
- ``report``: per-row output, progress and summary.
"""
