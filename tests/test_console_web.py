"""``lander console --web`` in a real headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium): the page connects, the console runs on the virtual
board for the browser, and live values arrive in the terminal the page draws."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)),
    reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
)

#: Keeps what the page's terminal receives over its WebSocket, as text, for the test to read.
RECORD_TERMINAL = """
window.__terminal = "";
const Native = window.WebSocket;
window.WebSocket = function (url, protocols) {
  const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
  const decoder = new TextDecoder();
  ws.addEventListener("message", (e) => {
    if (typeof e.data !== "string") {
      window.__terminal += decoder.decode(new Uint8Array(e.data), {stream: true});
    }
  });
  return ws;
};
window.WebSocket.prototype = Native.prototype;
Object.assign(window.WebSocket, Native);
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, server: subprocess.Popen, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert server.poll() is None, server.stderr.read() if server.stderr else "server died"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


@pytest.mark.vm
@pytest.mark.pty
@pytest.mark.slow
def test_the_console_in_a_browser_shows_live_values(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    port = free_port()
    flash = tmp_path / "flash"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ground.cli",
            "console",
            "--web",
            "--port",
            str(port),
            "--link",
            f"sil://?autostart=1&time_warp=10&flash={flash}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # the server and the console it starts: one group to stop
    )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-extensions",
        "--window-size=1280,800",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(flag)
    driver = None
    try:
        wait_for_port(port, server)
        driver = webdriver.Chrome(service=Service(DRIVER), options=options)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_TERMINAL})
        driver.get(f"http://127.0.0.1:{port}/")

        def vehicle_times(d) -> set[str]:
            text = d.execute_script("return window.__terminal || ''")
            return set(re.findall(r"T\+(\d+\.\d)s", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)))

        # The console boots its virtual board and draws; the vehicle clock moves on screen.
        WebDriverWait(driver, 60, poll_frequency=0.2).until(lambda d: len(vehicle_times(d)) >= 3)
        text = driver.execute_script("return window.__terminal")
        assert "LANDER-1" in text and "Flight F1" in text
        assert driver.execute_script("return document.body.classList.contains('-first-byte')")
        driver.save_screenshot(str(tmp_path / "console-in-chromium.png"))
    finally:
        if driver is not None:
            driver.quit()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
