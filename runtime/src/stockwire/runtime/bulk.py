"""Many rows in one fixed statement: ``INSERT ... SELECT FROM unnest(one array per
column)``.

An executemany renders (and PostgreSQL plans) a VALUES list for every number of rows; this
statement's text never changes, so it is planned once and takes any number of rows as one
array per column. Rows go in in the order given (an identity column keeps it). The catalog
copy and assets' devices, timeline and kept facts are written this way.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def insert_unnested(
    table: sa.Table, columns: Sequence[str], then: str = "", *, alias: str = ""
) -> sa.TextClause:
    """``INSERT INTO table [AS alias] (columns) SELECT ... FROM unnest(:column, ...) [then]``,
    each parameter a list of the column's values (``then``: an ``ON CONFLICT`` clause)."""
    names = ", ".join(columns)
    arrays = ", ".join(
        f"CAST(:{name} AS {table.c[name].type.compile(dialect=_DIALECT)}[])" for name in columns
    )
    target = f"{table.name} AS {alias}" if alias else table.name
    statement = sa.text(
        f"INSERT INTO {target} ({names}) SELECT {names} FROM unnest({arrays}) "
        f"WITH ORDINALITY AS given({names}, n) ORDER BY n {then}"
    )
    return statement.bindparams(
        *(sa.bindparam(name, type_=ARRAY(table.c[name].type)) for name in columns)
    )
