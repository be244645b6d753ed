"""How long the secret scrub takes over a large answer: 1 MB with 5 registered secrets.

    python bench/scrub.py [--runs 15] [--size 1000000] [--json]

Unlike the other benchmarks this one imports voucherctl (its ``redact`` module): the scrub runs
inside the process on every line printed and on every body ``--verbose`` shows, so it is timed
there. The body is JSON that looks like a large SPiD answer (text, numbers, base64 blobs, URLs
with percent-encoding, a few ``&`` and ``\\u`` escapes) with no secret in it, the common case,
and once more with each secret echoed in a few encodings. Registering the 5 secrets (which
builds the patterns) is timed apart. Times are CPU time of the process (the scrub is CPU-bound;
on a shared machine wall time mostly measures the others). Goal: the scrub of 1 MB stays under
100 ms (median), and registering 5 secrets under 100 ms.

Measured on the 2-core development machine (CPU time, medians): the scrub that knew a fixed
list of whole forms took 4.7 ms for 1 MB and missed 15 of the 16 echoes; a pattern per secret
(each character as itself or any escape) took 55 ms but 9 ms to build for a 40-character secret
and 217 ms for an 800-character JWT; the decoded view takes 55 to 60 ms for this 1 MB (33,000
escapes in it), masks all 16, and 2 ms to register 5 secrets.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import statistics
import sys
import time
from urllib.parse import quote

SECRETS = [
    "tokA/b+c=Zq9",
    "sK/ey+9=abcQ",
    "cl&Sec/r+t=99",
    "canary-sign-secret-0001",
    "Zm9v/YmFy+YmF6=",
]
GOAL_SCRUB_MS = 100.0
GOAL_REGISTER_MS = 100.0


def body(size: int, echoed: bool) -> str:
    rng = random.Random(7)
    words = ["voucher", "group", "handout", "SPP Container", "caf\u00e9", "a&b", "x=1", "%2F"]
    items = []
    length = 0
    while length < size:
        blob = base64.b64encode(rng.randbytes(48)).decode()
        item = {
            "voucherCode": f"{rng.randrange(10**6):06d}-{rng.choice(words)}",
            "note": " ".join(rng.choice(words) for _ in range(8)),
            "url": "https://spid.test/api/2/voucher/" + quote(f"code {rng.random()}", safe=""),
            "blob": blob,
            "html": "&lt;b&gt; \\u00e9 &#47;",
        }
        if echoed and len(items) % 500 == 0:
            secret = SECRETS[len(items) // 500 % len(SECRETS)]
            item["echo"] = f"{quote(secret)} {base64.b64encode(b'xx' + secret.encode()).decode()}"
        text = json.dumps(item)
        items.append(text)
        length += len(text) + 2
    return "[" + ",\n".join(items) + "]"


def timed(run: int, call: object) -> list[float]:
    times = []
    for _ in range(run):
        start = time.process_time()  # CPU time: the scrub is CPU-bound, and other load waits
        call()  # type: ignore[operator]
        times.append((time.process_time() - start) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from voucherctl.core import redact

    start = time.process_time()
    redact.register(*SECRETS)
    redact.scrub("warm up: builds whatever the scrub builds once")
    register_ms = (time.process_time() - start) * 1000
    results: dict[str, object] = {"register 5 secrets, CPU (ms)": round(register_ms, 1)}
    ok = register_ms <= GOAL_REGISTER_MS
    for name, echoed in (("clean", False), ("with echoes", True)):
        text = body(args.size, echoed)
        scrubbed = redact.scrub(text)
        masked = scrubbed.count(redact.MASK) - text.count(redact.MASK)
        median = statistics.median(timed(args.runs, lambda t=text: redact.scrub(t)))
        results[f"scrub {len(text) / 1e6:.1f} MB {name}, median CPU (ms)"] = round(median, 1)
        results[f"masked in {name}"] = masked
        ok = ok and median <= GOAL_SCRUB_MS
    results["verdict"] = "PASS" if ok else "FAIL"
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key:<42} {value}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
