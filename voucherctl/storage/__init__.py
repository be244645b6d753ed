"""What voucherctl keeps on disk: config.toml and its profiles, private files (0600 in 0700
folders, only what voucherctl creates), the codes taken out of SPiD, and the ledger.

The ledger (docs/contract.md#the-ledger) is one record of every change voucherctl makes (single
commands and bulk rows), of the bulk runs that made them, and of the processes that hold those
runs. Bulk runs, resume, the guard across runs, ``audit`` and ``runs`` read it; nothing else
keeps a copy.

- ``location``: where the ledger is (``VOUCHERCTL_LEDGER``, config.toml's ``ledger``, or
  ``ledger.sqlite3`` in the data directory) and opening it;
- ``engines``: SQLite (the default, one machine) and PostgreSQL (a team), behind one interface:
  serialised write transactions, and locks that die with the process holding them;
- ``migrations``: the schema, one numbered step at a time, the same on both engines;
- ``ledger``: sessions, runs, and the per-row guard that keeps every change at most once;
- ``reading``: what ``audit`` and ``runs`` show;
- ``imports``: journals and ``audit.jsonl`` written by earlier versions, imported once.
"""
