"""setuptools hook: building the package (a wheel, `pip install .`, `pip install -e .`) builds the web client
first when portal/web/client/ has no build yet, as `make web` does, so that every way of installing serves the pages.

Without npm the package still builds; `portal serve` then answers the pages with 503 saying how to build them.
"""
import shutil
import subprocess
from pathlib import Path

from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
BUILT = ROOT / "portal" / "web" / "client" / "index.html"


def build_web_client() -> None:
    if BUILT.is_file() or not (WEB / "package-lock.json").is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        print("npm not found: the web client is not built (run `make web` later)")
        return
    if not (WEB / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    subprocess.run([npm, "run", "build"], cwd=WEB, check=True)


class BuildWithWebClient(build_py):
    """build_py that builds the web client before it copies the package data (which includes it)."""

    def run(self) -> None:
        build_web_client()
        super().run()
