"""People's labels on accounts: finding the account a person names, for ``botwatch label``.

A person names an account as they see it (``@VacuumRus@deals.example``, or ``@name`` on the
instance botwatch reads) or by its id on the configured instance. Labels are keyed like every
account, ``(platform, instance botwatch reads, account id)``; the scoring job applies them
(:func:`jobs.scoring.score_batch`) and ``botwatch train --labels-from`` learns from them.
"""

from __future__ import annotations

from collections.abc import Mapping

from detector.classifier.user_labels import UserLabelled
from detector.errors import InputError
from detector.normalise.mastodon import PLATFORM
from detector.store import Store
from detector.store.records import AccountKey

NOT_SEEN = "(not seen yet)"


def resolve_account(store: Store, name: str, hosts: Mapping[str, str], *, instance: str | None = None) -> dict[AccountKey, str]:
    """The stored accounts ``name`` designates, with their handles; :class:`InputError` if none.

    ``hosts`` maps configured instance names to their hosts. An id that botwatch has not seen
    yet may still be labelled, on ``instance`` (needed when several instances are configured).
    """
    name = name.strip()
    if instance is not None and instance not in hosts:
        raise InputError(f"no instance named {instance!r} (configured: {', '.join(hosts) or 'none'})")
    host = hosts[instance] if instance is not None else None
    if name.startswith("@") or "@" in name:
        found = store.find_accounts(handle=name)
        found = {k: v for k, v in found.items() if host is None or k[1] == host}
        if not found:
            raise InputError(
                f"botwatch has not stored an account {name}",
                hint="check the spelling (name@server), or label it by account id with --instance",
            )
        return found
    if not name:
        raise InputError("give an account as @name@server or as its account id")
    found = {k: v for k, v in store.find_accounts(account_id=name).items() if host is None or k[1] == host}
    if found:
        return found
    if host is None and len(hosts) == 1:
        host = next(iter(hosts.values()))
    if host is None:
        raise InputError(f"account id {name} is not stored yet, and several instances are configured",
                         hint=f"say which with --instance ({', '.join(hosts)})")
    return {(PLATFORM, host, name): NOT_SEEN}


def labelled_replies(store: Store) -> UserLabelled:
    """Every labelled account's stored replies and the posts they answered, for training.

    Account ids from several instances could collide; a store reads one instance as a rule, and
    a collision only merges two accounts' replies under the later label.
    """
    labels = store.labels()
    return UserLabelled(store.replies_of(labels), {key[2]: int(row.label == "bot") for key, row in labels.items()})
