#!/usr/bin/env python3
"""Loads pages in headless Chromium and reports what a person and the browser saw.

Drives Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages
separated by NUL bytes on fds 3 and 4), so nothing beyond the Python standard library and the
browser is needed. For every viewport width and URL it records the HTTP status, the visible
text, the document's width against the viewport's (horizontal scrolling), the number of script
elements, console errors, uncaught exceptions, Content-Security-Policy violations, and saves a
full-page screenshot.

usage: page_check.py --out DIR --widths 375,1440 URL...    (report as JSON on stdout)
"""
import argparse
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="page-check-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def wire_pipes():
            # Move both ends above 3 and 4 first, so neither dup2 overwrites the other.
            a, b = os.dup(to_browser_r), os.dup(from_browser_w)
            high_a, high_b = os.dup2(a, 100), os.dup2(b, 101)
            os.dup2(high_a, 3)
            os.dup2(high_b, 4)

        self.process = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
             "--remote-debugging-pipe", f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire_pipes, pass_fds=(3, 4),
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            for reply in self._read(deadline):
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
                self.events.append(reply)

    def wait_for(self, method, session, timeout=30):
        deadline = time.time() + timeout
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == method and event.get("sessionId") == session:
                    del self.events[index]
                    return event
            self.events.extend(self._read(deadline))

    def _read(self, deadline):
        while b"\0" not in self.buffer:
            remaining = deadline - time.time()
            if remaining <= 0:
                raise TimeoutError("the browser did not answer in time")
            ready, _, _ = select.select([self.from_browser], [], [], remaining)
            if ready:
                chunk = os.read(self.from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError("the browser exited")
                self.buffer += chunk
        messages = []
        while b"\0" in self.buffer:
            raw, self.buffer = self.buffer.split(b"\0", 1)
            messages.append(json.loads(raw))
        return messages

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


MEASURE = """JSON.stringify({
  title: document.title,
  text: document.body ? document.body.innerText : "",
  scrollWidth: document.documentElement.scrollWidth,
  viewportWidth: window.innerWidth,
  scripts: document.querySelectorAll("script").length,
  navigationVisible: [...document.querySelectorAll("nav.site a")].every(a => { const r = a.getBoundingClientRect(); return r.width > 0 && r.right <= window.innerWidth; })
})"""


def check(browser, session, url, width, out_dir, index):
    browser.events = [e for e in browser.events if e.get("sessionId") != session]
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}, session)
    browser.send("Page.navigate", {"url": url}, session)
    browser.wait_for("Page.loadEventFired", session)
    measured = json.loads(browser.send("Runtime.evaluate", {"expression": MEASURE, "returnByValue": True}, session)["result"]["value"])
    shot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)
    screenshot = os.path.join(out_dir, f"{index:02d}-{width}.png")
    with open(screenshot, "wb") as file:
        file.write(base64.b64decode(shot["data"]))
    # Late console messages and reports arrive after the load event; collect what is queued.
    browser.send("Runtime.evaluate", {"expression": "1"}, session)
    status, console, exceptions, csp = None, [], [], []
    for event in browser.events:
        if event.get("sessionId") != session:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.responseReceived" and params.get("type") == "Document" and status is None:
            status = params["response"]["status"]
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            exceptions.append(params["exceptionDetails"].get("text", ""))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            text = entry.get("text", "") + (f" ({entry['url']})" if entry.get("url") else "")
            (csp if "Content Security Policy" in text else console).append(text)
        elif method == "Audits.issueAdded" and params["issue"].get("code") == "ContentSecurityPolicyIssue":
            details = params["issue"]["details"].get("contentSecurityPolicyIssueDetails", {})
            csp.append(f"{details.get('violatedDirective', '?')}: {details.get('blockedURL', 'inline')}")
    return dict(measured, url=url, width=width, status=status, console=console, exceptions=exceptions,
                csp=sorted(set(csp)), screenshot=screenshot)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--widths", default="375,1440")
    parser.add_argument("--browser", default=shutil.which("chromium") or "chromium")
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    browser = Browser(args.browser)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network", "Audits"):
            browser.send(f"{domain}.enable", {}, session)
        pages = []
        for width in (int(w) for w in args.widths.split(",")):
            for index, url in enumerate(args.urls):
                pages.append(check(browser, session, url, width, args.out, index))
        json.dump({"pages": pages}, sys.stdout)
    finally:
        browser.close()


if __name__ == "__main__":
    main()
