"""Print one closing line for the whole suite from the JUnit reports of its pytest runs.

Usage: python tools/test_summary.py REPORT.xml [...]  ->  "total: N passed, N failed, N skipped"
Exits 1 when a report is missing or a run executed no test.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def main(paths: list[str]) -> int:
    passed = failed = skipped = 0
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as exc:
            print(f"missing or unreadable test report {path}: {exc}", file=sys.stderr)
            return 1
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        run = 0
        for suite in suites:
            tests, fail, err, skip = (
                int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")
            )
            run += tests - skip
            failed += fail + err
            skipped += skip
            passed += tests - fail - err - skip
        if run == 0:
            print(f"{path}: no test was executed", file=sys.stderr)
            return 1
    print(f"total: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
