"""People's labels as training data, for ``botwatch train --labels-from DATABASE_URL``.

The simulated communities teach the account model what scripts look like; the accounts a
community manager labelled (``botwatch label``) are real ones the model got wrong or nearly so.
Their stored replies (and the posts they answered) are replayed through the same
:func:`~detector.classifier.simulated.replay_rows` as a simulated community, without watched
keywords, and each labelled account's rows weigh :data:`USER_LABEL_WEIGHT` simulated accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping, Sequence

from detector.classifier.detector import Detector
from detector.classifier.simulated import AccountRow, LabelledCommunity, replay_rows
from detector.records import Post

# A real account a person looked at is rarer and closer to the cases that matter than a
# simulated one: it weighs like a hard negative (``train.HARD_NEGATIVE_WEIGHT``).
USER_LABEL_WEIGHT = 4.0
USER_KIND = "user_label"


@dataclass(frozen=True)
class UserLabelled:
    """Labelled accounts' replies and the posts they answered (oldest first), and the labels."""

    posts: Sequence[Post]
    labels: Mapping[str, int]  # account id -> 1 bot, 0 human

    @property
    def accounts(self) -> int:
        return len(self.labels)


def user_rows(detector: Detector, data: UserLabelled, *, weight: float = USER_LABEL_WEIGHT) -> list[AccountRow]:
    """Account-model rows of the labelled accounts that replied (snapshots and final state)."""
    community = LabelledCommunity(
        posts=list(data.posts), labels={k: (v, USER_KIND) for k, v in data.labels.items()}, keywords=(), seed=0
    )
    rows = replay_rows(detector, community, keywords=(), snapshots=True).rows
    return [replace(r, weight=r.weight * weight) for r in rows if r.account_id in data.labels]
