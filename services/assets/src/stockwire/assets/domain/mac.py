"""MAC addresses as assets keeps them: lower case, colon-separated pairs."""

HEX = frozenset("0123456789abcdef")


def mac_digits(value: str) -> str | None:
    """The 12 hexadecimal digits of a MAC written with ``:`` or ``-`` between pairs,
    ``.`` between groups of four (``e01f.2b7a.10c4``), or nothing; None for anything
    else."""
    text = value.strip().lower()
    for separator, group in ((":", 2), ("-", 2), (".", 4)):
        parts = text.split(separator)
        if len(parts) == 12 // group and all(len(part) == group for part in parts):
            text = "".join(parts)
            break
    return text if len(text) == 12 and set(text) <= HEX else None


def normal_mac(mac: str) -> str:
    """A MAC address as assets keeps it: lower case, colon-separated (from any form
    :func:`mac_digits` reads; anything else only lower-cased, ``-`` made ``:``)."""
    digits = mac_digits(mac)
    if digits is None:
        return mac.strip().lower().replace("-", ":")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))
