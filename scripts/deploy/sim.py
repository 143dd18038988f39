#!/usr/bin/env python3
"""Helper for check_install.sh: builds the stand-in indexes, serves them on loopback,
writes each candidate requirements file, and reads back what uv and pip resolved.

Stand-ins (docs/deployment.md):
  https://download.pytorch.org -> http://127.0.0.1:PORT: /whl/cpu/ is a PEP 503 index with
      the CPU torch wheel and OLDER numpy, pillow, filelock, ... than PyPI has, as PyTorch's
      real CPU index carries; PEP 658 metadata beside each wheel, as PyTorch serves it.
  https://pypi.org/simple -> http://127.0.0.1:PORT/pypi/simple: every project page passed
      through from PyPI as this machine reaches it (no pip config, no local mirror), except
      torch: one tiny fake wheel named like PyPI's torch 2.13.0 (a multi-GB CUDA build on
      Linux), so that a mechanism that picks PyPI's torch shows up without downloading it.
Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import re
import subprocess
import sys
import threading
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

TORCH = "2.13.0"
TORCH_WHEEL = f"torch-{TORCH}+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"
REAL_PYTORCH = "https://download.pytorch.org"
REAL_PYPI = "https://pypi.org/simple"
UPSTREAM_PYPI = os.environ.get("SIM_PYPI_UPSTREAM", "https://pypi.org/simple")

# What the PyTorch stand-in carries besides torch: releases older than PyPI's newest (the
# same release where this disk has no older one), as PyTorch's real CPU index carries them.
STANDIN_EXTRAS = {
    "numpy": ["2.3.5", "2.2.6", "2.1.3", "2.0.2", "1.26.4"],
    "pillow": ["12.3.0", "11.3.0"],
    "filelock": ["4.0.8"],
    "fsspec": ["2026.7.0", "2026.6.0"],
    "markupsafe": ["3.0.3"],
    "mpmath": ["1.3.0"],
    "setuptools": ["80.9.0"],
    "jinja2": ["3.1.6"],
    "networkx": ["3.6.1"],
    "sympy": ["1.14.0"],
    "typing-extensions": ["4.16.0"],
}
LOCAL_MIRRORS = [Path("/opt/pypi/files"), Path("/opt/pypi-more/files")]

# The candidates' first lines (index options, torch, numpy), written with the real URLs;
# the other lines of requirements.txt follow. @NUMPY@ is the intended numpy version.
PT = f"{REAL_PYTORCH}/whl/cpu"
CANDIDATES = {
    "A": (
        "extra-index-url; torch==2.13.0; numpy>=2.0 (before)",
        [f"--extra-index-url {PT}", f"torch=={TORCH}", "numpy>=2.0"],
    ),
    "B": ("extra-index-url; torch+cpu; numpy==", [f"--extra-index-url {PT}", f"torch=={TORCH}+cpu", "numpy==@NUMPY@"]),
    "C": (
        "--index-strategy in the file",
        ["--index-strategy unsafe-best-match", f"--extra-index-url {PT}", f"torch=={TORCH}+cpu", "numpy==@NUMPY@"],
    ),
    "D": ("torch @ direct wheel URL; numpy==", [f"torch @ {PT}/{TORCH_WHEEL.replace('+', '%2B')}", "numpy==@NUMPY@"]),
    "E": (
        "find-links torch page; torch==2.13.0; numpy==",
        [f"--find-links {PT}/torch/", f"torch=={TORCH}", "numpy==@NUMPY@"],
    ),
    "F": (
        "find-links torch page; torch+cpu; numpy==",
        [f"--find-links {PT}/torch/", f"torch=={TORCH}+cpu", "numpy==@NUMPY@"],
    ),
}
# The same two with download.pytorch.org unreachable (a closed loopback port).
CANDIDATES["G"] = ("E, PyTorch's page unreachable", CANDIDATES["E"][1])
CANDIDATES["H"] = ("F, PyTorch's page unreachable", CANDIDATES["F"][1])
UNREACHABLE = {"G", "H"}

NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def req_name(line: str) -> str | None:
    body = line.split("#", 1)[0].strip()
    if not body or body.startswith("-"):
        return None
    m = NAME_RE.match(body)
    return norm(m.group(1)) if m else None


# ---------------------------------------------------------------- build the indexes
def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pip_download(spec: str, dest: Path, *extra: str) -> None:
    # This machine's pip, as configured here: it takes these files from local disk. Only
    # exact, binary-only pins, so it can never pull a CUDA build of torch.
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--retries", "0", "-d", str(dest)]
    subprocess.run([*cmd, *extra, spec], check=True)


def find_torch_wheel(work: Path) -> Path:
    for c in (os.environ.get("SIM_TORCH_WHEEL", ""), f"/opt/wheels/{TORCH_WHEEL}"):
        if c and Path(c).is_file():
            return Path(c)
    dest = work / "downloads"
    pip_download(f"torch=={TORCH}+cpu", dest, "--only-binary=:all:")
    found = sorted(dest.glob(f"torch-{TORCH}+cpu-cp311-*.whl"))
    if not found:
        sys.exit(f"no torch {TORCH}+cpu wheel for cp311 on this machine")
    return found[0]


def find_wheel(name: str, version: str, work: Path) -> Path:
    stem = "[-_.]".join(re.escape(part) for part in name.split("-"))
    pat = re.compile(
        rf"^{stem}-{re.escape(version)}-(py3|cp311)\S*-(none|cp311|abi3)-(any|manylinux\S*x86_64)\.whl$", re.I
    )
    for folder in LOCAL_MIRRORS:
        if folder.is_dir():
            for f in folder.iterdir():
                if pat.match(f.name):
                    return f
    dest = work / "downloads"
    pip_download(
        f"{name}=={version}",
        dest,
        "--only-binary=:all:",
        "--python-version",
        "3.11",
        "--platform",
        "manylinux_2_28_x86_64",
    )
    for f in dest.iterdir():
        if pat.match(f.name):
            return f
    sys.exit(f"no wheel for {name}=={version}")


def write_project_page(folder: Path, title: str, links: list[tuple[str, str, str | None]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    body = "\n".join(
        f'<a href="{html.escape(href)}"'
        + (f' data-dist-info-metadata="sha256={meta}" data-core-metadata="sha256={meta}"' if meta else "")
        + f">{html.escape(text)}</a><br/>"
        for href, text, meta in links
    )
    (folder / "index.html").write_text(
        f"<!DOCTYPE html>\n<html><head><title>Links for {title}</title></head><body>\n"
        f"<h1>Links for {title}</h1>\n{body}\n</body></html>\n"
    )


def fake_cuda_torch(path: Path, real_wheel: Path) -> None:
    """A tiny wheel named like PyPI's torch 2.13.0 for Linux x86_64, with the same plain
    dependencies as the CPU build (the real one also needs nvidia-* and triton)."""
    with zipfile.ZipFile(real_wheel) as z:
        meta = z.read(f"torch-{TORCH}+cpu.dist-info/METADATA").decode()
    deps = [ln for ln in meta.splitlines() if ln.startswith("Requires-Dist:") and "extra ==" not in ln]
    di = f"torch-{TORCH}.dist-info"
    files = {
        "torch/__init__.py": f'__version__ = "{TORCH}"  # fake: stands in for PyPI\'s CUDA build\n\n\n'
        'class version:\n    cuda = "fake"\n',
        f"{di}/METADATA": f"Metadata-Version: 2.1\nName: torch\nVersion: {TORCH}\nRequires-Python: >=3.10\n"
        + "\n".join(deps)
        + "\n",
        f"{di}/WHEEL": "Wheel-Version: 1.0\nGenerator: sim.py\nRoot-Is-Purelib: false\n"
        "Tag: cp311-cp311-manylinux_2_28_x86_64\n",
    }
    record = [f"{n},sha256={hashlib.sha256(c.encode()).hexdigest()},{len(c.encode())}" for n, c in files.items()]
    files[f"{di}/RECORD"] = "\n".join([*record, f"{di}/RECORD,,"]) + "\n"
    with zipfile.ZipFile(path, "w") as z:
        for n, c in files.items():
            z.writestr(n, c)


def cmd_build(a: argparse.Namespace) -> None:
    out = Path(a.out)
    www = out / "www"
    cpu = www / "whl" / "cpu"
    cpu.mkdir(parents=True, exist_ok=True)
    torch_src = find_torch_wheel(out)
    entries = [("torch", torch_src)]
    for name, versions in STANDIN_EXTRAS.items():
        entries += [(name, find_wheel(name, v, out)) for v in versions]
    pages: dict[str, list[tuple[str, str, str | None]]] = {}
    for name, src in entries:
        (cpu / src.name).symlink_to(src.resolve())
        # PEP 658/714 metadata beside each wheel, as PyTorch's index has served it since
        # 2024-12: resolvers read it instead of downloading the wheel.
        with zipfile.ZipFile(src) as z:
            meta = next(n for n in z.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
            (cpu / (src.name + ".metadata")).write_bytes(z.read(meta))
        href = f"/whl/cpu/{urllib.parse.quote(src.name)}#sha256={sha256(src)}"
        pages.setdefault(name, []).append((href, src.name, sha256(cpu / (src.name + ".metadata"))))
    for name, links in pages.items():
        write_project_page(cpu / name, name, links)
    write_project_page(cpu, "cpu", [(f"{n}/", n, None) for n in sorted(pages)])
    fake = www / "pypi-local" / "files" / f"torch-{TORCH}-cp311-cp311-manylinux_2_28_x86_64.whl"
    fake.parent.mkdir(parents=True)
    fake_cuda_torch(fake, torch_src)
    write_project_page(
        www / "pypi-local" / "simple" / "torch",
        "torch",
        [(f"/pypi-local/files/{fake.name}#sha256={sha256(fake)}", fake.name, None)],
    )
    for _name, links in sorted(pages.items()):
        print(f"   PyTorch stand-in: {', '.join(t.split('-cp')[0].split('-py')[0] for _, t, _ in links)}")
    print(f"   PyPI stand-in: PyPI's pages, but torch is {fake.name}, {fake.stat().st_size} bytes (fake)")


# ---------------------------------------------------------------- serve them
class Handler(SimpleHTTPRequestHandler):
    cache: ClassVar[dict[str, bytes]] = {}
    lock = threading.Lock()
    log_file = None

    def log_message(self, format: str, *args: object) -> None:
        if self.log_file:
            with self.lock:
                self.log_file.write(f"{format % args}\n")
                self.log_file.flush()

    def do_GET(self) -> None:
        m = re.fullmatch(r"/pypi/simple/([^/]+)/?", urllib.parse.urlsplit(self.path).path)
        if m:
            self.pypi_page(norm(urllib.parse.unquote(m.group(1))))
        else:
            super().do_GET()

    def pypi_page(self, name: str) -> None:
        local = Path(self.directory) / "pypi-local" / "simple" / name / "index.html"
        with self.lock:
            body = local.read_bytes() if local.is_file() else self.cache.get(name)
        if body is None:
            req = urllib.request.Request(f"{UPSTREAM_PYPI}/{name}/", headers={"Accept": "text/html"})
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    body = r.read()
            except urllib.error.HTTPError as e:
                self.send_error(e.code)
                return
            except OSError as e:
                self.send_error(502, str(e))
                return
            with self.lock:
                self.cache[name] = body
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def cmd_serve(a: argparse.Namespace) -> None:
    Handler.log_file = open(a.log, "a")  # open for the server's life
    www = str(Path(a.out) / "www")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), lambda *args: Handler(*args, directory=www))
    Path(a.port_file + ".tmp").write_text(str(srv.server_address[1]))
    os.replace(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


# ---------------------------------------------------------------- requirements files
def other_lines(requirements: Path) -> list[str]:
    """requirements.txt's requirement lines other than torch and numpy."""
    return [ln for ln in requirements.read_text().splitlines() if req_name(ln) not in (None, "torch", "numpy")]


def localize(text: str, port: str, pytorch_port: str = "") -> str:
    base = f"http://127.0.0.1:{port}"
    return text.replace(REAL_PYTORCH, f"http://127.0.0.1:{pytorch_port or port}").replace(
        REAL_PYPI, f"{base}/pypi/simple"
    )


def cmd_render(a: argparse.Namespace) -> None:
    req = Path(a.requirements)
    if a.candidate == "repo":
        text = req.read_text()
    else:
        head = [ln.replace("@NUMPY@", a.numpy) for ln in CANDIDATES[a.candidate][1]]
        text = "\n".join(head + other_lines(req)) + "\n"
    Path(a.out).write_text(localize(text, a.port, a.closed_port if a.candidate in UNREACHABLE else ""))


def cmd_pyproject(a: argparse.Namespace) -> None:
    """Candidate U: a uv project laid out as uv's PyTorch guide says (explicit CPU index)."""
    deps = [f"torch=={TORCH}+cpu", f"numpy=={a.numpy}"] + [
        ln.split("#", 1)[0].strip() for ln in other_lines(Path(a.requirements))
    ]
    base = f"http://127.0.0.1:{a.port}"
    Path(a.out).mkdir(parents=True, exist_ok=True)
    (Path(a.out) / "pyproject.toml").write_text(f"""[project]
name = "vangrad-sim"
version = "0"
requires-python = "==3.11.*"
dependencies = {json.dumps(deps)}

[tool.uv]
package = false
environments = ["sys_platform == 'linux' and platform_machine == 'x86_64'"]

[[tool.uv.index]]
name = "pypi"
url = "{base}/pypi/simple"
default = true

[[tool.uv.index]]
name = "pytorch-cpu"
url = "{base}/whl/cpu"
explicit = true

[tool.uv.sources]
torch = [{{ index = "pytorch-cpu" }}]
""")


def cmd_title(a: argparse.Namespace) -> None:
    print(CANDIDATES[a.candidate][0])


def cmd_intended_numpy(a: argparse.Namespace) -> None:
    for line in Path(a.requirements).read_text().splitlines():
        m = re.fullmatch(r"numpy==([0-9][0-9A-Za-z.]*)", line.split("#", 1)[0].split(";", 1)[0].replace(" ", ""))
        if m:
            print(m.group(1))
            return


# ---------------------------------------------------------------- read results
def source_of(url: str | None) -> str:
    if not url:
        return "?"
    u = urllib.parse.urlsplit(url)
    if u.hostname == "127.0.0.1":
        if u.path.startswith("/whl/"):
            return "PyTorch idx"
        return "PyPI (FAKE CUDA torch)" if u.path.startswith("/pypi-local/") else "PyPI"
    return "PyPI" if u.hostname == "files.pythonhosted.org" else str(u.hostname)


def first_url(entry: dict) -> str | None:
    for key in ("wheels", "sdist", "archive"):
        v = entry.get(key)
        if isinstance(v, list) and v and v[0].get("url"):
            return v[0]["url"]
        if isinstance(v, dict) and v.get("url"):
            return v["url"]
    return None


def resolved_from(kind: str, path: Path) -> dict[str, tuple[str, str]]:
    if not path.is_file() or not path.stat().st_size:
        return {}
    if kind == "pip":  # pip install --report
        data = json.loads(path.read_text())
        return {
            norm(i["metadata"]["name"]): (i["metadata"]["version"], source_of(i["download_info"]["url"]))
            for i in data.get("install", [])
        }
    data = tomllib.loads(path.read_text())  # pylock.toml (uv pip compile) or uv.lock
    entries = data.get("packages", []) if kind == "pylock" else data.get("package", [])
    return {norm(p["name"]): (str(p.get("version", "?")), source_of(first_url(p))) for p in entries if first_url(p)}


def installed(python: str) -> dict[str, str]:
    if not python or not Path(python).exists():
        return {}
    code = (
        "import importlib.metadata as m, json\n"
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    r = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return {norm(k): v for k, v in json.loads(r.stdout or "{}").items()}


def cmd_row(a: argparse.Namespace) -> None:
    resolved = resolved_from(a.kind, Path(a.resolved)) if a.resolved else {}
    inst = installed(a.python)
    notes = [a.note] if a.note else []
    for name, (ver, _) in resolved.items():
        if name in inst and inst[name] != ver:
            notes.append(f"installed {name} {inst[name]}, resolved {ver}")
    torch = resolved.get("torch", (inst.get("torch", "?"), "?"))
    numpy = resolved.get("numpy", (inst.get("numpy", "?"), "?"))
    ok = bool(a.ok)
    row = {
        "id": a.id,
        "mechanism": a.mechanism,
        "installer": a.installer,
        "mode": a.mode,
        "ok": ok,
        "torch": torch[0] if ok else "-",
        "torch_from": torch[1] if ok else "-",
        "numpy": numpy[0] if ok else "-",
        "numpy_from": numpy[1] if ok else "-",
        "older_from_pytorch_idx": sorted(
            f"{n} {v}" for n, (v, s) in resolved.items() if ok and s == "PyTorch idx" and n not in ("torch", "numpy")
        ),
        "note": "; ".join(notes),
        "chosen": bool(a.chosen),
        "import_check": a.import_check,
        "seconds": a.seconds,
    }
    with open(a.rows, "a") as f:
        f.write(json.dumps(row) + "\n")


def cmd_table(a: argparse.Namespace) -> None:
    rows = [json.loads(ln) for ln in Path(a.rows).read_text().splitlines() if ln.strip()]
    want = f"{TORCH}+cpu"
    out = [
        "| id | mechanism | installer | result | torch | torch from | numpy | numpy from "
        "| others from the PyTorch index | s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    failed = []
    for r in rows:
        good = r["ok"] and r["torch"] == want and r["torch_from"] == "PyTorch idx" and r["numpy"] == a.numpy
        if not r["ok"]:
            result = "n/a" if r["mode"] == "n/a" else "FAILS"
        else:
            result = ("installs" if r["mode"] == "install" else "resolves") + ("" if good else " (wrong)")
        mech = f"**{r['mechanism']}**" if r["chosen"] else r["mechanism"]
        others = ", ".join(r["older_from_pytorch_idx"]) or "-"
        out.append(
            f"| {r['id']} | {mech} | {r['installer']} | {result} | {r['torch']} | {r['torch_from']} | "
            f"{r['numpy']} | {r['numpy_from']} | {others} | {r['seconds'] or '-'} |"
        )
        if r["chosen"] and not good:
            failed.append(
                f"{r['installer']}: torch {r['torch']} from {r['torch_from']}, numpy {r['numpy']}"
                + ("" if r["ok"] else " (failed)")
            )
    print("\n".join(out))
    notes = [f"  {r['id']} {r['installer']}: {r['note']}" for r in rows if r["note"]]
    notes += [f"  {r['id']} {r['installer']}: {r['import_check']}" for r in rows if r["import_check"]]
    if notes:
        print("\n" + "\n".join(notes))
    if failed:
        print(
            f"\nFAIL: requirements.txt must give torch {want} from PyTorch's CPU index "
            f"and numpy {a.numpy}, under uv and under pip:"
        )
        print("  " + "\n  ".join(failed))
        sys.exit(1)
    print(
        f"\nOK: requirements.txt gives torch {want} from PyTorch's CPU index "
        f"and numpy {a.numpy}, under uv and under pip."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, args in {
        "build": ["out"],
        "serve": ["out", "port_file", "log"],
        "render": ["candidate", "requirements", "port", "numpy", "out"],
        "pyproject": ["requirements", "port", "numpy", "out"],
        "title": ["candidate"],
        "intended-numpy": ["requirements"],
        "table": ["rows", "numpy"],
    }.items():
        p = sub.add_parser(name)
        for arg in args:
            p.add_argument(arg)
    sub.choices["render"].add_argument("--closed-port", default="")
    row = sub.add_parser("row")
    for opt in (
        "rows",
        "id",
        "mechanism",
        "installer",
        "mode",
        "kind",
        "resolved",
        "python",
        "note",
        "import-check",
        "seconds",
    ):
        row.add_argument("--" + opt, default="")
    row.add_argument("--ok", type=int, default=0)
    row.add_argument("--chosen", type=int, default=0)
    a = ap.parse_args()
    commands = {
        "build": cmd_build,
        "serve": cmd_serve,
        "render": cmd_render,
        "pyproject": cmd_pyproject,
        "title": cmd_title,
        "intended-numpy": cmd_intended_numpy,
        "row": cmd_row,
        "table": cmd_table,
    }
    commands[a.cmd](a)


if __name__ == "__main__":
    main()
