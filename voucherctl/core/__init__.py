"""What every layer shares and nothing else owns: exit codes and error types, escaping text for a
terminal, and the secret scrub every byte written passes through. Imports nothing of voucherctl.
"""
