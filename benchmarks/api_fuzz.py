"""API fuzzing: schemathesis over the public and the staff API (tests/test_api_fuzz.py, the real app
on loopback) with more examples per operation than the test run; prints the requests sent, their
status codes and the server errors (the figure must be 0).

    cd benchmarks && ../.venv/bin/python api_fuzz.py                 # 100 examples per operation
    cd benchmarks && ../.venv/bin/python api_fuzz.py --examples 300

Needs the test extra (`pip install -e .[test]`: schemathesis, pytest).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

TEST = Path(__file__).resolve().parents[1] / "tests" / "test_api_fuzz.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=100, help="examples per operation (the test runs 20)")
    args = parser.parse_args()
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(TEST)],
        env=os.environ | {"FUZZ_EXAMPLES": str(args.examples)}, capture_output=True, text=True, cwd=TEST.parents[1],
    )
    lines = run.stdout.splitlines()
    summary = [line[line.index("schemathesis:"):] for line in lines if "schemathesis:" in line]
    print("\n".join(summary) or "no summary (see the pytest output below)")
    print(f"pytest: {lines[-1] if lines else run.stderr.strip()[-500:]} ({time.monotonic() - started:.0f} s)")
    if run.returncode:
        print("\n".join(line for line in lines if "SUBFAIL" in line or "Reproduce" in line or "curl" in line)[:5000])
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
