"""Hostile text for the escaping tests: markup-like strings, and a check that Markdown built
with them shows them as text, with only the structure we wrote."""

from __future__ import annotations

import itertools
import unicodedata
from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from store import crud
from store.db import session_scope
from store.models import RequestSource, RequestState

PAYLOADS = [
    '"[/red]"@evil.test',
    "[bold red]alarm[/]",
    "[link=https://evil.example]click[/link]",
    ":warning: :skull:",
    "[approve](https://evil.example/approve)",
    "![pixel](https://evil.example/p.png)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "x\n\n**Sender verified by Offstreet security - approve**",
    "x\n# Approved\n- [approve](javascript:alert(1))",
    "`code` ``more`` ~~struck~~ _em_ *em* __strong__",
    "https://evil.example www.evil.example jane@evil.example <https://evil.example>",
    "&lt;b&gt; &#42; \\ \\\\ | --- ===",
    "\u202eevil.exe\u200b\u2028line\u2029para\x00\x1b[31m",
]
MARKUP_CHARACTERS = list("[]()!*_`<>#-+=|~\\&;:/@.\"' \n\r\t") + ["\u2028", "\u202e", "\x00"]
# Markup-like strings: known attacks, strings made of markup characters, and anything at all.
markup_like = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(alphabet=st.sampled_from([*MARKUP_CHARACTERS, "a", "b", "1"]), min_size=1),
    st.text(min_size=1),
    st.lists(st.sampled_from(PAYLOADS), min_size=2, max_size=4).map(" ".join),
)

_markdown = MarkdownIt("commonmark").enable(["table", "strikethrough"])
UNSAFE_TOKENS = {"link_open", "image", "html_inline", "html_block", "code_inline", "s_open"}


def as_read(text: str) -> str:
    """What ops should read for `text`: itself on one line (breaks and invisible controls
    become spaces), runs of spaces as Markdown keeps them."""
    return "".join(
        " " if unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} else c for c in text
    ).strip()


def structure(markdown: str) -> tuple[Counter[str], str]:
    """The Markdown's token kinds (blocks and inline), and all the text it shows."""
    kinds: Counter[str] = Counter()
    shown: list[str] = []
    for token in _markdown.parse(markdown):
        kinds[token.type] += 1
        for child in token.children or []:
            kinds[child.type] += 1
            if child.type == "text":
                shown.append(child.content)
            elif child.type == "softbreak":
                shown.append("\n")
    return kinds, " ".join(shown)


def assert_shown_as_text(markdown: str, *texts: str, strong: int, headings: int = 0) -> None:
    """No link, image, HTML, code or strike-through anywhere; exactly the bold spans and
    headings we wrote; and each of `texts` shown as written."""
    kinds, shown = structure(markdown)
    assert not UNSAFE_TOKENS & set(kinds), (kinds, markdown)
    assert kinds["strong_open"] == strong and kinds["em_open"] == 0, (kinds, markdown)
    assert kinds["heading_open"] == headings, (kinds, markdown)
    for text in texts:
        assert " ".join(as_read(text).split()) in " ".join(shown.split()), (text, markdown)


# For property tests that use the `store` fixture: one store for all their examples.
_keys = itertools.count()
LIKE_THE_FIXTURES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def hostile_request(
    text: str, *, state: RequestState, company: str | None = None, spot_id: str | None = None
) -> int:
    """A request whose sender, subject, reason and line are all `text`."""
    with session_scope() as session:
        found = crud.get_company_by_name(session, name=company) if company else None
        if company and found is None:
            raise LookupError(f"no company {company!r}")
        company_id = None if found is None else found.id
        request, _ = crud.record_request(
            session,
            key=f"hostile-{next(_keys)}",
            source=RequestSource.email,
            raw=b"",
            parsed=None,
            sender=text,
            subject=text,
            spots=[(text, spot_id or text)],
            company_id=company_id,
            state=state,
            reason=text,
        )
        return request.id or 0
