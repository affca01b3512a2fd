"""Screenshot the reader's page of a running service, with one citation opened.

    python scripts/screenshot_faq.py http://127.0.0.1:8000 --out docs/faq-page.png --phone /tmp/faq-phone.png

Uses the system Chromium (``/usr/bin/chromium`` by default) through Playwright; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


def open_first_citation(page: Any) -> str:
    """Click the first FAQ citation marker and wait for its highlighted sentence; returns the mark's text."""
    marker = page.locator(".faq-list button.cite").first
    marker.click()
    panel = page.locator("#" + str(marker.get_attribute("aria-controls")))
    mark = panel.locator("mark")
    mark.wait_for(state="visible")
    return str(mark.text_content())


def screenshot(page: Any, url: str, path: Path, *, open_citation: bool = True) -> None:
    """Load ``url``, optionally open a citation, and save a full-page screenshot to ``path``."""
    page.goto(url)
    page.locator(".faq-list .qa").first.wait_for(state="visible")
    if open_citation:
        open_first_citation(page)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the service's base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=Path("docs/faq-page.png"), help="desktop screenshot (1280 wide)")
    parser.add_argument("--phone", type=Path, default=None, help="also save a 390-wide phone screenshot here")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=args.chromium,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.new_page()
            screenshot(page, args.url, args.out)
            print(f"saved {args.out}")
            if args.phone:
                page.set_viewport_size({"width": 390, "height": 844})
                screenshot(page, args.url, args.phone)
                print(f"saved {args.phone}")
        finally:
            context.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
