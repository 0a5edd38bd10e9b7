"""What a message says about who sent it: its From header(s) and Authentication-Results.

Pure reading, no judgement: which headers to believe (only those the receiving side's own
border MTA wrote, by authserv-id) and what makes a sender trusted is decided in one place,
`trust.who_may_ask`. RFC 8601 (Authentication-Results) and RFC 5322 (From) grammar, read
tolerantly: anything malformed is kept as a defect, never raised.
"""

from __future__ import annotations

import re
from email.message import EmailMessage, Message

from parsers.models import AuthenticationResults, MethodResult, SenderEvidence
from parsers.normalize import clean_str

# Bounds: a hostile message cannot make this step slow or its output large.
MAX_RESULT_HEADERS = 20
MAX_HEADER_CHARS = 4096
MAX_RESULTS_PER_HEADER = 20

_QUOTED = r'"(?:[^"\\]|\\.)*"'
_PAIR = re.compile(rf"([A-Za-z0-9_.\-/]+)\s*=\s*({_QUOTED}|[^\s;]+)")


def read_sender_evidence(message: EmailMessage) -> SenderEvidence:
    """Every From address and defect, and every Authentication-Results header, parsed."""
    raw_from = _raw_values(message, "from")
    addresses: list[str] = []
    defects: list[str] = []
    try:  # the stdlib's address parser fails outright on some malformed From headers
        from_values = message.get_all("From", []) or []
    except Exception as exc:
        from_values = []
        defects.append(f"unreadable From header ({type(exc).__name__})")
    for value in from_values:
        try:
            addresses.extend(a.addr_spec.lower() for a in value.addresses if a.addr_spec)
            defects.extend(str(defect) for defect in getattr(value, "defects", ()))
        except Exception as exc:  # a header the policy cannot even build
            defects.append(f"unreadable From header ({type(exc).__name__})")
    if any("<@" in value.replace(" ", "") for value in raw_from):
        defects.append("route syntax in the From address")
    results = [
        parsed
        for value in _raw_values(message, "authentication-results")[:MAX_RESULT_HEADERS]
        if (parsed := parse_authentication_results(value)) is not None
    ]
    return SenderEvidence(
        from_headers=len(raw_from),
        from_addresses=[clean_str(address) for address in addresses],
        from_defects=sorted(set(defects)),
        authentication_results=results,
    )


def parse_authentication_results(value: str) -> AuthenticationResults | None:
    """One Authentication-Results header value; None when it names no authserv-id."""
    text = _strip_comments(" ".join(clean_str(value[:MAX_HEADER_CHARS]).split()))
    parts = _split_outside_quotes(text, ";")
    head = parts[0].split()
    if not head:
        return None
    results = []
    for part in parts[1:][:MAX_RESULTS_PER_HEADER]:
        pairs = [(key.lower(), _unquote(val)) for key, val in _PAIR.findall(part)]
        if not pairs:
            continue  # "none", or unreadable
        (method, result), rest = pairs[0], pairs[1:]
        results.append(
            MethodResult(
                method=method.partition("/")[0],
                result=result.lower(),
                properties={key: val for key, val in rest if key != "reason"},
            )
        )
    return AuthenticationResults(authserv_id=_unquote(head[0]).lower(), results=results)


def _raw_values(message: Message, name: str) -> list[str]:
    try:
        return [str(value) for key, value in message.raw_items() if key.lower() == name]
    except Exception:
        return []


def _strip_comments(text: str) -> str:
    """Remove (comments), nested or not, outside quoted strings."""
    out, depth, quoted, escaped = [], 0, False, False
    for char in text:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if char == '"' and depth == 0:
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
            continue
        elif not quoted and char == ")" and depth:
            depth -= 1
            continue
        if depth == 0:
            out.append(char)
    return "".join(out)


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value
