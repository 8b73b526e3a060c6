"""synesthesia.pipelines."""

from synesthesia.pipelines.captioning import CaptionResult, ImageCaptioner

__all__ = ["CaptionResult", "ImageCaptioner"]
