"""Review write-back: set review states, with a comment, on many submissions.

Quality control decides; this writes its decisions to Central, idempotently: a submission
already in the wanted state is not PATCHed again, and a comment whose text the submission
already carries is not added again (Central never edits or deletes comments, so a rerun
must not pile them up). An edit of a submission resets its state to ``edited``; writing the
decisions again then sets the state back without repeating the comment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from surveys.central.client import CentralClient
from surveys.central.errors import CentralError
from surveys.central.pool import ClientPool

REVIEW_STATES = ("hasIssues", "edited", "approved", "rejected")
CHUNK = 200
"""Decisions per progress report."""


@dataclass(frozen=True)
class ReviewDecision:
    """The review state (and optional comment) one submission (``__id``) should have."""

    instance_id: str
    state: str
    comment: str | None = None


@dataclass
class ReviewResult:
    """What a write-back did."""

    states_set: int = 0
    comments_added: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.states_set} review state(s) set, {self.comments_added} comment(s) added, "
            f"{self.unchanged} already as decided"
        )


def write_reviews(
    client: CentralClient,
    form_id: str,
    decisions: Iterable[ReviewDecision],
    *,
    workers: int = 4,
    progress: Callable[[int, int], None] | None = None,
) -> ReviewResult:
    """Make each submission's review state and comment what ``decisions`` say, on
    ``workers`` Central sessions side by side (2-3 requests per submission)."""
    decisions = list(decisions)
    for decision in decisions:
        if decision.state not in REVIEW_STATES:
            raise CentralError(
                f"submission {decision.instance_id}: unknown review state '{decision.state}'"
                f" (one of {', '.join(REVIEW_STATES)})"
            )
    result = ReviewResult()
    done = 0
    with ClientPool(client, workers) as pool:
        for start in range(0, len(decisions), CHUNK):
            chunk = decisions[start : start + CHUNK]
            for state_set, comment_added in pool.map(lambda c, d: _apply(c, form_id, d), chunk):
                result.states_set += state_set
                result.comments_added += comment_added
                result.unchanged += not (state_set or comment_added)
            done += len(chunk)
            if progress is not None:
                progress(done, len(decisions))
    return result


def _apply(client: CentralClient, form_id: str, decision: ReviewDecision) -> tuple[bool, bool]:
    """Bring one submission to its decision; returns (state set, comment added)."""
    submissions = client.submissions
    state_set = comment_added = False
    current = submissions.get(form_id, decision.instance_id).get("reviewState")
    if current != decision.state:
        submissions.set_review_state(form_id, decision.instance_id, decision.state)
        state_set = True
    if decision.comment:
        bodies = {c.get("body") for c in submissions.comments(form_id, decision.instance_id)}
        if decision.comment not in bodies:
            submissions.add_comment(form_id, decision.instance_id, decision.comment)
            comment_added = True
    return state_set, comment_added
