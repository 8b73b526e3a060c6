"""synesthesia.metrics."""

from synesthesia.metrics.retrieval import (  # noqa: E402
    cross_modal_retrieval,
    retrieval_metrics,
    similarity_matrix,
)

__all__ = ["cross_modal_retrieval", "retrieval_metrics", "similarity_matrix"]

from synesthesia.metrics.intelligibility import (  # noqa: E402
    grid_grammar,
    sentence_language_model,
    transcribe,
    word_error_rate,
    word_loop_grammar,
)
from synesthesia.metrics.mcd import mel_cepstral_distortion, mel_cepstrum  # noqa: E402

__all__ += ["grid_grammar", "sentence_language_model", "transcribe", "word_error_rate"]
__all__ += ["word_loop_grammar"]
__all__ += ["mel_cepstral_distortion", "mel_cepstrum"]

from synesthesia.metrics.caption import (  # noqa: E402
    attention_pointing_accuracy,
    caption_metrics,
    cider_d,
    corpus_bleu,
    rouge_l,
)

__all__ += ["attention_pointing_accuracy", "caption_metrics", "cider_d", "corpus_bleu", "rouge_l"]

from synesthesia.metrics.alignment import diagonality  # noqa: E402

__all__ += ["diagonality"]
