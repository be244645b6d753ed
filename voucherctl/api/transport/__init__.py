"""HTTP as both APIs need it: one session, a bound on a whole exchange (the watchdog), no
redirects, retries of reads, quota pacing shared by every worker, and failures told in a few
words without the request's secrets (docs/contract.md#hosts-and-transport).
"""
