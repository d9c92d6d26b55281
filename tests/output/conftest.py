"""Fixtures of the export tests: timelines of sine clips and a full disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.output.helpers import PLAN, SR, build, tmpfs
from voiceguide.compile.timeline import Timeline


@pytest.fixture
def timeline() -> Timeline:
    return build(PLAN)


@pytest.fixture
def long_timeline() -> Timeline:
    """Twenty seconds, mostly silence."""
    return build([*PLAN, ("silence", 8 * SR, "Closing"), ("speech", "Still here.", "Closing")] * 2)


@pytest.fixture
def noisy_timeline() -> Timeline:
    """Half a minute of noise (with :class:`NoiseClips`): more than a tiny disk holds."""
    return build([("speech", "n" * 5000, "Noise"), ("silence", SR, "Noise")] * 2)


@pytest.fixture
def full_disk() -> Iterator[Path]:
    """A 64 KiB filesystem: smaller than any export of the long timeline."""
    with tmpfs("size=64k") as point:
        yield point
