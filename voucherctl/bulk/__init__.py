"""Bulk runs: ``--from FILE`` rows sent at most once, journalled, resumable.

What users are promised: docs/contract.md#bulk-runs.

- ``rows``: reading and validating the CSV input, streamed;
- ``journal``: the append-only record that makes a run resumable;
- ``runner``: the worker pool, rate limits, interruption;
- ``report``: per-row output, progress and summary.
"""
