"""synesthesia.nn."""

from synesthesia.nn.losses import ContrastiveLoss, InfoNCELoss, TripletMarginLoss

__all__ = ["ContrastiveLoss", "InfoNCELoss", "TripletMarginLoss"]
