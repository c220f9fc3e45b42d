"""Stock's rules in plain Python: balances, the ledger's legs, serials, job custody,
transfers, counts and reservations. No I/O imports, so the rules run (and are tested)
in microseconds.

Where each rule lives:

- ``book``: ``StockBook``, which applies each command through a draft, all or nothing,
  and keeps the events; ``draft``: a command's changes, read through before they apply.
- ``receiving``: goods received, against a purchase order or scanned in.
- ``job_parts``: parts issued to a job, installed (from custody or backflushed), returned
  (good, or to quarantine), and device swaps.
- ``transfers``: shipping and receiving transfers between locations, shortages written off,
  and cancelling one still in transit.
- ``adjustments``: an operator's gains and losses.
- ``cycle_counts``: opening a count, recording scans, closing it with its variances, or
  cancelling it.
- ``reservations``: reserving for a job, fulfilment by issues, release, job completion.
- ``well_formed``: what a command must say to be considered at all (two locations for a
  transfer, serials that number the quantity, ...), checked by the book and, earlier, by
  the HTTP API; ``limits``: the largest quantities and levels, which the contracts share.
- ``checks`` and ``lots``: what many commands share: catalog and serial checks, and which
  lot a quantity is booked to or taken from.
- ``picking``: what ships when stock picks a transfer itself (a transfer request): the
  serials that arrived first, never stock reserved for jobs.
- ``negative_stock``: the check made once per command, after all its legs.
- ``commands``, ``events``, ``model``: what goes in, what comes out, and the state;
  ``errors``: what a command raises that is invalid or names a missing or clashing
  document; ``plan``: what a batch will touch, so the repository loads just that.
"""
