"""The Spaaza client: sessions and tokens, the result envelope and its errors, and the voucher
calls: claim, unclaim, lock, unlock, redeem, a user's vouchers
(docs/contract.md#wire-facts-spaaza).
"""
