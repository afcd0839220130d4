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

REVIEW_STATES = ("hasIssues", "edited", "approved", "rejected")


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
    progress: Callable[[int, int], None] | None = None,
) -> ReviewResult:
    """Make each submission's review state and comment what ``decisions`` say."""
    decisions = list(decisions)
    for decision in decisions:
        if decision.state not in REVIEW_STATES:
            raise CentralError(
                f"submission {decision.instance_id}: unknown review state '{decision.state}'"
                f" (one of {', '.join(REVIEW_STATES)})"
            )
    result = ReviewResult()
    submissions = client.submissions
    for done, decision in enumerate(decisions, 1):
        changed = False
        current = submissions.get(form_id, decision.instance_id).get("reviewState")
        if current != decision.state:
            submissions.set_review_state(form_id, decision.instance_id, decision.state)
            result.states_set += 1
            changed = True
        if decision.comment:
            bodies = {c.get("body") for c in submissions.comments(form_id, decision.instance_id)}
            if decision.comment not in bodies:
                submissions.add_comment(form_id, decision.instance_id, decision.comment)
                result.comments_added += 1
                changed = True
        result.unchanged += not changed
        if progress is not None:
            progress(done, len(decisions))
    return result
