"""Take the README's screenshot of the Today page from a running demo server.

Usage: .venv/bin/python tools/screenshot_today.py [BASE_URL] [OUT.png]
Logs in as the demo clinician (fictional) with Debian's Chromium; no browser download.
"""

from __future__ import annotations

import sys

from playwright.sync_api import sync_playwright

from openiop.demo.cast import DEMO_PASSWORD


def main() -> None:
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
    out = sys.argv[2] if len(sys.argv) > 2 else "docs/today.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Username").fill("clinician")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=out, full_page=False)
        browser.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
