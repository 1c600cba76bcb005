"""Markdown as an HTML page that is safe to publish: text from the data stays text.

The report's Markdown carries names from a planner's files (providers, areas, candidate
sites). Python-Markdown passes raw HTML through and links to any address, so a provider
called ``<img src=x onerror=alert(1)>`` or ``[x](javascript:...)`` would run in the
reader's browser. :func:`markdown_html` reads no raw HTML (it is shown as text) and keeps
only links and images to web addresses, ``mailto:`` or files beside the page.
"""

from __future__ import annotations

import html
import re

#: The address schemes a link or image may use; anything else (``javascript:``,
#: ``data:``, ``vbscript:`` ...) is removed from the page.
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")

PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:2px 6px}"
    "blockquote{background:#fff3cd;border-left:6px solid #d39e00;padding:.5em 1em}"
)


def safe_url(url: str) -> bool:
    """True for a relative address or one of :data:`SAFE_SCHEMES`.

    Parameters
    ----------
    url
        An address from a link or image (HTML entities and control characters are
        removed before its scheme is read).

    Returns
    -------
    bool
        Whether the address may be kept.
    """
    text = re.sub(r"[\x00-\x20\x7f]+", "", html.unescape(url)).lower()
    m = _SCHEME.match(text)
    return m is None or m.group(1) in SAFE_SCHEMES


def markdown_html(text: str) -> str:
    """The HTML body of Markdown ``text`` (with tables): raw HTML in it is escaped as text
    and links / images to unsafe addresses lose their address.

    Parameters
    ----------
    text
        Markdown text.

    Returns
    -------
    str
        The HTML.
    """
    import markdown
    from markdown.treeprocessors import Treeprocessor

    class _SafeLinks(Treeprocessor):
        def run(self, root):  # type: ignore[no-untyped-def]
            for element in root.iter():
                for attr in ("href", "src"):
                    value = element.get(attr)
                    if value is not None and not safe_url(value):
                        del element.attrib[attr]
            return None

    md = markdown.Markdown(extensions=["tables"])
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    md.treeprocessors.register(_SafeLinks(md), "apgeo_safe_links", 0)
    return md.convert(text)


def html_page(text: str, title: str) -> str:
    """A whole page: the escaped ``title`` and :func:`markdown_html` of ``text``.

    Parameters
    ----------
    text
        The Markdown body.
    title
        The page title.

    Returns
    -------
    str
        A complete HTML document with apgeo's page style.
    """
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{PAGE_STYLE}</style>"
        f"</head><body>{markdown_html(text)}</body></html>\n"
    )


__all__ = ["PAGE_STYLE", "SAFE_SCHEMES", "html_page", "markdown_html", "safe_url"]
