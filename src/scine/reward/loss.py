"""Bradley-Terry losses on pairs of reward scores, with ties as an option.

Without ties, ``P(a preferred) = sigmoid(r_a - r_b)``. With ties (Rao and Kupper, 1967), a
margin ``m = log(theta) >= 0`` opens room for a draw:

    P(a) = sigmoid(r_a - r_b - m),  P(b) = sigmoid(r_b - r_a - m),  P(tie) = 1 - P(a) - P(b)

and the loss is the negative log-likelihood of the experts' outcome.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["OUTCOME_A", "OUTCOME_B", "OUTCOME_TIE", "bradley_terry_loss"]

OUTCOME_A, OUTCOME_B, OUTCOME_TIE = 0, 1, 2


def bradley_terry_loss(
    reward_a: torch.Tensor,
    reward_b: torch.Tensor,
    outcome: torch.Tensor,
    tie_margin: float | None = None,
) -> torch.Tensor:
    """Mean negative log-likelihood of ``outcome`` (0: a, 1: b, 2: tie) per pair.

    ``tie_margin=None`` is plain Bradley-Terry: ties are masked out (they add nothing and
    count in no mean); a pair list of ties only is an error. With a margin > 0 ties count
    through the Rao-Kupper likelihood.
    """
    import math

    import torch
    from torch.nn.functional import logsigmoid

    difference = reward_a.float() - reward_b.float()
    if tie_margin is None:
        decided = outcome != OUTCOME_TIE
        if not bool(decided.any()):
            raise ValueError("every pair is a tie: plain Bradley-Terry has nothing to learn")
        sign = torch.where(outcome == OUTCOME_A, 1.0, -1.0)
        return -logsigmoid(sign * difference)[decided].mean()
    if not tie_margin > 0:
        raise ValueError(f"tie_margin must be > 0 (got {tie_margin})")
    log_a = logsigmoid(difference - tie_margin)
    log_b = logsigmoid(-difference - tie_margin)
    # log P(tie) = log(theta^2 - 1) + r_a + r_b - log(e^r_a + theta e^r_b) - log(e^r_b + ...)
    ra, rb = reward_a.float(), reward_b.float()
    log_tie = (
        math.log(math.expm1(2 * tie_margin))
        + ra
        + rb
        - torch.logaddexp(ra, rb + tie_margin)
        - torch.logaddexp(rb, ra + tie_margin)
    )
    chosen = torch.where(
        outcome == OUTCOME_A, log_a, torch.where(outcome == OUTCOME_B, log_b, log_tie)
    )
    return -chosen.mean()
