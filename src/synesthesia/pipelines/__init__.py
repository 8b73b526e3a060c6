"""synesthesia.pipelines."""

from synesthesia.pipelines.captioning import CaptionResult, ImageCaptioner
from synesthesia.pipelines.pretrained import asset_path, list_pretrained, pretrained_path

__all__ = ["CaptionResult", "ImageCaptioner", "asset_path", "list_pretrained", "pretrained_path"]

from synesthesia.pipelines.retrieval import AudioImageRetriever, Ranking  # noqa: E402

__all__ += ["AudioImageRetriever", "Ranking"]

from synesthesia.pipelines.tts import Speech, TextToSpeech  # noqa: E402

__all__ += ["Speech", "TextToSpeech"]

from synesthesia.pipelines.lm import TextGenerator  # noqa: E402

__all__ += ["TextGenerator"]
