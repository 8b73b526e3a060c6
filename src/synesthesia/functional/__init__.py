"""synesthesia.functional."""

from synesthesia.functional.db import (
    amplitude_to_db,
    db_to_amplitude,
    db_to_power,
    mfcc,
    power_to_db,
)
from synesthesia.functional.filters import deemphasis, preemphasis
from synesthesia.functional.griffin_lim import griffin_lim, spectral_convergence
from synesthesia.functional.mel import (
    hz_to_mel,
    inverse_mel,
    log_mel_spectrogram,
    mel_filterbank,
    mel_frequencies,
    mel_spectrogram,
    mel_to_hz,
    sharpen_log_mel,
)
from synesthesia.functional.metric_losses import (
    contrastive_loss,
    info_nce_loss,
    mine_triplets,
    pairwise_distances,
    triplet_margin_loss,
)
from synesthesia.functional.mu_law import mu_law_decode, mu_law_encode
from synesthesia.functional.spectral import get_window, istft, power_spectrum, spectrogram, stft

__all__ = ["deemphasis", "mu_law_decode", "mu_law_encode", "preemphasis"]
__all__ += [
    "amplitude_to_db",
    "db_to_amplitude",
    "db_to_power",
    "get_window",
    "griffin_lim",
    "hz_to_mel",
    "inverse_mel",
    "istft",
    "log_mel_spectrogram",
    "mel_filterbank",
    "mel_frequencies",
    "mel_spectrogram",
    "mel_to_hz",
    "mfcc",
    "power_spectrum",
    "power_to_db",
    "sharpen_log_mel",
    "spectral_convergence",
    "spectrogram",
    "stft",
]
__all__ += [
    "contrastive_loss",
    "info_nce_loss",
    "mine_triplets",
    "pairwise_distances",
    "triplet_margin_loss",
]

from synesthesia.functional.attention import (  # noqa: E402
    attend,
    causal_mask,
    combine_masks,
    lengths_to_mask,
    masked_softmax,
    scaled_dot_product_attention,
)

__all__ += [
    "attend",
    "causal_mask",
    "combine_masks",
    "lengths_to_mask",
    "masked_softmax",
    "scaled_dot_product_attention",
]

from synesthesia.functional.distributions import (  # noqa: E402
    categorical_nll,
    discretized_mix_logistic_nll,
    draw_uniforms,
    gaussian_nll,
    sample_categorical,
    sample_discretized_mix_logistic,
    sample_gaussian,
)

__all__ += [
    "categorical_nll",
    "discretized_mix_logistic_nll",
    "draw_uniforms",
    "gaussian_nll",
    "sample_categorical",
    "sample_discretized_mix_logistic",
    "sample_gaussian",
]

from synesthesia.functional.image import (  # noqa: E402
    IMAGENET_MEAN,
    IMAGENET_STD,
    center_crop,
    crop,
    gaussian_blur,
    normalize_image,
    resize_image,
)

__all__ += [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "center_crop",
    "crop",
    "gaussian_blur",
    "normalize_image",
    "resize_image",
]

from synesthesia.functional.distillation import distillation_kl_loss  # noqa: E402

__all__ += ["distillation_kl_loss"]

from synesthesia.functional.augment import (  # noqa: E402
    add_noise,
    babble_noise,
    fft_convolve,
    pink_noise,
    reverberate,
    synthetic_rir,
    white_noise,
)
from synesthesia.functional.resample import (  # noqa: E402
    pitch_shift,
    resample,
    speed_perturb,
    time_stretch,
)
from synesthesia.functional.specaugment import (  # noqa: E402
    freq_mask,
    mask_along_axis,
    time_mask,
    time_warp,
)
from synesthesia.functional.telephone import (  # noqa: E402
    a_law_decode,
    a_law_encode,
    telephone_channel,
)
from synesthesia.functional.vtlp import vtlp, vtlp_waveform  # noqa: E402

__all__ += [
    "a_law_decode",
    "a_law_encode",
    "add_noise",
    "babble_noise",
    "fft_convolve",
    "freq_mask",
    "mask_along_axis",
    "pink_noise",
    "pitch_shift",
    "resample",
    "reverberate",
    "speed_perturb",
    "synthetic_rir",
    "telephone_channel",
    "time_mask",
    "time_stretch",
    "time_warp",
    "vtlp",
    "vtlp_waveform",
    "white_noise",
]
