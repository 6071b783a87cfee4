#!/usr/bin/python3
"""Checks the dependency order of the C code from the compiled objects.

    tools/build/check_layout.py BUILD_DIR

A file depends on another when it uses a symbol the other defines (read with
`nm` from BUILD_DIR/{tokenizer,engine,tools/s2s}/*.o), which covers calls as
well as includes. The check fails when
  - two or more files depend on each other in a circle,
  - a layer uses a file of a layer above it (order: tokenizer, engine,
    command), or the command uses anything of the library but its s2s_* API,
  - BUILD_DIR/libs2s.so exports a name that does not start with s2s_.
Exit status 0 when the layout holds, 1 with one line per breach otherwise.
"""
import glob
import os
import subprocess
import sys

LAYERS = ["tokenizer", "engine", "tools/s2s"]


def symbols(obj):
    """(defined, undefined) global symbol names of one object file."""
    out = subprocess.run(["nm", "-P", obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(name)
        elif kind.isupper():
            defined.add(name)
    return defined, undefined


def find_circles(graph):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on_stack, comps = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return comps


def main(build):
    owner, uses, layer_of = {}, {}, {}
    for rank, layer in enumerate(LAYERS):
        for obj in sorted(glob.glob(os.path.join(build, layer, "*.o"))):
            src = os.path.join(layer, os.path.basename(obj)[:-2] + ".c")
            defined, undefined = symbols(obj)
            for name in defined:
                owner[name] = src
            uses[src] = undefined
            layer_of[src] = rank
    if not uses:
        print(f"check_layout: no objects under {build}; build first", file=sys.stderr)
        return 1
    problems = []
    graph = {src: set() for src in uses}
    for src, names in uses.items():
        for name in sorted(names):
            dep = owner.get(name)
            if dep is None or dep == src:
                continue
            graph[src].add(dep)
            if layer_of[dep] > layer_of[src]:
                problems.append(f"{src} uses {name} from {dep}, a layer above it")
            if LAYERS[layer_of[src]] == "tools/s2s" and layer_of[dep] < layer_of[src] \
                    and not name.startswith("s2s_"):
                problems.append(f"{src} uses the library's internal {name} ({dep})")
    for comp in find_circles(graph):
        problems.append("circle: " + " <-> ".join(comp))
    so = os.path.join(build, "libs2s.so")
    if os.path.exists(so):
        out = subprocess.run(["nm", "-D", "--defined-only", "-P", so], capture_output=True,
                             text=True, check=True).stdout
        for line in out.splitlines():
            name = line.split()[0]
            if not name.startswith("s2s_"):
                problems.append(f"libs2s.so exports {name}, which is not s2s_*")
    for p in problems:
        print("check_layout: " + p, file=sys.stderr)
    if not problems:
        n_edges = sum(len(v) for v in graph.values())
        print(f"layout: {len(graph)} files, {n_edges} dependencies, no circle, "
              f"order {' -> '.join(LAYERS)} holds, libs2s.so exports only s2s_*")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
