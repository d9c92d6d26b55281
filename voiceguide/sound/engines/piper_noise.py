"""Piper's noise, drawn by voiceguide: the model rewritten to take it as inputs.

A Piper voice (VITS) draws random noise inside onnxruntime, in two ``RandomNormalLike``
nodes: one for the phoneme durations (scaled by ``noise_w``), one for the voice itself
(scaled by ``noise_scale``). That variation is much of why it sounds natural, but onnxruntime
seeds each node's generator once, when the model is loaded, and advances it with every
phrase, with no way to set it back: so a phrase's samples depended on what the process had
said before. :func:`noise_as_inputs` rewrites the model so that each node takes its values
from a new input instead (``Slice(noise, 0, Shape(x))``, the noise cut to the shape the node
would have drawn), and :func:`sentence_noise` draws those values from a generator seeded by
the sentence itself: every sentence has noise of its own, the same every time.

The model is edited at the protobuf wire level (the ``onnx`` package is not needed), in one
copy of its bytes: see :func:`noise_as_inputs`. Standard library only, apart from numpy in
:func:`sentence_noise`, so the speaker process
(:mod:`voiceguide.sound.engines.piper_speaker`) can load this file by path.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from typing import Any

DURATION_NOISE = "voiceguide_noise_durations"
"""The input replacing the duration predictor's noise, shape ``[1, 2, ids]``."""
VOICE_NOISE = "voiceguide_noise_voice"
"""The input replacing the flow's noise, shape ``[1, VOICE_CHANNELS, frames]`` (or more)."""
VOICE_CHANNELS = 256
"""Channels of voice noise drawn per frame; a model uses the first ones (192 for Piper's)."""
FRAMES_PER_ID = 8
"""Frames of voice noise drawn per phoneme id at length scale 1, to start with."""
_ZEROS = "voiceguide_zeros"
_UNUSED = "_unused"
_RANDOM = b"RandomNormalLike"


class NoiseModelError(ValueError):
    """The model does not draw its noise the way Piper's voices do."""


def _varint(data: memoryview, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def _fields(
    data: memoryview, at: int = 0, end: int | None = None
) -> Iterator[tuple[int, int, tuple[int, int] | None]]:
    """Yield each field's number, where it begins, and where its payload lies (if any)."""
    end = len(data) if end is None else end
    while at < end:
        begin = at
        tag, at = _varint(data, at)
        number, wire = tag >> 3, tag & 7
        payload = None
        if wire == 0:
            _, at = _varint(data, at)
        elif wire == 2:
            length, at = _varint(data, at)
            payload = (at, at + length)
            at += length
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
        else:
            raise NoiseModelError(f"unexpected protobuf wire type {wire}")
        if at > end:
            raise NoiseModelError("a protobuf field runs past its message")
        yield number, begin, payload


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def _bytes_field(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | 2) + _encode_varint(len(payload)) + payload


def _int_field(number: int, value: int) -> bytes:
    return _encode_varint(number << 3) + _encode_varint(value)


def _node(inputs: list[str], outputs: list[str], name: str, op_type: str) -> bytes:
    """A NodeProto: input 1, output 2, name 3, op_type 4."""
    fields = [_bytes_field(1, item.encode()) for item in inputs]
    fields += [_bytes_field(2, item.encode()) for item in outputs]
    fields += [_bytes_field(3, name.encode()), _bytes_field(4, op_type.encode())]
    return b"".join(fields)


def _float_input(name: str) -> bytes:
    """A ValueInfoProto: a float tensor of rank 3 with named dimensions."""
    dims = b"".join(_bytes_field(1, _bytes_field(2, f"{name}_{k}".encode())) for k in range(3))
    tensor_type = _bytes_field(1, _int_field(1, 1) + _bytes_field(2, dims))  # elem_type FLOAT
    return _bytes_field(1, name.encode()) + _bytes_field(2, tensor_type)


def _random_nodes(model: memoryview) -> list[tuple[str, str, int, str]]:
    """Find the graph's RandomNormalLike nodes: name, input, output, where the output is."""
    graphs = [span for number, _, span in _fields(model) if number == 7 and span is not None]
    if len(graphs) != 1:
        raise NoiseModelError("expected one graph in the model")
    found = []
    for number, _, span in _fields(model, *graphs[0]):
        if number != 1 or span is None or _RANDOM not in model[span[0] : span[1]].tobytes():
            continue  # not a node (the weights are skipped unread), or not a random one
        strings: dict[int, list[tuple[str, int]]] = {}
        for field, begin, text in _fields(model, *span):
            if text is not None and field in (1, 2, 3, 4):
                value = model[text[0] : text[1]].tobytes().decode("utf-8")
                strings.setdefault(field, []).append((value, begin))
        if [value for value, _ in strings.get(4, [])] != [_RANDOM.decode()]:
            continue
        ((shaped, _),) = strings.get(1, [("", 0)])
        ((drawn, where),) = strings.get(2, [("", 0)])
        name = strings.get(3, [(drawn, 0)])[0][0]
        found.append((name, shaped, where, drawn))
    return found


def noise_as_inputs(model: bytes) -> bytes:
    """Return the ONNX ``model`` with its two random nodes' noise taken from inputs instead.

    The random nodes stay, their outputs renamed (same length, so the bytes around are
    untouched) to a name nothing reads; nodes appended in a second graph field (protobuf
    merges it into the first) make the old output names from the noise inputs. So the
    model is copied once, not re-encoded. Raise :class:`NoiseModelError` if it is not built
    like a Piper voice.
    """
    view = memoryview(model)
    nodes = sorted(_random_nodes(view), key=lambda node: node[2])
    kinds = sorted(DURATION_NOISE if "/dp/" in name else VOICE_NOISE for name, *_ in nodes)
    if kinds != sorted([DURATION_NOISE, VOICE_NOISE]):
        raise NoiseModelError(
            "expected the two random nodes of a Piper voice (durations and voice), "
            f"found {len(nodes)}"
        )
    pieces: list[bytes | memoryview] = []
    added = []
    done = 0
    for name, shaped, where, drawn in nodes:
        field = _bytes_field(2, drawn.encode())
        unused = f"{drawn[: -len(_UNUSED)]}{_UNUSED}" if len(drawn) > len(_UNUSED) else ""
        if view[where : where + len(field)].tobytes() != field or len(unused) != len(drawn):
            raise NoiseModelError(f"cannot rename the output of {name}")
        pieces += [view[done:where], _bytes_field(2, unused.encode())]
        done = where + len(field)
        noise = DURATION_NOISE if "/dp/" in name else VOICE_NOISE
        shape = f"{drawn}_shape"
        added.append(_bytes_field(1, _node([shaped], [shape], f"{name}_shape", "Shape")))
        added.append(
            _bytes_field(1, _node([noise, _ZEROS, shape], [drawn], f"{name}_noise", "Slice"))
        )
    pieces.append(view[done:])
    zeros = _int_field(1, 3) + _int_field(2, 7) + _bytes_field(8, _ZEROS.encode())
    added.append(_bytes_field(5, zeros + _bytes_field(9, bytes(24))))  # int64 [0, 0, 0]
    added += [_bytes_field(11, _float_input(name)) for name in (DURATION_NOISE, VOICE_NOISE)]
    pieces.append(_bytes_field(7, b"".join(added)))  # ModelProto.graph, merged
    return b"".join(pieces)


def sentence_seed(ids: list[int], seed: int) -> int:
    """The seed of a sentence's noise: from its phoneme ids and the engine's ``seed``."""
    material = f"voiceguide piper noise {seed} " + " ".join(map(str, ids))
    return int.from_bytes(hashlib.sha256(material.encode()).digest()[:16], "little")


def sentence_noise(ids: list[int], seed: int, length_scale: float, more: int = 1) -> dict[str, Any]:
    """Draw a sentence's noise inputs: the same for the same sentence, every time.

    The voice noise is drawn frame by frame, so a longer draw (``more`` times as many
    frames, for a sentence that needs them) begins with the same values.
    """
    import numpy as np

    generator = np.random.Generator(np.random.PCG64(sentence_seed(ids, seed)))
    durations = generator.standard_normal((len(ids), 2), dtype=np.float32)
    frames = math.ceil(len(ids) * FRAMES_PER_ID * max(1.0, length_scale)) * more
    voice = generator.standard_normal((frames, VOICE_CHANNELS), dtype=np.float32)
    return {
        DURATION_NOISE: np.ascontiguousarray(durations.T[np.newaxis]),
        VOICE_NOISE: np.ascontiguousarray(voice.T[np.newaxis]),
    }
