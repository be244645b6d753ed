"""Where credentials come from, in the documented order (environment, profile, keyring), the
credential sets the API clients take, and the keyring entries, named by API, host and id
(docs/contract.md#credentials).
"""
