"""The SPiD client: server tokens, the SPP container (errors, quota, signed answers), vouchers,
voucher groups and the codes taken out of them (docs/contract.md#wire-facts-spid).
"""
