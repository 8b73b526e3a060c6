"""The web app in a real headless browser (Debian's chromium + chromedriver, driven by selenium).

One test, as a person would use the page: the chain tab gets an image and a typed sentence,
runs, and the page shows the caption, a playable WAV, every figure, the downloads and the
out-of-distribution caveat; the scene tab gets a clip and names its scene, then a microphone
recording (chromium's fake device) and flags it as unlike any scene; a non-image in the
caption tab gives a clear message and the tab then captions a real strip. No request leaves
loopback. (The chain from a clip and every tab's answer are checked through the HTTP API in
test_api.py.) With ``SYNESTHESIA_WEB_SCREENSHOTS=docs/img`` it also runs every
other tab and writes a screenshot of each there (the README's; about 30 s more).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from synesthesia.pipelines import asset_path

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="no headless browser: apt-get install chromium chromium-driver (.ci/run does)",
)

WAIT = 60  # seconds any one step may take on a busy 2-core machine
#: a link to a file the app wrote (its results live in result_* folders)
RESULT_LINKS = "a[href*='/result_']"


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1280,1800", "--mute-audio",
                     "--disable-extensions", "--no-first-run"):  # fmt: skip
        options.add_argument(argument)
    # a microphone that plays a beep, allowed without asking
    options.add_argument("--use-fake-device-for-media-stream")
    options.add_argument("--use-fake-ui-for-media-stream")
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    yield driver
    driver.quit()


def _wait(driver, condition, what: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT, poll_frequency=0.2).until(
        lambda d: condition(d), message=f"timed out waiting for {what}"
    )


def _css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def _upload(driver, component: str, path: Path) -> None:
    from selenium.webdriver.common.by import By

    field = driver.find_element(By.CSS_SELECTOR, f"#{component} input[type=file]")
    field.send_keys(str(path))
    # the upload is done when the component shows the file (a player, a preview or its name)
    _wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, f"#{component} input[type=file]")
          or d.find_elements(By.CSS_SELECTOR, f"#{component} img, #{component} audio"),
          f"the upload into #{component}")  # fmt: skip


def _open_tab(driver, label: str) -> None:
    from selenium.webdriver.common.by import By

    for tab in driver.find_elements(By.CSS_SELECTOR, "button[role=tab]"):
        if tab.text.strip() == label:
            tab.click()
            return
    raise AssertionError(f"no tab {label!r}")


def _figure_loaded(driver, component: str) -> bool:
    return bool(driver.execute_script(
        "const img = document.querySelector(arguments[0] + ' img');"
        "return img && img.complete && img.naturalWidth > 100 && img.src.includes('/file=');",
        f"#{component}",
    ))  # fmt: skip


def _wav_in_page(driver, component: str) -> dict:
    """Fetch the WAV a player offers, in the page, and decode it with the browser's audio
    decoder: what 'playable' means to a browser."""
    return driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const root = document.querySelector(arguments[0]);
        const link = root.querySelector('a[download]');
        const audio = root.querySelector('audio');
        if (!link || !audio) { done({error: 'no player or download link'}); return; }
        fetch(link.href).then(r => r.arrayBuffer()).then(buffer => {
            const head = new TextDecoder().decode(new Uint8Array(buffer.slice(0, 12)));
            return new OfflineAudioContext(1, 1, 16000).decodeAudioData(buffer).then(decoded =>
                done({href: link.href, head: head, seconds: decoded.duration}));
        }).catch(e => done({error: String(e)}));
        """,
        f"#{component}",
    )


def _shoot(driver, folder: Path, name: str) -> None:
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1280, min(max(int(height) + 40, 900), 4000))
    folder.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(folder / f"web_{name}.png")), folder
    driver.set_window_size(1280, 1800)


def _run(driver, button: str, done, what: str) -> float:
    start = time.perf_counter()
    _css(driver, f"#{button}").click()
    _wait(driver, done, what)
    return time.perf_counter() - start


def test_a_person_runs_the_chain_and_every_tab(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    shots = os.environ.get("SYNESTHESIA_WEB_SCREENSHOTS")
    d = browser
    d.get(server.url)
    _wait(d, lambda d: d.find_elements(By.ID, "chain-run"), "the page")

    # the chain: an image and a typed sentence
    _upload(d, "chain-image", asset_path("digit_strip_example.png"))
    _css(d, "#chain-text textarea").send_keys("two five")
    caption = "#chain-caption textarea"
    _run(d, "chain-run", lambda d: _css(d, caption).get_attribute("value"), "the caption")
    assert _css(d, caption).get_attribute("value") == "seven six three"
    figures = ["chain-attention", "chain-representations", "chain-scene", "chain-retrieval"]
    if server.app.service.chain.face is not None:  # Speech2Face ships: a face from the voice
        figures.append("chain-face")
    for figure in figures:
        _wait(d, lambda d, f=figure: _figure_loaded(d, f), f"the figure #{figure}")
    wav = _wav_in_page(d, "chain-sound")
    assert wav.get("head", "").startswith("RIFF") and wav["head"].endswith("WAVE"), wav
    assert 0.4 < wav["seconds"] < 5, wav  # "two five", spoken
    assert "looks unlike the model's training data" in _css(d, "#chain-warnings").text
    links = d.find_elements(By.CSS_SELECTOR, "#chain-files a")
    downloads = {a.get_attribute("download") for a in links}
    assert {"chain_sound.wav", "chain.json", "chain_attention.png"} <= downloads, downloads
    if shots:
        _shoot(d, Path(shots), "chain")

    # a clip: the scene tab hears the packaged birds
    _open_tab(d, "Scene")
    _upload(d, "scene-clip", asset_path("scene_birds.wav"))
    _run(d, "scene-run", lambda d: "birds" in _css(d, "#scene-label").text, "the scene")
    assert "looks unlike" not in _css(d, "#scene-warnings").text

    # the microphone (the browser's fake one: a beep), recorded in the page: not a scene
    clip = _css(d, "#scene-clip")
    clip.find_element(By.CSS_SELECTOR, "button[aria-label='Clear']").click()
    _css(d, "#scene-clip button[aria-label='Record audio']").click()
    record = "#scene-clip button.record-button"
    _wait(d, lambda d: _css(d, record).is_displayed(), "the record button")
    _css(d, record).click()
    time.sleep(2.0)
    stop = [b for b in d.find_elements(By.CSS_SELECTOR, "#scene-clip button.stop-button")
            if b.is_displayed()]  # fmt: skip
    stop[0].click()
    _wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#scene-clip a[download]"), "the recording")
    _run(d, "scene-run", lambda d: "looks unlike" in _css(d, "#scene-warnings").text,
         "the scene of the recording and its out-of-distribution caveat")  # fmt: skip
    assert "%" in _css(d, "#scene-label").text

    # bad input: a text file dressed as a picture
    fake = tmp_path / "holiday.png"
    fake.write_text("not a picture\n" * 50)
    _open_tab(d, "Caption")
    _upload(d, "caption-image", fake)
    _css(d, "#caption-run").click()
    toasts = "[data-testid=toast-body]"
    toast = _wait(d, lambda d: [t for t in d.find_elements(By.CSS_SELECTOR, toasts)
                                if "holiday.png" in t.text], "the error message")  # fmt: skip
    assert "not an image" in toast[0].text
    assert str(server.workdir) not in toast[0].text
    # ... and the page still works: the same tab captions a real strip
    _upload(d, "caption-image", asset_path("digit_strip_example.png"))
    text = "#caption-text textarea"
    _run(d, "caption-run", lambda d: _css(d, text).get_attribute("value"), "the caption tab")
    assert _css(d, text).get_attribute("value") == "seven six three"

    if shots:  # every other tab, run on an upload, for docs/img
        _screenshots(d, Path(shots), face=server.app.service.chain.face is not None)

    # nothing left loopback
    resources = d.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [r for r in resources if not r.startswith(("http://127.0.0.1", "data:", "blob:"))] == []


def _screenshots(d, shots: Path, *, face: bool) -> None:
    """Run the remaining tabs on the packaged examples and photograph each (docs/img)."""
    from selenium.webdriver.common.by import By

    d.execute_script(
        "document.querySelectorAll('[data-testid=toast-close]').forEach(button => button.click())"
    )  # the error of the bad input
    _wait(d, lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-testid=toast-body]"),
          "the message to close")  # fmt: skip
    _shoot(d, shots, "caption")
    _open_tab(d, "Scene")
    _shoot(d, shots, "scene")
    _open_tab(d, "Speak")
    info = "#speak-info textarea"
    _run(d, "speak-run", lambda d: _css(d, info).get_attribute("value"), "speech")
    assert _wav_in_page(d, "speak-audio")["seconds"] > 0.5
    _shoot(d, shots, "speak")
    for tab, component, clip, button, name in (
        ("Vocoder", "vocoder-clip", "speech.wav", "vocoder-run", "vocoder"),
        ("Audio", "audio-clip", "speech.wav", "audio-run", "audio"),
        ("Retrieve", "retrieve-clip", "embed_digits/query_seven.wav", "retrieve-run", "retrieve"),
    ):
        _open_tab(d, tab)
        _upload(d, component, asset_path(clip))
        panel = d.find_element(By.ID, component).find_element(
            By.XPATH, "ancestor::*[@role='tabpanel']"
        )
        _run(d, button, lambda d, p=panel: p.find_elements(By.CSS_SELECTOR, RESULT_LINKS),
             f"the {tab} tab's downloads")  # fmt: skip
        _shoot(d, shots, name)
    _open_tab(d, "Face")
    if face:  # a Speech2Face model is loaded: draw the face of the packaged speech
        _upload(d, "face-clip", asset_path("speech.wav"))
        panel = d.find_element(By.ID, "face-clip").find_element(
            By.XPATH, "ancestor::*[@role='tabpanel']"
        )
        _run(d, "face-run", lambda d, p=panel: p.find_elements(By.CSS_SELECTOR, RESULT_LINKS),
             "the face")  # fmt: skip
    _shoot(d, shots, "face")
    _open_tab(d, "Language model")
    _shoot(d, shots, "lm")
