#!/usr/bin/env python3
"""Differential test of Mirage `fmt` against GNU coreutils `fmt` (run once by
hand, not by cargo): generates random paragraphs and option sets, runs the
same script through real bash and through `mirage execute`, and reports the
inputs whose output differs.

    cargo build -p mirage-cli && python3 crates/mirage-commands/tests/fmt_differential.py [N] [SEED]

N is the number of generated inputs (default 400); each holds 1-4 paragraphs.
"""
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MIRAGE = os.path.join(ROOT, "target", "debug", "mirage")

WORDS = ("the of and a to in is you that it he was for on are as with his they I at be this "
         "have from or one had by word but not what all were we when your can said there use an "
         "each which she do how their if will up other about out many then them these so some her "
         "would make like him into time has look two more write go see number no way could people "
         "my than first water been call who oil its now find long down day did get come made may part "
         "e.g. i.e. etc. Mr. Dr. x y z café naïve, «quote» — über. 日本語").split()
PUNCT = [".", ",", ";", ":", "?", "!", ".)", ".\"", "'", ")", "--", ""]
OPENERS = ["(", "[", "\"", "`", "'"]


def word(rng):
    w = rng.choice(WORDS)
    r = rng.random()
    if r < 0.03:
        w = "".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(20, 90)))
    elif r < 0.08:
        w = rng.choice(OPENERS) + w
    if rng.random() < 0.25:
        w += rng.choice(PUNCT)
    return w


def gap(rng, prev):
    r = rng.random()
    if prev and prev[-1] in ".?!\"')" and r < 0.5:
        return "  "
    if r < 0.02:
        return rng.choice(["\r", " \x0c", "\x0b "])
    if r < 0.05:
        return "\t"
    if r < 0.10:
        return "   "
    return " "


def paragraph(rng, prefix, tagged):
    nlines = rng.choice([1, 1, 2, 3, 4, 6, 10])
    indent = rng.choice(["", "", "", "  ", "    ", "\t", " \t"])
    indent2 = rng.choice([indent, indent, "   ", ""]) if tagged else indent
    lines = []
    for k in range(nlines):
        ws = [word(rng) for _ in range(rng.randint(1, 14))]
        text = ""
        for i, w in enumerate(ws):
            text += w
            if i + 1 < len(ws):
                text += gap(rng, w)
        if rng.random() < 0.1:
            text += "  "
        ind = indent if k == 0 else indent2
        if rng.random() < 0.15:  # ragged indentation and prefixes
            ind = rng.choice(["", " ", "  ", "\t", "        "])
            lines.append(rng.choice(["", " ", "  "]) + prefix.lstrip() + ind + text)
            continue
        lines.append(prefix + ind + text)
    return lines


def make_input(rng, prefix):
    out = []
    tagged = rng.random() < 0.3
    for p in range(rng.randint(1, 4)):
        if p:
            out.append(rng.choice(["", "", "   ", prefix.rstrip(), "\t"]))
        out.extend(paragraph(rng, prefix if rng.random() < 0.9 else "", tagged))
    text = "\n".join(out)
    if rng.random() < 0.9:
        text += "\n"
    return text, p + 1


def options(rng):
    opts = []
    if rng.random() < 0.6:
        opts.append(rng.choice(["-w 10", "-w 20", "-w 30", "-w 40", "-w 50", "-60", "-w 100", "--width=35"]))
    if rng.random() < 0.15:
        if not opts:
            opts.append("-w 40")
        opts.append(rng.choice(["-g 15", "-g 25", "-g 5"]))
    for flag in ["-s", "-u", "-c", "-t"]:
        if rng.random() < 0.12:
            opts.append(flag)
    prefix = ""
    if rng.random() < 0.2:
        prefix = rng.choice(["# ", ">", "  #", "// "])
        opts.append("-p '%s'" % prefix)
    return " ".join(opts), prefix


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="fmtdiff")
    script = []
    paras = 0
    cases = []
    for i in range(n):
        opts, prefix = options(rng)
        text, count = make_input(rng, prefix)
        if i % 50 == 49:  # a few paragraphs over GNU's 998-word/5000-byte buffer
            text = " ".join(word(rng) for _ in range(rng.choice([1200, 2500]))) + "\n"
        paras += count
        name = "c%04d.txt" % i
        with open(os.path.join(work, name), "w", encoding="utf-8") as f:
            f.write(text)
        cases.append((name, opts))
        script.append("echo '@@@ %s'; fmt %s %s; echo \"rc=$?\"" % (name, opts, name))
    body = "\n".join(script) + "\n"

    def run(cmd):
        env = dict(os.environ, LC_ALL="C.UTF-8")
        return subprocess.run(cmd, cwd=work, capture_output=True, env=env).stdout

    want = run(["bash", "-c", body])
    got = run([MIRAGE, "execute", "-c", body])

    def split(b):
        parts = {}
        for chunk in b.split(b"@@@ ")[1:]:
            name, _, rest = chunk.partition(b"\n")
            parts[name.decode()] = rest
        return parts

    w, g = split(want), split(got)
    bad = [name for name, _ in cases if w.get(name) != g.get(name)]
    print("inputs: %d, paragraphs: %d, mismatching inputs: %d (files in %s)" % (n, paras, len(bad), work))
    opts_of = dict(cases)
    for name in bad[:10]:
        print("--- %s  fmt %s" % (name, opts_of[name]))
        print("want:", repr(w.get(name, b""))[:600])
        print("got: ", repr(g.get(name, b""))[:600])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
