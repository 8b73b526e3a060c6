"""The page of ``synesthesia serve``: one tab per capability and the chain, built with Gradio.

Layout only: every button calls a :class:`~synesthesia.web.service.Service` method (the same
pipelines as the CLI), and a :class:`~synesthesia.errors.ParameterError` becomes a message in
the page (``gr.Error``) while the server carries on. Requests wait in one queue (one model call
at a time, at most :data:`MAX_QUEUE` waiting; more are told the server is busy). Offline by
construction: no analytics, no share link, no server-side rendering, the theme's fonts are
served by the app itself; uploads, results and Gradio's cache live in one temporary folder and
only files there are served.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synesthesia.errors import ParameterError
from synesthesia.web.limits import MAX_AUDIO_SECONDS, MAX_TEXT_CHARS, MAX_UPLOAD_MB

__all__ = ["MAX_QUEUE", "build_app", "launch", "offline_environment"]

#: requests that may wait in the queue before new ones are refused
MAX_QUEUE = 64
#: every model call shares this queue slot
_SLOT = "models"

_INTRO = (
    "# synesthesia\n"
    "Machines that see, hear and speak. Every tab runs a shipped model on your input; "
    "**Chain** runs them all in a row. Uploads of at most "
    f"{MAX_UPLOAD_MB} MB, clips of at most {MAX_AUDIO_SECONDS:.0f} s, texts of at most "
    f"{MAX_TEXT_CHARS:,} characters. Nothing leaves this computer."
)


def offline_environment(workdir: str | os.PathLike) -> None:
    """Environment for an offline Gradio whose files all live in ``workdir`` (call before
    importing gradio)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["GRADIO_TEMP_DIR"] = str(workdir)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["GRADIO_SSR_MODE"] = "False"


def _notes(lines: list[str]) -> str:
    return "\n".join(f"⚠️ {line}" for line in lines)


def _page_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a ParameterError into a message shown in the page."""
    import gradio as gr

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        try:
            return fn(*args)
        except ParameterError as exc:
            raise gr.Error(str(exc), title="Cannot do that") from None

    return wrapper


def _picture(gr: Any, **kwargs: Any) -> Any:
    """A ``gr.Image`` input that hands the uploaded file's path to the service undecoded.

    Gradio's own step opens every upload with Pillow first and fails on a non-image with a
    message about its internals; :func:`synesthesia.web.limits.read_picture` says instead which
    file is not an image (or too large, or truncated). The component's ``preprocess`` is
    replaced on this instance (a subclass would make Gradio write a ``.pyi`` stub beside this
    module at import time).
    """
    image = gr.Image(type="filepath", **kwargs)
    decode = image.preprocess

    def preprocess(payload: Any) -> Any:
        if payload is not None and payload.path and not (payload.url or "").startswith("data:"):
            return str(payload.path)
        return decode(payload)

    image.preprocess = preprocess
    return image


def build_app(service: Any) -> Any:
    """The ``gr.Blocks`` page for a :class:`~synesthesia.web.service.Service`."""
    import gradio as gr

    from synesthesia.pipelines import asset_path

    vocoders = service.vocoders
    examples = service.workdir / "examples"
    examples.mkdir(exist_ok=True)

    def example(name: str) -> list[str]:
        """A shipped asset, copied into the app's folder (only files there are served)."""
        copy = examples / Path(name).name
        if not copy.exists():
            shutil.copyfile(asset_path(name), copy)
        return [str(copy)]

    audio_in = dict(sources=["upload", "microphone"], type="filepath", format=None)
    audio_out = dict(type="filepath", buttons=["download"], interactive=False)

    def on(button: Any, fn: Callable[..., Any], inputs: list, outputs: list, name: str) -> None:
        button.click(_page_errors(fn), inputs, outputs, api_name=name, concurrency_id=_SLOT,
                     concurrency_limit=1)  # fmt: skip

    # uploads older than an hour are deleted every hour (results: Service.RESULT_MAX_AGE)
    with gr.Blocks(title="synesthesia", analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        gr.Markdown(_INTRO)
        with gr.Tab("Chain", id="chain"):
            face_stage = " → the face the voice suggests" if service.chain.face else ""
            gr.Markdown(
                "An image of handwritten digits → its caption, with where the captioner looked "
                "for each word → the caption spoken → the sound drawn four ways → the scene it "
                f"suggests → the handwritten digits each spoken word retrieves{face_stage}. Type "
                "a text to speak it instead of the caption; give a clip to hear it instead of "
                "the speech."
            )
            with gr.Row():
                image = _picture(gr, label="image", sources=["upload", "clipboard"],
                                 elem_id="chain-image")  # fmt: skip
                with gr.Column():
                    text = gr.Textbox(label="text to speak (optional)", lines=2,
                                      elem_id="chain-text")  # fmt: skip
                    clip = gr.Audio(label="clip (optional)", elem_id="chain-clip", **audio_in)
                    vocoder = gr.Dropdown(vocoders, value=vocoders[0], label="voice · vocoder")
                    run = gr.Button("Run the chain", variant="primary", elem_id="chain-run")
            warnings = gr.Markdown(elem_id="chain-warnings")
            caption = gr.Textbox(label="caption", interactive=False, elem_id="chain-caption")
            attention = gr.Image(label="attention per word", elem_id="chain-attention")
            sound = gr.Audio(label="the sound", elem_id="chain-sound", **audio_out)
            speech = gr.Image(label="spoken: predicted log-mel and alignment")
            representations = gr.Image(label="waveform, power spectrum, spectrogram, mel",
                                       elem_id="chain-representations")  # fmt: skip
            with gr.Row():
                scene = gr.Image(label="the scene it suggests", elem_id="chain-scene")
                face = gr.Image(label="the face the voice suggests", elem_id="chain-face",
                                visible=service.chain.face is not None)  # fmt: skip
            retrieval = gr.Image(label="the digits it retrieves", elem_id="chain-retrieval")
            files = gr.File(label="downloads", file_count="multiple", elem_id="chain-files")
            data = gr.JSON(label="everything as JSON")
            gr.Examples([example("digit_strip_example.png")], inputs=[image])

            def chain(image: Any, text: Any, clip: Any, vocoder: Any) -> tuple:
                answer = service.run_chain(image, text, clip, vocoder)
                f = answer.files
                return (_notes(answer.warnings), answer.text, f.get("attention"), f["wav"],
                        f.get("speech"), f["representations"], f["scene"], f["retrieval"],
                        f.get("face"), answer.downloads, answer.data)  # fmt: skip

            on(run, chain, [image, text, clip, vocoder],
               [warnings, caption, attention, sound, speech, representations, scene, retrieval,
                face, files, data], "chain")  # fmt: skip

        with gr.Tab("Caption", id="caption"):
            with gr.Row():
                c_image = _picture(gr, label="image", sources=["upload", "clipboard"],
                                   elem_id="caption-image")  # fmt: skip
                with gr.Column():
                    c_beam = gr.Slider(1, 10, value=3, step=1, label="beam size")
                    c_run = gr.Button("Caption", variant="primary", elem_id="caption-run")
            c_warn = gr.Markdown(elem_id="caption-warnings")
            c_text = gr.Textbox(label="caption", interactive=False, elem_id="caption-text")
            c_fig = gr.Image(label="attention per word")
            c_files = gr.File(label="downloads", file_count="multiple")
            gr.Examples([example("digit_strip_example.png")], inputs=[c_image])

            def caption_tab(image: Any, beam: Any) -> tuple:
                a = service.caption(image, beam)
                return _notes(a.warnings), a.text, a.files["attention"], a.downloads

            on(c_run, caption_tab, [c_image, c_beam], [c_warn, c_text, c_fig, c_files], "caption")

        with gr.Tab("Speak", id="speak"):
            s_text = gr.Textbox(label="text", lines=3, elem_id="speak-text",
                                value="Machines that see, hear and speak.")  # fmt: skip
            s_voc = gr.Dropdown(vocoders, value=vocoders[0], label="voice · vocoder")
            s_run = gr.Button("Speak", variant="primary", elem_id="speak-run")
            s_warn = gr.Markdown()
            s_info = gr.Textbox(label="result", interactive=False, elem_id="speak-info")
            s_wav = gr.Audio(label="speech", elem_id="speak-audio", **audio_out)
            s_fig = gr.Image(label="predicted log-mel and alignment")
            s_files = gr.File(label="downloads", file_count="multiple")

            def speak_tab(text: Any, vocoder: Any) -> tuple:
                a = service.speak(text, vocoder)
                return _notes(a.warnings), a.text, a.files["wav"], a.files["speech"], a.downloads

            on(s_run, speak_tab, [s_text, s_voc], [s_warn, s_info, s_wav, s_fig, s_files],
               "speak")  # fmt: skip

        with gr.Tab("Vocoder", id="vocoder"):
            v_clip = gr.Audio(label="speech clip", elem_id="vocoder-clip", **audio_in)
            v_voc = gr.Dropdown(vocoders, value=vocoders[0], label="voice · vocoder")
            v_run = gr.Button("Log-mel → waveform", variant="primary", elem_id="vocoder-run")
            v_info = gr.Textbox(label="result", interactive=False)
            v_wav = gr.Audio(label="rebuilt from the log-mel alone", **audio_out)
            v_fig = gr.Image(label="log-mels: yours and the rebuilt one")
            v_files = gr.File(label="downloads", file_count="multiple")
            gr.Examples([example("speech.wav")], inputs=[v_clip])

            def vocoder_tab(clip: Any, vocoder: Any) -> tuple:
                a = service.vocode(clip, vocoder)
                return a.text, a.files["wav"], a.files["mels"], a.downloads

            on(v_run, vocoder_tab, [v_clip, v_voc], [v_info, v_wav, v_fig, v_files], "vocoder")

        with gr.Tab("Audio", id="audio"):
            a_clip = gr.Audio(label="clip", elem_id="audio-clip", **audio_in)
            a_run = gr.Button("Show its representations", variant="primary", elem_id="audio-run")
            a_info = gr.Textbox(label="result", interactive=False)
            a_fig = gr.Image(label="waveform, power spectrum, spectrogram, mel")
            a_wav = gr.Audio(label="Griffin-Lim from the magnitude alone", **audio_out)
            a_files = gr.File(label="downloads", file_count="multiple")
            gr.Examples([example("speech.wav"), example("scene_birds.wav")],
                        inputs=[a_clip])  # fmt: skip

            def audio_tab(clip: Any) -> tuple:
                a = service.audio(clip)
                return a.text, a.files["representations"], a.files["wav"], a.downloads

            on(a_run, audio_tab, [a_clip], [a_info, a_fig, a_wav, a_files], "audio")

        with gr.Tab("Scene", id="scene"):
            e_clip = gr.Audio(label="clip", elem_id="scene-clip", **audio_in)
            e_run = gr.Button("Which scene?", variant="primary", elem_id="scene-run")
            e_warn = gr.Markdown(elem_id="scene-warnings")
            e_label = gr.Label(label="scene", num_top_classes=6, elem_id="scene-label")
            e_files = gr.File(label="downloads", file_count="multiple")
            gr.Examples([example("scene_birds.wav")], inputs=[e_clip])

            def scene_tab(clip: Any) -> tuple:
                a = service.scene(clip)
                return _notes(a.warnings), a.data["probabilities"], a.downloads

            on(e_run, scene_tab, [e_clip], [e_warn, e_label, e_files], "scene")

        with gr.Tab("Retrieve", id="retrieve"):
            r_clip = gr.Audio(label="a spoken digit", elem_id="retrieve-clip", **audio_in)
            r_gallery = gr.File(label="gallery images (optional; default: ten handwritten "
                                "digits)", file_count="multiple", file_types=["image"])  # fmt: skip
            r_run = gr.Button("Retrieve", variant="primary", elem_id="retrieve-run")
            r_warn = gr.Markdown()
            r_info = gr.Textbox(label="result", interactive=False, elem_id="retrieve-info")
            r_fig = gr.Image(label="ranked images")
            r_files = gr.File(label="downloads", file_count="multiple")
            gr.Examples([example("embed_digits/query_seven.wav")], inputs=[r_clip])

            def retrieve_tab(clip: Any, gallery: Any) -> tuple:
                a = service.retrieve(clip, gallery)
                return _notes(a.warnings), a.text, a.files["grid"], a.downloads

            on(r_run, retrieve_tab, [r_clip, r_gallery], [r_warn, r_info, r_fig, r_files],
               "retrieve")  # fmt: skip

        with gr.Tab("Face", id="face"):
            if service.chain.face is None:
                gr.Markdown("No Speech2Face model is loaded. Train one with `synesthesia face "
                            "train`, then start the app with `synesthesia serve --face "
                            "OUT/model`.")  # fmt: skip
            f_clip = gr.Audio(label="a voice", elem_id="face-clip", **audio_in)
            f_run = gr.Button("Draw the face", variant="primary", elem_id="face-run")
            f_info = gr.Textbox(label="attributes read off the face", interactive=False)
            f_img = gr.Image(label="the face the voice suggests", elem_id="face-image")
            f_files = gr.File(label="downloads", file_count="multiple")
            gr.Examples([example("speech.wav")], inputs=[f_clip])

            def face_tab(clip: Any) -> tuple:
                a = service.face(clip)
                return a.text, a.files["face"], a.downloads

            on(f_run, face_tab, [f_clip], [f_info, f_img, f_files], "face")

        with gr.Tab("Language model", id="lm"):
            if service.lm is None:
                gr.Markdown("No language model is loaded. Train one with `synesthesia lm train "
                            "--text FILE --out runs/lm`, then start the app with "
                            "`synesthesia serve --lm runs/lm/model`.")  # fmt: skip
            l_prompt = gr.Textbox(label="prompt", lines=2, elem_id="lm-prompt")
            with gr.Row():
                l_tokens = gr.Slider(1, 2000, value=200, step=1, label="new tokens")
                l_temp = gr.Slider(0, 2, value=0.8, step=0.05, label="temperature")
                l_seed = gr.Number(0, label="seed", precision=0)
            l_run = gr.Button("Generate", variant="primary", elem_id="lm-run")
            l_out = gr.Textbox(label="text", interactive=False, lines=6)
            l_files = gr.File(label="downloads", file_count="multiple")

            def lm_tab(prompt: Any, tokens: Any, temperature: Any, seed: Any) -> tuple:
                a = service.generate(prompt, tokens, temperature, seed)
                return a.text, a.downloads

            on(l_run, lm_tab, [l_prompt, l_tokens, l_temp, l_seed], [l_out, l_files], "lm")
    app.queue(default_concurrency_limit=1, max_size=MAX_QUEUE)
    return app


def launch(
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    workdir: str | os.PathLike,
    vocoders: dict[str, str] | None = None,
    lm: str | os.PathLike | None = None,
    face: str | os.PathLike | None = None,
    block: bool = True,
) -> Any:
    """Load the models, build the page and serve it; returns the running ``gr.Blocks``.

    ``block=False`` returns at once with the server running in a thread (tests).
    """
    offline_environment(workdir)
    import gradio  # noqa: F401  (first: without the web extra, fail before loading models)

    from synesthesia.web.service import Service

    for name in ("httpx", "httpcore", "uvicorn.access"):  # one line per request otherwise
        logging.getLogger(name).setLevel(logging.WARNING)
    service = Service(workdir, vocoders=vocoders, lm=lm, face=face)
    app = build_app(service)
    app.launch(
        server_name=host, server_port=port, share=False, inbrowser=False,
        max_file_size=f"{MAX_UPLOAD_MB}mb", allowed_paths=[], ssr_mode=False,
        prevent_thread_lock=not block, quiet=not block, show_error=True,
        footer_links=["api"], enable_monitoring=False, mcp_server=False,
    )  # fmt: skip
    app.service = service
    return app
