"""Shared fixtures: golden-file regeneration, an isolated user folder, a private D-Bus."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden",
        action="store_true",
        help="Rewrite the expected outputs in tests/data from the current code (review the diff).",
    )


@pytest.fixture
def regen(request: pytest.FixtureRequest) -> bool:
    """Whether golden files are being regenerated rather than compared."""
    return bool(request.config.getoption("--regen-golden"))


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point the user's data, cache and config folders at a fresh temporary folder.

    The default engine is pinned to espeak-ng (``VOICEGUIDE_DEFAULT_ENGINE``): the natural
    voice is the default where it is installed (as here), and the suite's expectations
    are espeak-ng's. Tests of the default itself unset it.
    """
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("VOICEGUIDE_HOME", str(home))
    monkeypatch.setenv("VOICEGUIDE_DEFAULT_ENGINE", "espeak")
    return home


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[str]:
    """A private D-Bus session bus (``dbus-daemon``, killed at teardown); its address."""
    daemon = subprocess.Popen(
        [
            "dbus-daemon",
            "--session",
            "--nofork",
            f"--address=unix:path={tmp_path / 'bus'}",
            "--print-address=1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().strip()
        assert address.startswith("unix:"), address
        yield address
    finally:
        daemon.kill()
        daemon.wait()
        if daemon.stdout is not None:
            daemon.stdout.close()
