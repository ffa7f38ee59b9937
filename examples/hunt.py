"""Hunt a round automatically with the SDK: find where the model errs, patch, check, submit.

Run: ``BOUNTY_SERVER=http://127.0.0.1:8000 BOUNTY_API_KEY=bbk_... uv run python examples/hunt.py
adult-income-demo --budget 5`` (the same as ``bounty hunt``). Prints each step, then the
model's holdout loss over its versions.
"""

from __future__ import annotations

import argparse
import os

from bounty_client import BountyClient
from bounty_client.hunter import BountyHunter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("slug")
    parser.add_argument("--budget", type=int, default=5)
    args = parser.parse_args()
    with BountyClient(os.environ["BOUNTY_SERVER"], api_key=os.environ["BOUNTY_API_KEY"]) as client:
        report = BountyHunter(client, args.slug, log=print).run(budget=args.budget)
        print(f"{len(report.accepted)} of {len(report.attempts)} accepted; {report.stopped}")
        for point in client.history(args.slug).versions:
            print(f"version {point.version}: holdout loss {point.holdout_loss}")


if __name__ == "__main__":
    main()
