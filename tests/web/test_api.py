"""The web app through its HTTP API (what the page calls): every tab answers, bad input gets a
clear message and leaves the server up, no file outside the app's folder is read or served,
and concurrent requests are all answered."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synesthesia.pipelines import asset_path
from synesthesia.web.limits import MAX_AUDIO_SECONDS, MAX_TEXT_CHARS, MAX_UPLOAD_MB

STRIP = asset_path("digit_strip_example.png")
SPEECH = asset_path("speech.wav")
SEVEN = asset_path("embed_digits/query_seven.wav")
BIRDS = asset_path("scene_birds.wav")


def _file(path):
    from gradio_client import handle_file

    return handle_file(str(path))


def _local(server, value) -> Path:
    """The server-side path of a returned file (inside the app's folder)."""
    path = Path(value["path"] if isinstance(value, dict) else value)
    assert path.resolve().is_relative_to(server.workdir), path
    return path


def _refused(server, match: str, *args, api_name: str) -> str:
    """Call an endpoint that must refuse its input; return the message and check the server
    still answers."""
    from gradio_client.exceptions import AppError

    client = server.client()
    with pytest.raises(AppError) as caught:
        client.predict(*args, api_name=api_name)
    message = str(caught.value)
    assert match in message, message
    assert str(server.workdir) not in message  # names the file, not the server's folder
    assert client.predict(_file(STRIP), 3, api_name="/caption")[1] == "seven six three"
    return message


# --------------------------------------------------------------------------- every tab
def test_chain_runs_end_to_end(server):
    client = server.client()
    out = client.predict(_file(STRIP), "", None, "griffin-lim", api_name="/chain")
    warnings, caption, attention, sound, speech, representations, scene, retrieval = out[:8]
    face, files, data = out[8:]
    assert caption == "seven six three"
    assert data["spoken_text"] == "seven six three"
    assert [w["ranking"][0]["image"] for w in data["retrieval"]["words"]] == [
        "seven.png", "six.png", "three.png",
    ]  # fmt: skip
    assert "looks unlike the model's training data" in warnings  # speech is not a scene
    wav = _local(server, sound)
    assert sf.info(str(wav)).format == "WAV" and sf.info(str(wav)).frames > 8000
    for figure in (attention, speech, representations, scene, retrieval):
        assert _local(server, figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    names = sorted(_local(server, f).suffix for f in files)
    figures = 5 if face is None else 6  # a face when a Speech2Face model ships
    assert names.count(".png") == figures and ".wav" in names and ".json" in names
    saved = json.loads(next(_local(server, f) for f in files if f["path"].endswith(".json"))
                       .read_text())  # fmt: skip
    assert saved["caption"]["text"] == "seven six three"


def test_chain_from_text_and_from_clip(server):
    client = server.client()
    out = client.predict(None, "two five", None, "griffin-lim", api_name="/chain")
    data = out[-1]
    assert out[1] == "" and data["caption"] is None
    assert [w["ranking"][0]["image"] for w in data["retrieval"]["words"]] == ["two.png", "five.png"]
    out = client.predict(None, "", _file(BIRDS), "griffin-lim", api_name="/chain")
    data = out[-1]
    assert data["sound"]["source"] == "the clip" and data["retrieval"]["words"] == []
    assert max(data["scene"]["probabilities"], key=data["scene"]["probabilities"].get) == "birds"
    assert math.isclose(data["sound"]["seconds"], 3.0, abs_tol=0.01)


def test_each_tab_answers(server):
    client = server.client()
    warn, caption, attention, files = client.predict(_file(STRIP), 3, api_name="/caption")
    assert caption == "seven six three" and warn == ""
    warn, info, wav, fig, files = client.predict("Place green at b nine soon.", "griffin-lim",
                                                 api_name="/speak")  # fmt: skip
    assert "s of speech" in info and sf.info(str(_local(server, wav))).duration > 0.5
    info, wav, fig, files = client.predict(_file(SPEECH), "griffin-lim", api_name="/vocoder")
    assert "log-mel" in info and sf.info(str(_local(server, wav))).frames > 0
    info, fig, wav, files = client.predict(_file(SPEECH), api_name="/audio")
    assert "spectral convergence" in info
    warn, label, files = client.predict(_file(BIRDS), api_name="/scene")
    assert label["label"] == "birds" and warn == ""
    warn, info, grid, files = client.predict(_file(SEVEN), [], api_name="/retrieve")
    assert info.startswith("best match: seven.png")


def test_ood_warning_is_shown_for_a_photo(server, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    photo = tmp_path / "noise.png"
    Image.fromarray(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)).save(photo)
    warn, caption, _, _ = server.client().predict(_file(photo), 3, api_name="/caption")
    assert "the image looks unlike the model's training data" in warn


def test_lm_tab_without_a_model_says_how_to_get_one(server):
    _refused(server, "synesthesia lm train", "ROMEO:", 20, 0.8, 0, api_name="/lm")


def test_face_tab_says_how_to_get_a_model_when_none_ships(server):
    from synesthesia.demos.chain import FACE_MODEL
    from synesthesia.pipelines import list_pretrained

    if FACE_MODEL in list_pretrained():  # the shipped model answers instead
        warn_or_info = server.client().predict(_file(SPEECH), api_name="/face")[0]
        assert "gender" in warn_or_info
    else:
        _refused(server, "synesthesia face train", _file(SPEECH), api_name="/face")


# -------------------------------------------------------------------------- bad input
def test_non_image(server, tmp_path):
    fake = tmp_path / "holiday.png"
    fake.write_text("this is not a picture\n" * 20)
    message = _refused(server, "holiday.png", _file(fake), 3, api_name="/caption")
    assert "not an image" in message or "cannot identify" in message
    _refused(server, "holiday.png", _file(fake), "", None, "griffin-lim", api_name="/chain")


def test_empty_clip(server, tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    _refused(server, "'empty.wav' is empty (0 bytes)", _file(empty), api_name="/scene")
    header_only = tmp_path / "nothing.wav"
    sf.write(header_only, np.zeros(0, dtype=np.float32), 16000)
    _refused(server, "'nothing.wav' holds no audio (0 samples)", _file(header_only),
             api_name="/audio")  # fmt: skip
    _refused(server, "nothing.wav", None, "", _file(header_only), "griffin-lim",
             api_name="/chain")  # fmt: skip


def test_twenty_minute_clip(server, tmp_path):
    long = tmp_path / "lecture.wav"
    rate, seconds = 8000, 20 * 60  # 19.2 MB of 16-bit samples: under the upload cap
    with sf.SoundFile(long, "w", samplerate=rate, channels=1, subtype="PCM_16") as handle:
        block = (0.1 * np.sin(np.arange(rate) * 2 * np.pi * 440 / rate)).astype(np.float32)
        for _ in range(seconds):
            handle.write(block)
    assert long.stat().st_size < MAX_UPLOAD_MB * 2**20
    message = _refused(server, "'lecture.wav' is 20.0 minutes long", _file(long),
                       api_name="/scene")  # fmt: skip
    assert f"at most {MAX_AUDIO_SECONDS:.0f} s" in message


def test_upload_over_the_size_cap_is_refused(server, tmp_path):
    import httpx

    big = tmp_path / "big.wav"
    big.write_bytes(b"\0" * ((MAX_UPLOAD_MB + 1) * 2**20))
    with big.open("rb") as handle:
        response = httpx.post(server.url + "gradio_api/upload",
                              files={"files": ("big.wav", handle)}, timeout=60)  # fmt: skip
    assert response.status_code == 413, response.text
    assert "File size exceeded maximum allowed size" in response.text
    assert httpx.get(server.url, timeout=10).status_code == 200


def test_twenty_thousand_characters(server):
    text = "the quick brown fox jumps over the lazy dog. " * 445
    text = text[:20_000]
    limit = f"at most {MAX_TEXT_CHARS:,}"
    assert limit in _refused(server, "20,000 characters", text, "griffin-lim", api_name="/speak")
    _refused(server, "20,000 characters", None, text, None, "griffin-lim", api_name="/chain")


def test_nothing_given(server):
    _refused(server, "needs a start", None, "", None, "griffin-lim", api_name="/chain")
    _refused(server, "the text is empty", "   ", "griffin-lim", api_name="/speak")
    _refused(server, "no clip", None, api_name="/scene")


def test_path_traversal_file_name_stays_in_the_apps_folder(server):
    import httpx

    name = "../../../../tmp/escaped_by_upload.png"
    response = httpx.post(server.url + "gradio_api/upload",
                          files={"files": (name, b"not an image at all")}, timeout=30)  # fmt: skip
    assert response.status_code == 200
    (stored,) = response.json()
    assert Path(stored).resolve().is_relative_to(server.workdir)
    assert not Path("/tmp/escaped_by_upload.png").exists()
    payload = {"path": stored, "orig_name": name, "meta": {"_type": "gradio.FileData"}}
    message = _refused(server, "escaped_by_upload.png", payload, 3, api_name="/caption")
    assert "not an image" in message


def _raw_call(server, api_name: str, data: list) -> tuple[str, dict]:
    """POST /gradio_api/call/NAME as any HTTP client may; the event and data of the answer."""
    import httpx

    response = httpx.post(f"{server.url}gradio_api/call/{api_name}", json={"data": data},
                          timeout=30)  # fmt: skip
    assert response.status_code == 200, response.text
    event_id = response.json()["event_id"]
    with httpx.stream("GET", f"{server.url}gradio_api/call/{api_name}/{event_id}",
                      timeout=60) as stream:  # fmt: skip
        lines = stream.read().decode().splitlines()
    event = next(line.split(": ", 1)[1] for line in lines if line.startswith("event: "))
    payload = next(line.split(": ", 1)[1] for line in lines if line.startswith("data: "))
    return event, json.loads(payload)


def test_files_outside_the_apps_folder_are_neither_read_nor_served(server, tmp_path):
    import httpx

    secret = tmp_path / "secret.png"
    secret.write_bytes(STRIP.read_bytes())
    for path in (secret, "/etc/passwd", f"{server.workdir}/../../etc/passwd"):
        crafted = {"path": str(path), "meta": {"_type": "gradio.FileData"}}
        event, data = _raw_call(server, "caption", [crafted, 3])
        assert event == "error" and "not uploaded by a user" in data["error"], data
        response = httpx.get(f"{server.url}gradio_api/file={path}", timeout=10)
        assert response.status_code in (403, 404), (path, response.status_code)
        assert b"root:" not in response.content
    # and the service itself refuses a path outside its folder (defence in depth)
    from synesthesia.errors import ParameterError

    with pytest.raises(ParameterError, match="'secret.png' was not uploaded to this server"):
        server.app.service.caption(str(secret))
    assert server.client().predict(_file(STRIP), 3, api_name="/caption")[1] == "seven six three"


# ------------------------------------------------------------------------- concurrency
def test_concurrent_requests_are_queued_and_all_answered(server):
    answers, errors = [], []

    def worker() -> None:
        try:
            client = server.client()
            for _ in range(3):
                answers.append(client.predict(_file(STRIP), 3, api_name="/caption")[1])
        except Exception as exc:  # recorded, then asserted below
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert answers == ["seven six three"] * 12
