"""The package as a user installs it: `pip install .` into a fresh venv, not editable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.e2e.conftest import ROOT


def installed(tmp_path: Path) -> Path:
    """A fresh venv with ledgerdesk installed from (a copy of) the source tree, not editable. Its
    dependencies come from this venv's site-packages through a .pth line, so nothing is
    downloaded; pip and setuptools too, which is why the venv has no pip of its own."""
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    (site / "site-packages" / "dev-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # A copy of the tracked files: building writes build/ into the tree it builds
    source = tmp_path / "source"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [
            *(str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps"),
            *("--no-build-isolation", "--no-index", str(source)),
        ],
        check=True,
        cwd=tmp_path,
        capture_output=True,
    )
    return venv


def test_pip_install_gives_a_working_command_and_no_stray_top_level_modules(
    tmp_path: Path,
) -> None:
    # Given ledgerdesk installed into a fresh venv from the source tree
    venv = installed(tmp_path)
    site = next((venv / "lib").glob("python*/site-packages"))
    # Then the composition root and entry points are inside the ledgerdesk package
    top_level = {p.name for p in site.iterdir()}
    assert not top_level & {"settings.py", "cli.py", "bootstrap.py"}
    assert {"ledgerdesk", "domain", "commands", "projections", "api", "workers"} <= top_level
    # And the vendored documentation assets and the templates are in it
    for shipped in ("static/docs/swagger-ui-bundle.js", "static/docs/redoc.standalone.js"):
        assert (site / "api" / shipped).is_file(), shipped
    assert (site / "api" / "templates" / "gantt.svg.j2").is_file()
    # And the licence is an SPDX expression
    metadata = next(site.glob("ledgerdesk-*.dist-info")).joinpath("METADATA").read_text()
    assert "License-Expression: AGPL-3.0-or-later" in metadata
    # When the installed command creates an install, outside the source tree
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEDGERDESK_", "PYTHON"))}
    env["LEDGERDESK_DATA_DIR"] = str(tmp_path / "var")
    done = subprocess.run(
        [str(venv / "bin" / "ledgerdesk"), "init", "--admin-email", "admin@example.com"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    # Then it works from the installed files alone
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("ld_")
    origin = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import ledgerdesk, api; print(ledgerdesk.__file__, api.__file__)",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(ROOT) not in origin
