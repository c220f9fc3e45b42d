"""The state the caller loads before a dispatcher call and saves after it.

Every piece is a plain dataclass keyed as the repository keeps it: alert states by
dedup_key, groups by (rule_id, group_key), digests by (rule_id, kind), channels by name.
:class:`Changes` lists the keys a call touched, so the caller saves just those (a key whose
entry is gone from its dict is to be deleted).
"""

from dataclasses import dataclass, field

from .digests import DigestState
from .grouping import GroupState
from .rate_limits import ChannelState
from .tracking import AlertState

GroupId = tuple[str, str]
DigestId = tuple[str, str]


@dataclass
class Changes:
    alerts: set[str] = field(default_factory=set)
    groups: set[GroupId] = field(default_factory=set)
    digests: set[DigestId] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)


@dataclass
class NotifierState:
    alerts: dict[str, AlertState] = field(default_factory=dict)
    groups: dict[GroupId, GroupState] = field(default_factory=dict)
    digests: dict[DigestId, DigestState] = field(default_factory=dict)
    channels: dict[str, ChannelState] = field(default_factory=dict)
