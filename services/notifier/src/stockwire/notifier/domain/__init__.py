"""The notifier's rules in plain Python: who hears of which alert, when, and how often.
No I/O and no clock of its own (every call is given ``now``), so the rules run, and are
tested, in microseconds with a fake clock.

The model:

- ``alerts``: an :class:`Alert` as every producer's alert event carries it, and the
  :class:`Resolution` that clears it; both read through one vocabulary of attributes
  (``kind, severity, region, location, location_kind, category, sku, producer`` and
  ``label:<name>``).
- ``matching``: :class:`Matcher`, a set of accepted values for one attribute (or negated),
  shared by rules, silences and inhibitions.
- ``rules``: a :class:`Rule` (matchers, channels and recipients, ``stop``, ``group_by``,
  :class:`Timing`, an optional :class:`Digest`, optional quiet hours, an escalation chain),
  checked whole when built (:class:`Invalid` names every bad field); ``route`` picks the
  rules an alert matches, in position order, up to the first that stops.
- ``quiet_hours``: a daily local window in an IANA zone, across midnight and DST changes.
- ``silences`` and ``inhibition``: muting by hand for a while, and muting by a firing
  alert that makes others noise (a site outage over that site's low-stock warnings).
- ``flapping``, ``rate_limits``: the flap policy, and the per-channel sliding window whose
  overflow is folded into one message, never dropped.
- ``grouping``, ``digests``, ``escalation``, ``tracking``: the state the engine keeps per
  group, per (rule, kind) digest, per escalation, and per alert (keyed by ``dedup_key``);
  ``state``: all of it as the caller loads and saves it, every piece a plain dataclass.
- ``messages``: the engine's output, :class:`Message` values (rendering and sending are
  adapters), and :class:`Suppressed`, what it kept back and why, for the log.
- ``dispatcher``: the engine. ``Dispatcher(config, now)`` raises, resolves and acknowledges
  alerts, ticks the clock, and answers dry runs.

The promises the engine keeps: a critical alert goes out at once on its own, never held by
groups, digests, quiet hours or rate limits (silences, inhibitions and flap holds do apply);
a routed alert that is not suppressed always ends up in some message (group, digest or
overflow), and an alert that was told gets a "resolved" follow-up where it was told.
"""
