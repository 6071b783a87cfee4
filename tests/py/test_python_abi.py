#!/usr/bin/python3
"""The ctypes declarations of the Python package (tools/python/s2s/_lib.py)
match engine/include/s2s.h, so that a field added, removed, moved or
retyped in the header is caught here rather than by a wrong answer:

  - for every struct the package declares, the field names in order, read
    from the header's text, equal the ctypes field names;
  - a small C program compiled against the header prints sizeof of each
    struct and offsetof/sizeof of each field, and the status values; each
    equals the ctypes one;
  - every function the package binds is declared S2S_API in the header (and
    exported by the library); the package version equals S2S_VERSION.

Needs a C compiler ($CC or cc); without one the check is skipped visibly.
"""
import os
import re
import shutil
import subprocess
import tempfile

from pkg_common import ROOT, Skip, finish, report

from s2s import _lib
import s2s

HEADER = os.path.join(ROOT, "engine", "include", "s2s.h")


def header_text():
    text = open(HEADER, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def struct_fields(text, name):
    """Field names of `typedef struct NAME { ... } NAME;`, in order."""
    m = re.search(r"typedef\s+struct\s+%s\s*\{(.*?)\}\s*%s\s*;" % (name, name), text, flags=re.S)
    assert m, "struct %s not found in %s" % (name, HEADER)
    names = []
    for decl in m.group(1).split(";"):
        decl = " ".join(decl.split())
        if not decl:
            continue
        fp = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)
        if fp:  # function pointer
            names.append(fp.group(1))
            continue
        parts = decl.split(",")
        for i, part in enumerate(parts):
            part = re.sub(r"\[[^\]]*\]", "", part).strip()
            ident = re.findall(r"\w+", part)
            assert ident, "cannot read a field name in %r" % decl
            names.append(ident[-1])
    return names


def test_field_names():
    text = header_text()
    for cname, cls in _lib.STRUCTS.items():
        want = struct_fields(text, cname)
        got = [f[0] for f in cls._fields_]
        assert got == want, "%s: ctypes fields %s, header fields %s" % (cname, got, want)


def c_program():
    lines = ['#include <stdio.h>', '#include <stddef.h>', '#include "s2s.h"', "int main(void) {"]
    for cname, cls in _lib.STRUCTS.items():
        lines.append('printf("size %s %%zu\\n", sizeof(%s));' % (cname, cname))
        for f in cls._fields_:
            lines.append('printf("field %s.%s %%zu %%zu\\n", offsetof(%s, %s), sizeof(((%s *)0)->%s));'
                         % (cname, f[0], cname, f[0], cname, f[0]))
    for name in _lib.STATUS_NAMES:
        lines.append('printf("status %s %%d\\n", (int)%s);' % (name, name))
    lines.append('printf("status_count %d\\n", (int)S2S_STATUS_COUNT);')
    for const in ("S2S_ERROR_MAX", "S2S_MAX_BATCH", "S2S_SOURCE", "S2S_TARGET", "S2S_COMPUTE_F32", "S2S_COMPUTE_INT8"):
        lines.append('printf("const %s %%d\\n", (int)%s);' % (const, const))
    lines.append('printf("version %s\\n", S2S_VERSION);')
    lines.append("return 0; }")
    return "\n".join(lines) + "\n"


def run_c_program():
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise Skip("no C compiler")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "abi.c")
        exe = os.path.join(tmp, "abi")
        open(src, "w").write(c_program())
        subprocess.run([cc, "-std=c11", "-Wall", "-I", os.path.dirname(HEADER), "-o", exe, src], check=True)
        return subprocess.run([exe], check=True, stdout=subprocess.PIPE, text=True).stdout.splitlines()


def test_layout():
    import ctypes
    out = run_c_program()
    seen = 0
    for line in out:
        w = line.split()
        if w[0] == "size":
            cls = _lib.STRUCTS[w[1]]
            assert ctypes.sizeof(cls) == int(w[2]), "sizeof(%s): C %s, ctypes %d" % (w[1], w[2], ctypes.sizeof(cls))
        elif w[0] == "field":
            sname, fname = w[1].split(".")
            f = getattr(_lib.STRUCTS[sname], fname)
            assert (f.offset, f.size) == (int(w[2]), int(w[3])), \
                "%s: C offset %s size %s, ctypes offset %d size %d" % (w[1], w[2], w[3], f.offset, f.size)
        elif w[0] == "status":
            assert _lib.STATUS[w[1]] == int(w[2]), "%s: C %s, package %d" % (w[1], w[2], _lib.STATUS[w[1]])
        elif w[0] == "status_count":
            assert len(_lib.STATUS_NAMES) == int(w[1]), \
                "the header has %s statuses, the package knows %d" % (w[1], len(_lib.STATUS_NAMES))
        elif w[0] == "const":
            want = {"S2S_ERROR_MAX": _lib.S2S_ERROR_MAX, "S2S_MAX_BATCH": _lib.S2S_MAX_BATCH,
                    "S2S_SOURCE": _lib.S2S_SOURCE, "S2S_TARGET": _lib.S2S_TARGET,
                    "S2S_COMPUTE_F32": _lib.COMPUTE_NAMES.index("f32"),
                    "S2S_COMPUTE_INT8": _lib.COMPUTE_NAMES.index("int8")}[w[1]]
            assert want == int(w[2]), "%s: C %s, package %d" % (w[1], w[2], want)
        elif w[0] == "version":
            assert s2s.__version__ == w[1], "package version %s, S2S_VERSION %s" % (s2s.__version__, w[1])
        seen += 1
    assert seen == len(out) and seen > 50, out


def test_functions():
    text = header_text()
    declared = set(re.findall(r"S2S_API\s[^;(]*?\b(s2s_\w+)\s*\(", text))
    bound = set(_lib.PROTOTYPES)
    assert bound <= declared, "bound but not in the header: %s" % sorted(bound - declared)
    lib = _lib.load()
    for name in bound:
        assert hasattr(lib.dll, name), name
    rest = sorted(declared - bound)
    if rest:
        print("     header functions the package does not bind: %s" % ", ".join(rest))


def test_mutation_is_caught():
    """The comparisons fail for a struct with two fields swapped or one left
    out (so that the test can fail)."""
    import ctypes
    fields = list(_lib.DecodeParams._fields_)
    fields[0], fields[1] = fields[1], fields[0]
    text = header_text()
    assert [f[0] for f in fields] != struct_fields(text, "s2s_decode_params")
    wrong = type("Wrong", (ctypes.Structure,), {"_fields_": fields[1:]})   # one field left out
    assert [getattr(wrong, f[0]).offset for f in fields[1:]] != \
        [getattr(_lib.DecodeParams, f[0]).offset for f in fields[1:]]


def main():
    report("ctypes field names = header field names", test_field_names)
    report("ctypes sizes, offsets, statuses = C compiler's", test_layout)
    report("bound functions are the header's", test_functions)
    report("a drifted declaration is caught", test_mutation_is_caught)
    finish()


if __name__ == "__main__":
    main()
