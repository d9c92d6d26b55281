"""The wheel carries the routines and sounds: `voiceguide list` works from anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_and_lists_the_built_in_routines(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = dist.glob("voiceguide-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "voiceguide/data/scripts/sitting-foot.yaml" in names
    assert "voiceguide/data/scripts/points.yaml" in names
    assert "voiceguide/data/audio/press.wav" in names

    # A fresh environment with the wheel; its dependencies come from this environment's
    # site-packages (a plain path: the editable install's hook there is not loaded).
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    (Path(site) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["VOICEGUIDE_HOME"] = str(tmp_path / "home")
    result = subprocess.run(
        [env_dir / "bin" / "voiceguide", "list"],
        cwd=elsewhere, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for name in ("sitting-foot", "sleeping-foot", "back-pain", "bedtime", "five-minute"):
        assert name in result.stdout
    where = subprocess.run(
        [python, "-c", "import voiceguide, sys; print(voiceguide.__file__)"],
        cwd=elsewhere, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert str(env_dir) in where  # the wheel's copy, not the checkout
