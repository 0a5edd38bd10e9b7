"""HTML mail to text that keeps lists and tables on their own lines, cells split by tabs.

Quoted history is marked in HTML (Gmail's `gmail_quote`, Apple Mail's and Thunderbird's
`type="cite"`) rather than with ">" characters, so those blockquotes are rendered as
"> "-prefixed lines: the text splitter then treats them exactly like plain-text quotes.
Other blockquotes (Gmail's indent button) stay ordinary text.
"""

from __future__ import annotations

from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.html_engine import Inscriptis
from inscriptis.html_properties import Display
from inscriptis.model.config import ParserConfig
from inscriptis.model.html_element import HtmlElement
from lxml import etree
from lxml.html import HtmlElement as Tree
from lxml.html import document_fromstring

_CSS = {
    **CSS_PROFILES["strict"],
    # Definition lists would otherwise glue "Lot A" and "14283" into one word.
    "dt": HtmlElement(display=Display.block),
    "dd": HtmlElement(display=Display.block, padding_inline=2),
}
_CONFIG = ParserConfig(css=_CSS, table_cell_separator="\t")
_QUOTES = (
    "//blockquote[(@type='cite' or contains(@class, 'quote'))"
    " and not(ancestor::blockquote[@type='cite' or contains(@class, 'quote')])]"
)


def html_to_text(markup: str) -> str:
    """Render `markup` as text; markup lxml cannot parse at all yields ""."""
    try:
        tree = _tree(markup)
        if tree is None:
            return ""
        for quote in tree.xpath(_QUOTES):
            _replace_with_quoted_text(quote)
        text: str = Inscriptis(tree, _CONFIG).get_text()
        return text
    except (ValueError, TypeError, AssertionError, RecursionError, etree.LxmlError):
        return ""


def _tree(markup: str) -> Tree | None:
    markup = markup.strip()
    if not markup:
        return None
    if markup.startswith("<?xml "):
        markup = markup[markup.find("?>") + 2 :]
    try:
        return document_fromstring(markup)
    except etree.ParserError:
        return document_fromstring(f"<pre>{markup}</pre>")


def _replace_with_quoted_text(quote: Tree) -> None:
    text = Inscriptis(quote, _CONFIG).get_text()
    block = etree.Element("pre")
    block.text = "\n" + "\n".join(f"> {line}" for line in text.splitlines()) + "\n"
    block.tail = quote.tail
    parent = quote.getparent()
    if parent is not None:
        parent.replace(quote, block)
