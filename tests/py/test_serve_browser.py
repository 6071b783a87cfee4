#!/usr/bin/python3
"""The explorer page of `s2s serve` in a real browser: Debian's Chromium,
headless, driven over the DevTools protocol (tests/py/serve_support.py).

It loads the page, types a sentence key by key, and checks against the
command's own jsonl output for the page's options (beam 4, n-best 3, hard
alignment): the translation, the n-best list, the heatmap cells (one per
step and source token, with the command's weights), the row and column
labels, and the alignment links; hovers a cell and reads the read-out
(target token, source token, weight); picks another hypothesis; downloads
the heatmap SVG and parses it; checks that the page asked nothing of any
other origin and logged no error; saves a screenshot (to $S2S_SCREENSHOT
when set) and checks that it is not blank.

Skips, saying so, when chromium is not installed. Prints "N passed, M
failed" (tests/py/harness.py).
"""
import base64
import collections
import json
import os
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from serve_support import MODELS, S2S, Chromium, Server, png_pixels, run_s2s  # noqa: E402

SENTENCE = "Je suis très content de te voir."
FRA_ENG = os.path.join(MODELS, "fra-eng")


def check(what, ok, detail=""):
    """One check, named; the detail is shown when it fails."""
    if H.check(ok, "%s: %s" % (what, detail)):
        print("ok   " + what)


def shown(tok):
    """A token as the page labels it."""
    return "␣" if tok == " " else tok.replace("\uFFED", "·")


def expected():
    rc, out, err = run_s2s("translate", "-m", FRA_ENG, "--beam", "4", "--n-best", "3", "--alignment", "hard",
                           "--format", "jsonl", SENTENCE)
    assert rc == 0, err
    return json.loads(out)


def center(b, selector, index=0):
    """Viewport coordinates of the centre of the index-th match."""
    return b.evaluate("(() => { const r = document.querySelectorAll(%s)[%d].getBoundingClientRect(); "
                      "return [r.x + r.width / 2, r.y + r.height / 2]; })()" % (json.dumps(selector), index))


def click(b, selector, index=0):
    x, y = center(b, selector, index)
    b.call("Input.dispatchMouseEvent", session=True, type="mouseMoved", x=x, y=y)
    for kind in ("mousePressed", "mouseReleased"):
        b.call("Input.dispatchMouseEvent", session=True, type=kind, x=x, y=y, button="left", clickCount=1)


def type_text(b, text):
    b.evaluate("document.getElementById('input').focus()")
    for ch in text:
        b.call("Input.insertText", session=True, text=ch)


def check_result(b, want):
    best = want["hypotheses"][0]
    got = b.wait_for("document.querySelector('#lines .translation')?.textContent")
    check("translation shown is the command's", got == best["text"], "%r != %r" % (got, best["text"]))
    rows = b.evaluate("[...document.querySelectorAll('#nbest tr.hyp td:nth-child(2)')].map(e => e.textContent)")
    check("n-best list is the command's", rows == [h["text"] for h in want["hypotheses"]], rows)


def check_heatmap(b, want, k=0):
    h = want["hypotheses"][k]
    cells = b.evaluate("[...document.querySelectorAll('#heatmap .cell')].map(c => [+c.dataset.i, +c.dataset.j, "
                       "+c.dataset.w])")
    n_src = len(want["source_tokens"])
    check("hypothesis %d: one heatmap cell per step and source token" % k,
          len(cells) == len(h["attention"]) * n_src, "%d cells" % len(cells))
    worst = max((abs(w - h["attention"][i][j]) for i, j, w in cells), default=1)
    check("hypothesis %d: cell weights are the command's attention" % k, worst < 1e-6, "off by %g" % worst)
    cols = b.evaluate("[...document.querySelectorAll('#heatmap .col-label')].map(e => e.textContent)")
    rows = b.evaluate("[...document.querySelectorAll('#heatmap .row-label')].map(e => e.textContent)")
    check("column labels are the source tokens", cols == [shown(t) for t in want["source_tokens"]], cols)
    want_rows = [shown(t) for t in h["tokens"]] + (["</s>"] if h["finished"] else [])
    check("row labels are the output tokens", rows == want_rows, rows)
    links = b.evaluate("[...document.querySelectorAll('#links .link')].map(l => l.dataset.j + '-' + l.dataset.i)")
    check("hypothesis %d: alignment links are the command's" % k, " ".join(links) == h["alignment"],
          "%r != %r" % (links, h["alignment"]))
    return cells


def check_hover(b, want):
    h = want["hypotheses"][0]
    row = h["attention"][1]
    j = max(range(len(row)), key=lambda x: row[x])
    index = 1 * len(row) + j
    x, y = center(b, "#heatmap .cell", index)
    b.call("Input.dispatchMouseEvent", session=True, type="mouseMoved", x=x, y=y)
    got = b.wait_for("document.getElementById('readout-weight') && [document.getElementById('readout-target')"
                     ".textContent, document.getElementById('readout-source').textContent, "
                     "document.getElementById('readout-weight').textContent]")
    wanted = [shown(h["tokens"][1]), shown(want["source_tokens"][j]), "%.4f" % row[j]]
    check("hover read-out: target, source, weight", got == wanted, "%r != %r" % (got, wanted))


def check_download(b, want, folder):
    b.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=folder, eventsEnabled=True)
    click(b, "#download")
    b.wait_event("Browser.downloadProgress", timeout=20, where=lambda p: p.get("state") == "completed")
    path = os.path.join(folder, "attention.svg")
    root = ET.parse(path).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    cells = [r for r in root.iter(ns + "rect") if r.get("class") == "cell"]
    h = want["hypotheses"][0]
    check("downloaded SVG parses and has every cell", root.tag == ns + "svg" and
          len(cells) == len(h["attention"]) * len(want["source_tokens"]), "%d cells" % len(cells))


def check_screenshot(b):
    png = base64.b64decode(b.call("Page.captureScreenshot", session=True, format="png")["data"])
    path = os.environ.get("S2S_SCREENSHOT") or os.path.join(tempfile.gettempdir(), "s2s-explorer.png")
    with open(path, "wb") as f:
        f.write(png)
    small = base64.b64decode(b.call("Page.captureScreenshot", session=True, format="png",
                                    clip={"x": 0, "y": 0, "width": 1400, "height": 800, "scale": 0.5})["data"])
    w, h, rows = png_pixels(small)
    pixels = [p[:3] for r in rows for p in r]
    counts = collections.Counter(pixels)
    background, n_background = counts.most_common(1)[0]
    share = 1 - n_background / len(pixels)
    blue = sum(p[2] > 120 and p[0] < 60 for p in pixels)
    colors = len(counts)
    check("screenshot is not blank (%s, %dx%d)" % (path, w, h), share > 0.05 and colors > 30 and blue > 200,
          "%.1f%% not background, %d colours, %d dark blue" % (100 * share, colors, blue))


def main():
    if not H.s2s() or not os.path.exists(os.path.join(FRA_ENG, "config.json")):
        H.skip_all("%s or models/fra-eng is missing" % S2S)
    try:
        browser = Chromium()
    except FileNotFoundError:
        H.skip_all("chromium is not installed (tools/build/install-deps.sh test installs it)")
    t0 = time.time()
    server = Server("-m", FRA_ENG, "-m", os.path.join(MODELS, "dates"), "-q")
    folder = tempfile.mkdtemp(prefix="s2s-download-")
    try:
        want = expected()
        b = browser
        b.call("Network.enable", session=True)
        b.call("Page.navigate", session=True, url="http://127.0.0.1:%d/" % server.port)
        b.wait_event("Page.loadEventFired")
        b.wait_for("document.querySelectorAll('#model option').length === 2")
        type_text(b, SENTENCE)
        check_result(b, want)
        check_heatmap(b, want)
        check_hover(b, want)
        check_download(b, want, folder)
        check_screenshot(b)
        click(b, "#nbest tr.hyp", 1)
        b.wait_for("document.querySelector('#nbest tr.hyp.selected td').textContent === '2'")
        check_heatmap(b, want, 1)
        origin = "http://127.0.0.1:%d/" % server.port
        urls = [e["params"]["request"]["url"] for e in b.events if e.get("method") == "Network.requestWillBeSent"]
        check("the page fetched only from its server", urls and all(u.startswith((origin, "blob:", "data:"))
                                                                    for u in urls), urls)
        problems = [e for e in b.events if e.get("method") == "Runtime.exceptionThrown" or
                    (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")]
        check("no script error or console error", not problems, json.dumps(problems)[:500])
    except Exception as e:  # a browser or protocol failure
        check("browser session", False, "%s: %s" % (type(e).__name__, e))
    finally:
        browser.close()
        server.stop()
        server.close()
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)
    print("test_serve_browser: %.1f s" % (time.time() - t0))
    H.finish()


if __name__ == "__main__":
    main()
