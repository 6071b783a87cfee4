#!/usr/bin/python3
"""Tests for tools/recipes/tatoeba_defaults.py, which picks the decoding
defaults of a Tatoeba model on validation pairs: the choice rule on
hand-made grid rows (best BLEU, then within 0.2 BLEU the most numbers
copied, then the higher BLEU, then the earlier setting), and a run on a copy
of models/fra-eng with a few validation pairs: the config's "decoding" then
says what defaults.json chose, the command reads it back (`s2s info`), and
keys of an earlier choice do not linger. Prints "N passed, M failed" and
exits 1 on any failure.
"""

import json
import os
import shutil
import subprocess
import sys

import harness as H

sys.path.insert(0, os.path.join(H.TOOLS, "recipes"))
import tatoeba_defaults as D  # noqa: E402

_TMP = H.tempdir("tatoeba-defaults")  # removed at exit
WORK = _TMP.name


def row(beam, lp, keep, bleu, copy):
    return {"beam_size": beam, "length_penalty": lp, "keep_numbers": keep, "valid_bleu": bleu,
            "valid_numbers_copy": copy, "valid_numbers_of": 10}


def test_pick_rule():
    rows = [row(1, 0.0, False, 50.0, 80.0), row(1, 0.0, True, 49.9, 95.0), row(5, 1.0, False, 52.0, 90.0),
            row(5, 1.0, True, 51.85, 97.0), row(5, 0.0, True, 51.0, 100.0)]
    # 51.85 is within 0.2 of the best 52.0 and copies more; 51.0 copies the most but is too far
    assert D.pick(rows) is rows[3], D.pick(rows)
    # equal copy rates: the higher BLEU
    rows[3]["valid_numbers_copy"] = 90.0
    assert D.pick(rows) is rows[2], D.pick(rows)
    # equal in both: the earlier setting
    rows[3]["valid_bleu"] = 52.0
    assert D.pick(rows) is rows[2], D.pick(rows)


VALID = [("I have two cats.", "J'ai deux chats."), ("Where is the station?", "Où est la gare ?"),
         ("Thank you very much.", "Merci beaucoup."), ("Tom is my friend.", "Tom est mon ami.")]
NUMBERS = [("He is 42 years old.", "Il a 42 ans."), ("We won in 1998.", "Nous avons gagné en 1998."),
           ("The train leaves at 18 o'clock.", "Le train part à 18 heures.")]


def write(path, pairs):
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join("%s\t%s\n" % p for p in pairs))


def test_run_writes_the_choice():
    s2s = H.s2s()
    if not s2s:
        raise H.Skip("%s is not an executable" % H.S2S)
    model = os.path.join(WORK, "fra-eng")
    shutil.rmtree(model, ignore_errors=True)
    shutil.copytree(os.path.join(H.ROOT, "models", "fra-eng"), model)
    cfg_path = os.path.join(model, "config.json")
    cfg = json.load(open(cfg_path, encoding="utf-8"))
    cfg.setdefault("decoding", {}).update(beam_size=9, length_penalty=0.3, keep_numbers=True)  # an earlier choice
    json.dump(cfg, open(cfg_path, "w", encoding="utf-8"))
    write(os.path.join(WORK, "valid.tsv"), VALID)
    write(os.path.join(WORK, "valid-numbers.tsv"), NUMBERS)
    r = subprocess.run([sys.executable, os.path.join(H.TOOLS, "recipes", "tatoeba_defaults.py"), model, "fra-eng",
                        "--valid", os.path.join(WORK, "valid.tsv"), "--numbers-valid",
                        os.path.join(WORK, "valid-numbers.tsv"), "--s2s", s2s, "--work", WORK],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600,
                       env=dict(os.environ, PYTHONPATH=os.path.join(H.TOOLS, "python")))
    assert r.returncode == 0, r.stderr[-1000:]
    out = json.load(open(os.path.join(WORK, "defaults.json"), encoding="utf-8"))
    assert len(out["grid"]) == len(D.GRID)
    assert out["choice"] is not None and out["choice"] == D.pick(out["grid"]), out
    dec = json.load(open(cfg_path, encoding="utf-8"))["decoding"]
    choice = out["choice"]
    want = {}
    if choice["beam_size"] > 1:
        want.update(beam_size=choice["beam_size"], length_penalty=choice["length_penalty"])
    if choice["keep_numbers"]:
        want["keep_numbers"] = True
    got = {k: v for k, v in dec.items() if k in ("beam_size", "length_penalty", "keep_numbers")}
    assert got == want, (got, want)
    info = subprocess.run([s2s, "info", "-m", model, "--format", "json"], stdout=subprocess.PIPE, text=True)
    shown = json.loads(info.stdout)["decoding"]
    assert shown.get("beam_size") == want.get("beam_size"), shown
    assert shown.get("keep_numbers", False) == want.get("keep_numbers", False), shown


def main():
    H.run_case("choice rule", test_pick_rule)
    H.run_case("a run writes its choice into config.json", test_run_writes_the_choice)
    H.finish()


if __name__ == "__main__":
    main()
