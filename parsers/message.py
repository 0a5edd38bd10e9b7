"""The parsed message class: `policy.default`, reading each header only once, within a budget.

With `policy.default` every read of a header parses it again (about sixteen reads per
message, Content-Type for each part among them): two thirds of the parser's time. Caching the
parsed value per part, cleared whenever a header changes, keeps the results identical.

The standard library parses a header value at about 10 s per MiB, and worse than linearly
(1 MiB of Content-Type parameters: 28 s), and the feed parser itself parses each part's
Content-Type. So a header is parsed only within the budget of the parse under way
(`header_budget`): one field over `Limits.max_header_chars`, more than
`Limits.max_headers_chars` parsed in all, or a part with more than `Limits.max_header_fields`
fields (every read scans them) raises `MessageTooLarge`, and so does every later
read, so that a caller that swallows the first one still meets the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Any

from parsers.limits import Limits, MessageTooLarge

_MISSING = object()


@dataclass
class _Budget:
    limits: Limits
    spent: int = 0
    refusal: str | None = None

    def count_fields(self, fields: int) -> None:
        if self.refusal is None and fields > self.limits.max_header_fields:
            self.refusal = (
                f"a header of {fields:,} fields, over the {self.limits.max_header_fields:,} read"
            )
        if self.refusal is not None:
            raise MessageTooLarge(self.refusal)

    def spend(self, name: str, size: int) -> None:
        if self.refusal is None and size > self.limits.max_header_chars:
            self.refusal = (
                f"its {name} header is {size:,} characters long, over the "
                f"{self.limits.max_header_chars:,} read"
            )
        self.spent += size
        if self.refusal is None and self.spent > self.limits.max_headers_chars:
            self.refusal = (
                f"its headers are over the {self.limits.max_headers_chars:,} characters read"
            )
        if self.refusal is not None:
            raise MessageTooLarge(self.refusal)


_BUDGET: ContextVar[_Budget | None] = ContextVar("header_budget", default=None)


@contextmanager
def header_budget(limits: Limits) -> Iterator[None]:
    """Headers parsed inside this block count against `limits`; raise if it was exceeded."""
    budget = _Budget(limits)
    token = _BUDGET.set(budget)
    try:
        yield
    finally:
        _BUDGET.reset(token)
    if budget.refusal is not None:  # raised inside, and swallowed by a lenient reader
        raise MessageTooLarge(budget.refusal)


def spend_on_header(name: str, size: int) -> None:
    """Count a header read outside the message class (a raw value decoded) against the budget."""
    budget = _BUDGET.get()
    if budget is not None:
        budget.spend(name, size)


class HeaderCachingMessage(EmailMessage):
    """An EmailMessage whose header values are parsed once per part."""

    # The stdlib's raw (name, value) pairs, which typeshed does not declare.
    _headers: list[tuple[str, str]]

    def get(self, name: str, failobj: Any = None) -> Any:
        cache = self.__dict__.setdefault("_parsed_headers", {})
        key = name.lower()
        if key not in cache:
            budget = _BUDGET.get()
            if budget is not None:
                budget.count_fields(len(self._headers))
                raw = next((v for k, v in self._headers if k.lower() == key), "")
                budget.spend(name, len(str(raw)))
            cache[key] = super().get(name, _MISSING)
        value = cache[key]
        return failobj if value is _MISSING else value

    def get_all(self, name: str, failobj: Any = None) -> Any:
        budget = _BUDGET.get()
        if budget is not None:  # not cached: each call parses every field of that name
            budget.count_fields(len(self._headers))
            key = name.lower()
            for field, raw in self._headers:
                if field.lower() == key:
                    budget.spend(name, len(str(raw)))
        return super().get_all(name, failobj)

    def _forget(self) -> None:
        self.__dict__.pop("_parsed_headers", None)

    def set_raw(self, name: str, value: Any) -> None:
        self._forget()
        super().set_raw(name, value)

    def __setitem__(self, name: str, val: Any) -> None:
        self._forget()
        super().__setitem__(name, val)

    def __delitem__(self, name: str) -> None:
        self._forget()
        super().__delitem__(name)

    def replace_header(self, _name: str, _value: Any) -> None:
        self._forget()
        super().replace_header(_name, _value)


PARSE_POLICY = policy.default.clone(message_factory=HeaderCachingMessage)
