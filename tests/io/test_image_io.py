"""load_image: modes, transparency, EXIF rotation and every kind of bad file."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from synesthesia.errors import ParameterError
from synesthesia.io.image import load_image


def _rgb_array(height=5, width=7, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_rgb_png_round_trip(tmp_path):
    array = _rgb_array()
    Image.fromarray(array).save(tmp_path / "a.png")
    image = load_image(tmp_path / "a.png")
    assert image.shape == (3, 5, 7) and image.dtype == torch.float32
    expected = torch.from_numpy(array).permute(2, 0, 1).float() / 255.0
    torch.testing.assert_close(image, expected, rtol=0, atol=0)


def test_grayscale_gives_three_equal_channels_or_one(tmp_path):
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    Image.fromarray(gray, mode="L").save(tmp_path / "g.png")
    rgb = load_image(tmp_path / "g.png")
    assert rgb.shape == (3, 3, 4)
    torch.testing.assert_close(rgb[0], rgb[2], rtol=0, atol=0)
    torch.testing.assert_close(rgb[1], torch.from_numpy(gray).float() / 255, rtol=0, atol=0)
    assert load_image(tmp_path / "g.png", mode="L").shape == (1, 3, 4)


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red
    rgba[0, 1] = (0, 0, 0, 0)  # fully transparent black -> white
    rgba[1, 0] = (0, 0, 0, 128)  # half-transparent black -> mid grey
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "t.png")
    image = load_image(tmp_path / "t.png")
    torch.testing.assert_close(image[:, 0, 0], torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(image[:, 0, 1], torch.ones(3))
    assert torch.allclose(image[:, 1, 0], torch.full((3,), 127 / 255), atol=2 / 255)


def test_palette_with_transparency_and_cmyk(tmp_path):
    palette = Image.new("P", (3, 2), 0)
    palette.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    palette.putpixel((1, 0), 1)
    palette.info["transparency"] = 0
    palette.save(tmp_path / "p.png", transparency=0)
    image = load_image(tmp_path / "p.png")
    torch.testing.assert_close(image[:, 0, 0], torch.ones(3))  # transparent -> white
    torch.testing.assert_close(image[:, 0, 1], torch.tensor([0.0, 1.0, 0.0]))

    Image.new("CMYK", (4, 3), (0, 255, 255, 0)).save(tmp_path / "c.tiff")
    cmyk = load_image(tmp_path / "c.tiff")
    assert cmyk.shape == (3, 3, 4)
    torch.testing.assert_close(cmyk[:, 0, 0], torch.tensor([1.0, 0.0, 0.0]))


def test_exif_orientation_is_applied(tmp_path):
    array = np.zeros((4, 6, 3), dtype=np.uint8)
    array[0, 0] = 255  # a white pixel top-left
    image = Image.fromarray(array)
    exif = image.getexif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    image.save(tmp_path / "r.png", exif=exif)
    loaded = load_image(tmp_path / "r.png")
    assert loaded.shape == (3, 6, 4)
    # after a clockwise rotation the top-left pixel is at the top-right
    assert loaded[0, 0, 3] == 1.0 and loaded[0, 0, 0] == 0.0


def test_non_image_and_missing_files(tmp_path):
    (tmp_path / "notes.png").write_text("this is not an image")
    with pytest.raises(ParameterError, match="not an image"):
        load_image(tmp_path / "notes.png")
    with pytest.raises(ParameterError, match="does not exist"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ParameterError, match="mode"):
        load_image(tmp_path / "notes.png", mode="CMYK")


def test_truncated_file_names_the_path(tmp_path):
    Image.fromarray(_rgb_array(64, 64)).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ParameterError, match="cut.png.*truncated"):
        load_image(tmp_path / "cut.png")


def test_one_pixel_image_loads_with_a_warning(tmp_path):
    Image.new("RGB", (1, 1), (10, 20, 30)).save(tmp_path / "one.png")
    with pytest.warns(UserWarning, match="1x1"):
        image = load_image(tmp_path / "one.png")
    assert image.shape == (3, 1, 1)


@pytest.mark.parametrize("limit", [1000, 6000])
def test_decompression_bomb_guard(tmp_path, monkeypatch, limit):
    Image.new("RGB", (100, 100)).save(tmp_path / "big.png")  # 10,000 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    with pytest.raises(ParameterError, match="MAX_IMAGE_PIXELS"):
        load_image(tmp_path / "big.png")
