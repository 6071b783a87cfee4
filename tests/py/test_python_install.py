#!/usr/bin/python3
"""Installing the Python package: `make install-python PREFIX=/usr/local
DESTDIR=<scratch>` puts the package and libs2s.so side by side in the
dist-packages directory Debian's python3 reads, and the installed copy,
imported by a fresh interpreter with nothing but that directory added
(no S2S_LIBRARY, outside the repository), finds its own library and
translates as the command does. Also: how the library is found (explicit
path, $S2S_LIBRARY, a clear error naming what was tried).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from pkg_common import MODELS, ROOT, Skip, finish, report, run_command

PYTHON = sys.executable
BUILD = os.path.dirname(os.environ.get("S2S_LIBRARY") or os.path.join(ROOT, "build", "libs2s.so"))


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("S2S_LIBRARY", "PYTHONPATH")}
    env.update(extra)
    return env


def py(code, env, cwd="/"):
    r = subprocess.run([PYTHON, "-c", code], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=300)
    assert r.returncode == 0, "python exit %d:\n%s" % (r.returncode, r.stderr[-2000:])
    return r.stdout


def site_dir(prefix):
    r = subprocess.run(["make", "-s", "--no-print-directory", "-C", ROOT, "print-python-site", "PREFIX=" + prefix],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_install_layout():
    if not shutil.which("make"):
        raise Skip("make is not installed")
    fra = os.path.join(MODELS, "fra-eng")
    if not os.path.isdir(fra):
        raise Skip("models/fra-eng is missing")
    site = site_dir("/usr/local")
    # the directory is one Debian's python3 reads
    paths = json.loads(py("import sys, json; print(json.dumps(sys.path))", clean_env()))
    assert site in paths, "%s is not on %s's sys.path %s" % (site, PYTHON, paths)
    with tempfile.TemporaryDirectory() as dest:
        r = subprocess.run(["make", "-s", "--no-print-directory", "-C", ROOT, "install-python", "PREFIX=/usr/local",
                            "DESTDIR=" + dest, "BUILD=" + os.path.relpath(BUILD, ROOT)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert r.returncode == 0, r.stderr
        pkg = os.path.join(dest + site, "s2s")
        files = sorted(os.listdir(pkg))
        assert "__init__.py" in files and "libs2s.so" in files and "dask.py" in files, files
        lines = ["Où est la gare ?", "Je suis très content de te voir."]
        code = ("import json, s2s\n"
                "m = s2s.Model(%r)\n"
                "r = m.translate(%r, return_attention=True)\n"
                "print(json.dumps([s2s.__file__, s2s.library_path()]))\n"
                "print(''.join(s2s.format_jsonl(x, i) for i, x in enumerate(r)), end='')\n" % (fra, lines))
        out = py(code, clean_env(PYTHONPATH=dest + site)).splitlines(keepends=True)
        where, lib = json.loads(out[0])
        assert where == os.path.join(pkg, "__init__.py"), where
        assert lib == os.path.join(pkg, "libs2s.so"), "the installed package loaded %s" % lib
        want = run_command(["translate", "-m", fra, "--format", "jsonl"], lines)
        assert "".join(out[1:]) == want, "installed package output differs:\n%s\n%s" % ("".join(out[1:]), want)


def test_find_library():
    lib = os.path.join(BUILD, "libs2s.so")
    if not os.path.exists(lib):
        raise Skip("%s is not built" % lib)
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "libs2s-copy.so")
        shutil.copy(lib, copy)
        pp = os.path.join(ROOT, "tools", "python")
        # $S2S_LIBRARY wins over the build tree
        out = py("import s2s; print(s2s.library_path())", clean_env(PYTHONPATH=pp, S2S_LIBRARY=copy))
        assert out.strip() == copy, out
        # an explicit path wins over $S2S_LIBRARY
        out = py("import s2s; print(s2s.library_path(%r))" % copy, clean_env(PYTHONPATH=pp, S2S_LIBRARY="/nonexistent.so"))
        assert out.strip() == copy, out
        # a bad explicit path is an OSError naming it, not a silent fallback
        code = ("import s2s\n"
                "try:\n    s2s.Model(%r, library='/nonexistent/libs2s.so')\n"
                "except OSError as e:\n    print('OSError', e)\n" % os.path.join(MODELS, "fra-eng"))
        out = py(code, clean_env(PYTHONPATH=pp))
        assert out.startswith("OSError") and "/nonexistent/libs2s.so" in out, out
        # importing needs no library at all (it is loaded by the first Model)
        py("import s2s", clean_env(PYTHONPATH=pp, S2S_LIBRARY="/nonexistent.so"))


def main():
    report("install-python: layout, sys.path, the installed copy finds its library", test_install_layout)
    report("library search order", test_find_library)
    finish()


if __name__ == "__main__":
    main()
