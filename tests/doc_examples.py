#!/usr/bin/env python3
"""Runs the examples of a documentation page against a small site.

An example is a fenced code block right after a line
    <!-- example: NAME [capabilities=a,b] -->
and is followed by one or more lines
    <!-- expect: PATH contains TEXT -->
    <!-- expect: PATH lacks TEXT -->
    <!-- expect-error: TEXT -->          (the build must fail and say TEXT)
Each example becomes content/hooks/example.lua of a fresh copy of the site;
every expectation prints "ok - …" or "not ok - …".
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

JIANBAO = os.environ["JIANBAO"]
DOC = sys.argv[1]

SITE = {
    "content/site.lua": 'return {\n  title = "测试站点",\n  base_url = "https://example.org/",\n'
                        '  menus = { main = { { name = "首页", url = "/" } } },\n  %CAPS%\n}\n',
    "content/bulletins/2024/01.md": "---\ntitle: 甲\nissue: 1\ntotal: 46\ndate: 2024-01-11\n"
                                    "tags: [学分银行, 网络园区]\n---\n\n## 一、概况\n\n合肥工业大学牵头。\n\n"
                                    "```lua\nprint(\"code\")\n```\n",
    "content/bulletins/2024/02.md": "---\ntitle: 乙\nissue: 2\ntotal: 47\ndate: 2024-02-01\n"
                                    "tags: [学分银行]\n---\n\n正文。\n\n```note kind=提示\n本期附件另行印发。\n```\n",
    "content/data/figures.csv": "年份,成员单位数[所]\n2020,52\n2025,70\n",
}


def parse(text):
    lines = text.split("\n")
    examples, i = [], 0
    while i < len(lines):
        m = re.match(r"^<!-- example: (\S+)(.*?) -->$", lines[i])
        if not m:
            i += 1
            continue
        name, opts = m.group(1), m.group(2)
        caps = re.search(r"capabilities=(\S+)", opts)
        i += 1
        fence = re.match(r"^(`{3,})lua\s*$", lines[i])
        if not fence:
            raise SystemExit("%s: example %s: no ```lua block after it" % (DOC, name))
        end = fence.group(1)
        code, i = [], i + 1
        while lines[i] != end:
            code.append(lines[i])
            i += 1
        i += 1
        expects = []
        while i < len(lines) and lines[i].startswith("<!-- expect"):
            e = re.match(r"^<!-- expect: (\S+) (contains|lacks) (.*) -->$", lines[i])
            f = re.match(r"^<!-- expect-error: (.*) -->$", lines[i])
            if e:
                expects.append((e.group(2), e.group(1), e.group(3)))
            elif f:
                expects.append(("error", None, f.group(1)))
            else:
                raise SystemExit("%s: bad expectation: %s" % (DOC, lines[i]))
            i += 1
        examples.append((name, caps.group(1).split(",") if caps else [], "\n".join(code) + "\n", expects))
    return examples


def run(name, caps, code, expects, work):
    repo = os.path.join(work, name)
    for path, text in SITE.items():
        full = os.path.join(repo, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if path.endswith("site.lua"):
            text = text.replace("%CAPS%", "capabilities = { %s }," % ", ".join('"%s"' % c for c in caps))
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)
    os.makedirs(os.path.join(repo, "content/hooks"), exist_ok=True)
    with open(os.path.join(repo, "content/hooks/example.lua"), "w", encoding="utf-8") as f:
        f.write(code)
    env = dict(os.environ, GIT_AUTHOR_DATE="2024-03-01T10:00:00+08:00",
               GIT_COMMITTER_DATE="2024-03-01T10:00:00+08:00")
    env.pop("SOURCE_DATE_EPOCH", None)
    subprocess.run(["git", "init", "-q", repo], check=True, env=env)
    subprocess.run(["git", "-C", repo, "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", repo, "commit", "-q", "-m", "site"], check=True, env=env)
    out = os.path.join(work, name + ".out")
    p = subprocess.run([JIANBAO, "build", "--repo", repo, "--out", out, "--quiet"], env=env,
                       capture_output=True, text=True)
    for kind, path, text in expects:
        label = "docs %s: %s" % (name, ("build fails with: " + text) if kind == "error"
                                 else "%s %s %s" % (path, kind, text))
        if kind == "error":
            good = p.returncode == 1 and text in p.stderr
            detail = p.stderr
        else:
            try:
                with open(os.path.join(out, path), encoding="utf-8") as f:
                    body = f.read()
            except OSError as e:
                body, good = "", False
                detail = "%s\n%s" % (e, p.stderr)
            else:
                good = (text in body) == (kind == "contains")
                detail = body[:1500]
            if p.returncode != 0:
                good, detail = False, p.stderr
        print(("ok - " if good else "not ok - ") + label)
        if not good:
            for line in detail.splitlines()[:30]:
                print("    " + line)


def main():
    with open(DOC, encoding="utf-8") as f:
        examples = parse(f.read())
    if not examples:
        print("not ok - %s has no examples" % DOC)
        return
    work = tempfile.mkdtemp(prefix="jianbao-docs.")
    try:
        for ex in examples:
            run(*ex, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


main()
