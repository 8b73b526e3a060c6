"""Procedural 64 × 64 faces whose attributes are tied to a synthetic voice by a STATED rule.

This is a test bed, synthetic by construction: the voice → face correlations below are
**planted** by us, not learned from people. Real voice–face correlations need real paired
data (VoxCeleb / AVSpeech, see :mod:`synesthesia.data.speech2face`).

The planted rule (:func:`face_attributes_for_voice`), voice setting → face attribute:

============================  ====================================================  ========
voice setting                 face attribute                                        values
============================  ====================================================  ========
eSpeak variant f1–f5 / m1–m7  ``gender``: face shape (narrow oval / wide jaw) and   2
                              hair (long / short)
variant number                hair colour (one of :data:`HAIR_COLOURS`)             7
pitch factor low / mid / high ``age``: older (greyed hair, forehead and smile      3
                              lines, small eyes) / adult / young (large eyes,
                              rosy cheeks)
speaking rate slow/mid/fast   mouth width (narrow / medium / wide)                  3
accent (eSpeak language)      ``skin``: one of :data:`SKIN_TONES`                   4
============================  ====================================================  ========

On top of the rule every identity gets its own random variation (face width and height,
eye spacing and height, nose length, hair and skin shade, background colour), so no two
faces are alike, and each "video frame" of a face (:func:`render_face` with ``jitter``) is
shifted by a pixel or two and relit slightly. Drawing is plain numpy (ellipses and
rectangles on a pixel grid): a canonical, front-facing face with ``jitter=None``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from synesthesia.errors import ParameterError

__all__ = [
    "ACCENTS",
    "ATTRIBUTES",
    "HAIR_COLOURS",
    "PITCHES",
    "RATES",
    "SKIN_TONES",
    "VARIANTS",
    "FaceParams",
    "face_attributes_for_voice",
    "random_face_params",
    "render_face",
]

#: eSpeak NG voice variants: f* are the female variants, m* the male ones
VARIANTS = ("f1", "f2", "f3", "f4", "f5", "m1", "m2", "m3", "m4", "m5", "m6", "m7")
#: eSpeak NG English accents (languages), each planted on one skin tone
ACCENTS = ("en-us", "en-gb-x-rp", "en-gb-scotland", "en-029")
#: pitch factors (low → older, mid → adult, high → young)
PITCHES = (0.8, 1.0, 1.25)
#: speaking-rate factors (slow → narrow mouth ... fast → wide mouth)
RATES = (0.8, 1.0, 1.25)
SKIN_TONES = {
    "light": (0.96, 0.82, 0.70),
    "tan": (0.86, 0.66, 0.48),
    "olive": (0.70, 0.55, 0.36),
    "dark": (0.45, 0.30, 0.20),
}
HAIR_COLOURS = (
    (0.10, 0.07, 0.05),  # black
    (0.40, 0.24, 0.10),  # brown
    (0.85, 0.70, 0.35),  # blond
    (0.70, 0.25, 0.10),  # auburn
    (0.25, 0.18, 0.30),  # plum
    (0.50, 0.50, 0.45),  # ash
    (0.15, 0.25, 0.45),  # dyed blue
)
_GREY = (0.80, 0.80, 0.80)  # older hair is blended towards it
_ROSE = (0.95, 0.40, 0.45)  # young cheeks are blended towards it
#: the attributes an attribute classifier reads off a face, with their values
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "gender": ("female", "male"),
    "age": ("older", "adult", "young"),
    "skin": tuple(SKIN_TONES),
}


@dataclass(frozen=True)
class FaceParams:
    """Everything :func:`render_face` draws (planted attributes + per-identity variation)."""

    gender: str
    age: str
    skin: str
    hair_colour: int
    mouth: int
    face_width: float
    face_height: float
    eye_spacing: float
    eye_height: float
    nose_length: float
    hair_shade: float
    skin_shade: float
    background: tuple[float, float, float]

    def to_dict(self) -> dict:
        """JSON-serialisable fields."""
        return asdict(self)


def face_attributes_for_voice(*, variant: str, pitch: float, rate: float, accent: str) -> dict:
    """The planted rule: a voice's settings → its face's attributes (see the module table).

    Returns:
        ``{"gender", "age", "skin", "hair_colour", "mouth"}``.
    """
    if variant not in VARIANTS:
        raise ParameterError(f"variant={variant!r} must be one of {list(VARIANTS)}")
    if pitch not in PITCHES:
        raise ParameterError(f"pitch={pitch!r} must be one of {list(PITCHES)}")
    if rate not in RATES:
        raise ParameterError(f"rate={rate!r} must be one of {list(RATES)}")
    if accent not in ACCENTS:
        raise ParameterError(f"accent={accent!r} must be one of {list(ACCENTS)}")
    return {
        "gender": "female" if variant.startswith("f") else "male",
        "age": ATTRIBUTES["age"][PITCHES.index(pitch)],
        "skin": tuple(SKIN_TONES)[ACCENTS.index(accent)],
        "hair_colour": (int(variant[1:]) - 1) % len(HAIR_COLOURS),
        "mouth": RATES.index(rate),
    }


def random_face_params(attributes: dict, rng: np.random.Generator) -> FaceParams:
    """Planted ``attributes`` + this identity's own random variation."""
    return FaceParams(
        gender=attributes["gender"],
        age=attributes["age"],
        skin=attributes["skin"],
        hair_colour=int(attributes["hair_colour"]),
        mouth=int(attributes["mouth"]),
        face_width=float(rng.uniform(-0.06, 0.06)),
        face_height=float(rng.uniform(-0.05, 0.05)),
        eye_spacing=float(rng.uniform(-0.04, 0.04)),
        eye_height=float(rng.uniform(-0.04, 0.04)),
        nose_length=float(rng.uniform(-0.04, 0.04)),
        hair_shade=float(rng.uniform(-0.08, 0.08)),
        skin_shade=float(rng.uniform(-0.05, 0.05)),
        background=tuple(float(v) for v in rng.uniform(0.55, 0.95, size=3)),
    )


def _ellipse(x: np.ndarray, y: np.ndarray, cx: float, cy: float, rx: float, ry: float):
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0


def render_face(
    params: FaceParams,
    *,
    size: int = 64,
    jitter: np.random.Generator | None = None,
) -> np.ndarray:
    """Draw a face: (size, size, 3) float32 RGB in [0, 1].

    Args:
        params: what to draw.
        size: side in pixels (>= 16).
        jitter: ``None`` for the canonical front-facing face; a generator draws a "video
            frame" of it (shifted by up to 2 px at 64 px, brightness ±10 %).
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 16:
        raise ParameterError(f"size={size!r} must be an integer >= 16")
    p = params
    dx = dy = 0.0
    light = 1.0
    if jitter is not None:
        dx, dy = (float(v) for v in jitter.uniform(-2.0 / 64, 2.0 / 64, size=2))
        light = float(jitter.uniform(0.9, 1.1))
    coords = (np.arange(size, dtype=np.float64) + 0.5) / size
    x, y = np.meshgrid(coords - dx, coords - dy)  # (size, size), x to the right, y down
    image = np.empty((size, size, 3), dtype=np.float64)
    image[:] = p.background
    male = p.gender == "male"
    skin = np.clip(np.array(SKIN_TONES[p.skin]) + p.skin_shade, 0, 1)
    hair = np.clip(np.array(HAIR_COLOURS[p.hair_colour]) + p.hair_shade, 0, 1)
    rx = (0.27 if male else 0.23) + p.face_width
    ry = 0.31 + p.face_height
    cx, cy = 0.5, 0.54
    # hair behind the face: long hair falls to the jaw (female), short hair is a cap (male)
    if male:
        back = _ellipse(x, y, cx, cy - 0.12, rx + 0.03, ry * 0.75) & (y < cy - 0.05)
    else:
        back = _ellipse(x, y, cx, cy - 0.02, rx + 0.09, ry + 0.06) & (y < cy + 0.28)
    image[back] = hair
    face = _ellipse(x, y, cx, cy, rx, ry)
    if male:  # a wide, square jaw
        jaw = (np.abs(x - cx) < rx * 0.92) & (y > cy) & (y < cy + ry * 0.85)
        face = face | jaw
    image[face] = skin
    fringe = _ellipse(x, y, cx, cy - ry * 0.78, rx * 1.02, ry * 0.38) & (y < cy - ry * 0.55)
    image[fringe] = hair
    if p.age == "older":  # greyed hair, three forehead lines, smile lines
        image[(back & ~face) | fringe] = 0.45 * hair + 0.55 * np.array(_GREY)
        for line in (0.40, 0.48):
            lines = (np.abs(y - (cy - ry * line)) < 0.6 / size) & (np.abs(x - cx) < rx * 0.6)
            image[lines & face] = skin * 0.55
        for side in (-1, 1):
            fold = (np.abs(x - (cx + side * 0.12)) < 0.8 / size) & (np.abs(y - (cy + 0.12)) < 0.06)
            image[fold & face] = skin * 0.6
    elif p.age == "young":  # rosy cheeks
        for side in (-1, 1):
            cheek = _ellipse(x, y, cx + side * 0.14, cy + 0.07, 0.05, 0.035) & face
            image[cheek] = 0.45 * skin + 0.55 * np.array(_ROSE)
    # a darker outline where the hair meets the background keeps its length legible whatever
    # the two colours (grey hair on a light background)
    hair_mask = (back & ~face) | fringe
    inside = hair_mask.copy()
    for shift, axis in ((1, 0), (-1, 0), (1, 1), (-1, 1)):
        inside &= np.roll(hair_mask | face, shift, axis=axis)
    image[hair_mask & ~inside] *= 0.55
    eye_y = cy - 0.06 + p.eye_height
    eye_dx = 0.10 + p.eye_spacing
    eye_r = {"older": 0.030, "adult": 0.036, "young": 0.046}[p.age]
    for side in (-1, 1):
        white = _ellipse(x, y, cx + side * eye_dx, eye_y, eye_r * 1.4, eye_r)
        image[white] = (0.97, 0.97, 0.97)
        image[_ellipse(x, y, cx + side * eye_dx, eye_y, eye_r * 0.6, eye_r * 0.8)] = (
            0.12,
            0.10,
            0.08,
        )
        brow = (np.abs(y - (eye_y - eye_r - 0.025)) < 0.012) & (
            np.abs(x - (cx + side * eye_dx)) < eye_r * 1.5
        )
        image[brow] = hair * 0.8
    nose = (np.abs(x - cx) < 0.018) & (y > eye_y + 0.02) & (y < eye_y + 0.13 + p.nose_length)
    image[nose] = skin * 0.8
    mouth_w = (0.07, 0.10, 0.14)[p.mouth]
    mouth_y = cy + 0.16
    mouth = _ellipse(x, y, cx, mouth_y, mouth_w, 0.022) & (y >= mouth_y - 0.004)
    image[mouth] = (0.65, 0.15, 0.18)
    return np.clip(image * light, 0.0, 1.0).astype(np.float32)
