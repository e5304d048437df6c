"""Headless Chromium (Debian's ``chromium``) for the report tests: one run loads a page, dumps the
DOM its script left, takes a screenshot, and reports what the page wrote to the console.

Console messages are read from Chromium's own log (``--enable-logging=stderr --v=0`` prints
each as a ``CONSOLE`` line); the report's Content-Security-Policy turns any attempt to fetch
something, or an inline script it does not know, into such a line too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "headless Chromium is not installed: apt-get install chromium (make sysdeps)"
_CONSOLE = re.compile(r"^\[[^\]]*:CONSOLE[^\]]*\]\s*(?P<msg>.*)$")


def chromium() -> str | None:
    return os.environ.get("REGIONCTL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Page:
    dom: str  # document.documentElement.outerHTML after the page's script ran
    console: list[str]  # every console message (log, warning, error, CSP violation, uncaught exception)
    screenshot: Path
    log: str  # Chromium's whole stderr, for failure messages


def load(page: Path, work: Path, width: int = 1280, height: int = 1800) -> Page:
    """Open ``page`` once: DOM, console and a PNG screenshot (kept in ``work``)."""
    exe = chromium()
    assert exe is not None, INSTALL_HINT
    work.mkdir(parents=True, exist_ok=True)
    shot = work / (page.stem + ".png")
    args = [exe, "--headless", "--no-sandbox", f"--user-data-dir={work / 'profile'}", "--disable-gpu",
            "--no-first-run", "--disable-extensions", "--disable-background-networking",
            "--enable-logging=stderr", "--v=0", "--hide-scrollbars", f"--window-size={width},{height}",
            f"--screenshot={shot}", "--dump-dom", page.resolve().as_uri()]
    p = subprocess.run(args, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, f"chromium exited {p.returncode}: {p.stderr[-3000:]}"
    console = [m.group("msg") for line in p.stderr.splitlines() if (m := _CONSOLE.match(line))]
    return Page(p.stdout, console, shot, p.stderr)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
