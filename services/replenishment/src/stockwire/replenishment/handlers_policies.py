"""Use cases of policy overrides over HTTP: set one, remove one, read the effective
policy of a SKU x location.

An override is checked twice: on its own (a max below the min, a service level outside
(0, 1)) and against the defaults it sits on (a reorder point on a van's min/max policy,
a fraction of a whole-unit item), both as a 422 naming each field. A change re-evaluates
the SKU x location in the same transaction, so its suggestion follows the new policy at
once.
"""

from dataclasses import dataclass

from stockwire.replenishment import handlers, repository
from stockwire.replenishment.domain.policies import EffectivePolicy, PolicySettings, resolve_policy
from stockwire.replenishment.repository import PolicyRow
from stockwire.replenishment.unit_of_work import ReplenishmentUnitOfWork
from stockwire.runtime.domain_errors import NotFound


@dataclass(frozen=True, slots=True)
class SetPolicy:
    sku: str
    location: str
    settings: PolicySettings
    by: str


@dataclass(frozen=True, slots=True)
class PolicyView:
    """An override (None when the SKU x location has none) and the policy in effect."""

    override: PolicyRow | None
    effective: EffectivePolicy


async def set_policy(cmd: SetPolicy, uow: ReplenishmentUnitOfWork) -> PolicyView:
    facts = await repository.catalog_facts(uow.session, cmd.sku, cmd.location)
    effective = resolve_policy(facts.item, facts.location, cmd.settings)
    row = await repository.save_policy(
        uow.session, cmd.sku, cmd.location, cmd.settings, cmd.by, uow.now()
    )
    await handlers.evaluate_now(cmd.sku, cmd.location, uow)
    return PolicyView(row, effective)


async def remove_policy(sku: str, location: str, uow: ReplenishmentUnitOfWork) -> None:
    if not await repository.remove_policy(uow.session, sku, location):
        raise NotFound("policy", f"{sku}@{location}")
    await handlers.evaluate_now(sku, location, uow)
