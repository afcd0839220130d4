"""CLI start-up: `popsurvey --help` and a command's --help against a bare interpreter start.

    .venv/bin/python bench/bench_cli_startup.py [--repeat 7]

Each command runs in a fresh interpreter `--repeat` times; the median wall time is printed
with its ratio to `python -c pass` (the baseline, timed in the same run) and to
`python -c "import pandas"` (what a heavy import costs on this machine right now), and the
heavy modules (pandas, numpy, scipy) each command loaded.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

PROBE = (
    "import sys, json\n"
    "from surveys.cli import main\n"
    "try:\n"
    "    main.main(sys.argv[1:], standalone_mode=False)\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(json.dumps(sorted(m for m in ('pandas', 'numpy', 'scipy') if m in sys.modules)),"
    " file=sys.stderr)\n"
)

CASES = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "python -c 'import pandas'": [sys.executable, "-c", "import pandas"],
    "popsurvey --help": [sys.executable, "-c", PROBE, "--help"],
    "popsurvey estimate --help": [sys.executable, "-c", PROBE, "estimate", "--help"],
    "popsurvey sample draw --help": [sys.executable, "-c", PROBE, "sample", "draw", "--help"],
}


def timed(command: list[str], repeat: int) -> tuple[float, str]:
    """Median wall time of ``command`` and the heavy modules it reported."""
    times, heavy = [], ""
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - start)
        lines = done.stderr.strip().splitlines()
        heavy = ", ".join(json.loads(lines[-1])) if lines and lines[-1].startswith("[") else ""
    return statistics.median(times), heavy


def main() -> None:
    """Time every case and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    results = {name: timed(command, args.repeat) for name, command in CASES.items()}
    base = results["python -c pass (baseline)"][0]
    pandas = results["python -c 'import pandas'"][0]
    for name, (seconds, heavy) in results.items():
        print(
            f"{name:<32} {seconds:6.3f} s  {seconds / base:5.2f}x baseline  "
            f"{seconds / pandas:5.2f}x import pandas  heavy: {heavy or '-'}"
        )


if __name__ == "__main__":
    main()
