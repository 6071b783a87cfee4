#!/usr/bin/python3
"""doc_examples.py - runs the command examples of the documentation again and
compares (or replaces) the output shown under each.

    tools/build/doc_examples.py [--update] [--serve "SERVE OPTIONS"] [FILE.md ...]
                                                          (default: README.md docs/*.md)

An example is an indented code line starting with `$ ` (continued by lines
ending in a backslash); the indented lines after it, up to the next example
or the end of the code block, are its output. Each command runs under bash
from a scratch directory beside the checkout that links the checkout's
models/, tests/, tools/ and build/, so that relative paths (`models/...`,
`../shared/data/...`) mean what they mean at the top of the checkout and
files an example writes stay out of it; `s2s` is build/s2s. Standard output
and standard error are compared together, trailing white space left out. An output line ending in `...` was
shortened in the documentation: only its beginning is compared (and kept
shortened by --update); a line that is only `...` ends the comparison.

Not run: commands that start a server (`serve`, a trailing `&`), and those
that need one (`curl`) unless --serve starts `s2s serve SERVE OPTIONS` on
port 8080 for them (the documentation's own server: docs/server.md's is
`-m models/fra-eng -m models/eng-fra -m models/dates --threads 2`). Not compared: examples without output lines (they run, for
the files they write), output shortened by hand inside a line (`...` within
it), and the measured times of a `-v` report. Prints a unified diff for each
example that differs; exit status 1 when one does (without --update).
"""
import argparse
import difflib
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LINKED = ["models", "tests", "tools", "build"]
SKIP = re.compile(r"(^|\s)serve(\s|$)|&\s*$")
NEEDS_SERVER = re.compile(r"(^|\s)curl(\s|$)")


def parse(lines):
    """-> list of (first line index, command, output start, output end) of
    each example, indices into `lines` (output lines are [start, end))."""
    out, i, n = [], 0, len(lines)
    while i < n:
        m = re.match(r"^    \$ (.*)$", lines[i])
        if not m:
            i += 1
            continue
        first, cmd = i, m.group(1)
        while cmd.endswith("\\") and i + 1 < n:
            i += 1
            cmd = cmd[:-1] + " " + lines[i].strip()
        i += 1
        start = end = i
        while i < n:
            if re.match(r"^    \$ ", lines[i]):
                break
            if lines[i].startswith("    "):
                i += 1
                end = i
            elif lines[i].strip() == "":
                j = i
                while j < n and lines[j].strip() == "":
                    j += 1
                if j < n and lines[j].startswith("    ") and not re.match(r"^    \$ ", lines[j]):
                    i = j
                else:
                    break
            else:
                break
        out.append((first, cmd, start, end))
        i = max(i, end)
    return out


def scratch_dir():
    d = tempfile.mkdtemp(prefix=".doc-examples-", dir=os.path.dirname(ROOT))
    for name in LINKED:
        os.symlink(os.path.join(ROOT, name), os.path.join(d, name))
    bindir = os.path.join(d, ".bin")
    os.mkdir(bindir)
    os.symlink(os.path.join(ROOT, "build", "s2s"), os.path.join(bindir, "s2s"))
    return d, bindir


def run(cmd, cwd, bindir):
    """Standard output's lines, then standard error's (the documentation
    shows messages after the output)."""
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""), COLUMNS="100")
    env.pop("NO_COLOR", None)
    r = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    text = r.stdout.decode("utf-8", "replace").rstrip("\n")
    err = r.stderr.decode("utf-8", "replace").rstrip("\n")
    lines = text.split("\n") if text else []
    return [l.rstrip() for l in lines + (err.split("\n") if err else [])]  # as the files keep them


def abbreviated(shown):
    """Output edited by hand: '...' inside a line (a shortened path, an
    elided field), not only at its end."""
    return any("..." in l.rstrip()[:-3] for l in shown if l.strip() != "...")


def timing(line):
    return "lines/s" in line or "tokens/s" in line


def compare(shown, actual):
    """-> (equal, lines to write back): shown lines ending in '...' compare
    (and stay) as prefixes; a line '...' alone ends the comparison."""
    new = []
    for k, s in enumerate(shown):
        if s.strip() == "...":
            new.extend(shown[k:])
            return new == shown, new
        a = actual[k] if k < len(actual) else None
        if a is None:
            return False, new
        if s.endswith("...") and s.strip() != "...":
            keep = len(s) - 3
            new.append(a[:keep] + "..." if len(a) > keep else a)
        elif timing(s) and timing(a) and re.sub(r"[\d.]+", "#", s) == re.sub(r"[\d.]+", "#", a):
            new.append(s)  # the same report; only the measured times differ
        else:
            new.append(a)
    if len(actual) > len(shown) and not (shown and shown[-1].strip() == "..."):
        new.extend(actual[len(shown):])
    return new == shown, new


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--update", action="store_true", help="write the actual output into the files")
    ap.add_argument("--serve", help="options of an s2s serve started on port 8080 for the curl examples")
    a = ap.parse_args(argv)
    files = a.files or [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    cwd, bindir = scratch_dir()
    differ = ran = 0
    server = None
    if a.serve:
        import shlex
        import time
        server = subprocess.Popen([os.path.join(ROOT, "build", "s2s"), "serve", "--port", "8080", "-q"] +
                                  shlex.split(a.serve), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if subprocess.run(["curl", "-s", "-o", "/dev/null", "localhost:8080/health"]).returncode == 0:
                break
            time.sleep(0.1)
    try:
        for path in files:
            text = open(path, encoding="utf-8").read()
            lines = text.split("\n")
            changed = False
            examples = parse(lines)
            results = {}
            for first, cmd, start, end in examples:  # in order: one may write a file the next reads
                if SKIP.search(cmd) or (NEEDS_SERVER.search(cmd) and not server):
                    continue
                shown = [l[4:] for l in lines[start:end]]
                actual = run(cmd, cwd, bindir)
                ran += 1
                if start < end and not abbreviated(shown):
                    results[first] = (shown, actual)
            for first, cmd, start, end in reversed(examples):
                if first not in results:
                    continue
                shown, actual = results[first]
                equal, new = compare(shown, actual)
                if equal:
                    continue
                differ += 1
                sys.stdout.writelines(difflib.unified_diff(
                    [l + "\n" for l in shown], [l + "\n" for l in new],
                    "%s:%d (shown)" % (os.path.relpath(path, ROOT), first + 1), "actual"))
                if a.update:
                    lines[start:end] = [("    " + l) if l else "" for l in new]
                    changed = True
            if changed:
                with open(path, "w", encoding="utf-8") as f:
                    f.write("\n".join(lines))
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(cwd, ignore_errors=True)
    print("%d examples run, %d differ%s" % (ran, differ, " (updated)" if a.update and differ else ""),
          file=sys.stderr)
    return 1 if differ and not a.update else 0


if __name__ == "__main__":
    sys.exit(main())
