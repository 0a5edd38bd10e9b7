"""Is an email without SpotIDs asking where its HotSpot integration stands? A pure function.

"Do we already have HotSpot set up?", "Any update on our request?", "Which lots are live?",
« Avons-nous déjà HotSpot ? », « Où en est notre demande ? »: such an email is a status
question (answered automatically with the integration's state, once its sender passed
authentication). One that talks about the integration and asks something, but in no phrasing
known here, is `unsure` (a person reads it); anything else is not a status question.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

# Only the start of the newest text is read: a question comes first, and the bound keeps
# this linear in no more than a few kilobytes.
MAX_CHARS = 4000

_THE = r"(?:our|my|the)"
_SETUP = r"(?:hotspot )?(?:request|integration|setup)"
_PLACES = r"(?:lots|locations|sites|garages|spots|spot ?ids)"
_LIVE = r"(?:live|active|connected|set up|enabled|working|on hotspot)"
_DONE = r"(?:live|active|done|set ?up|working|complete|completed|processed|finished)"
_ON = r"(?:on|set up (?:on|with|in)|connected to|integrated with)"
_ENGLISH = [
    r"\b(?:do|did) (?:we|you) (?:already )?(?:have|got|set up) "
    r"(?:hotspot|an? (?:hotspot )?integration)",
    rf"\b(?:is|are) (?:we|our (?:lots?|locations?|company)) (?:already )?{_ON} hotspot",
    r"\bhotspot (?:is |was )?(?:already )?"
    r"(?:set ?up|configured|integrated|connected|live|enabled|active)\b.{0,40}\?",
    rf"\b(?:is|has) (?:our |the )?{_SETUP} (?:been )?(?:already )?{_DONE}",
    rf"\b(?:any|an|some) (?:news|updates?|progress) (?:on|about|regarding|for|with) {_THE} "
    r"(?:hotspot )?(?:request|integration|setup|spot ?ids?)",
    rf"\b(?:status|state|progress) of {_THE} {_SETUP}",
    rf"\bwhich (?:of our )?{_PLACES} (?:are|is) (?:already )?{_LIVE}",
    rf"\bwhere (?:are we|do we stand|does {_THE} (?:hotspot )?(?:request|integration) stand)",
    r"\b(?:to avoid|avoid) (?:a )?duplicate (?:setup|set up|integration)",
]
_NOTRE = r"(?:notre|ma|la|nos|les)"
_DEMANDE = r"(?:demande|integration|configuration|dossier)"
_LIEUX = r"(?:stationnements?|emplacements?|terrains|sites|lots|garages)"
_ACTIFS = r"(?:actifs?|en service|en ligne|branches?|connectes?|configures?)"
_FRENCH = [
    r"\b(?:avons-nous|a-t-on|est-ce qu'on a|est-ce que nous avons) (?:deja )?"
    r"(?:hotspot|une integration)",
    r"\b(?:sommes-nous|est-on) (?:deja )?(?:sur|connectes a|integres a|branches a) hotspot",
    r"\bhotspot (?:est-il|est il|est) (?:deja )?"
    r"(?:configure|actif|en place|en service|branche|integre)",
    rf"\bou en (?:est|sont) {_NOTRE} {_DEMANDE}",
    r"\bou en sommes-nous",
    rf"\b(?:des |une )?(?:nouvelles?|mise a jour|suivi) (?:de|sur|concernant|pour) {_NOTRE} "
    rf"{_DEMANDE}",
    rf"\b(?:etat|statut|avancement) de {_NOTRE} {_DEMANDE}",
    rf"\bquel(?:le)?s? (?:de nos )?{_LIEUX} (?:sont|est) (?:deja )?{_ACTIFS}",
    r"\bpour eviter (?:une |un )?(?:double|doublon)",
]
# Unsure: it asks something, about HotSpot or the integration, with a word of status.
_ASKS = re.compile(
    r"\?|\b(?:let (?:me|us) know|could you (?:confirm|check)|pourriez-vous"
    r"|merci de (?:nous )?confirmer)\b"
)
_TOPIC = re.compile(r"\b(?:hotspot|integration)\b")
_STATUS = re.compile(
    r"\b(?:status|update|news|live|active|set ?up|already|progress|on track|ready|yet|when"
    r"|statut|deja|nouvelles|quand|pret"
    r"|suivi|actif|en place)\b"
)
_ENGLISH_RE = [re.compile(p) for p in _ENGLISH]
_FRENCH_RE = [re.compile(p) for p in _FRENCH]


@dataclass(frozen=True)
class StatusQuestion:
    """The verdict on one email: a status question (and its language), unsure (why), or not."""

    verdict: Literal["status", "unsure", "no"]
    language: Literal["en", "fr"] = "en"
    why: str = ""


def _fold(text: str) -> str:
    """Lower case without accents, typographic apostrophes or runs of spaces."""
    text = unicodedata.normalize("NFKD", text[:MAX_CHARS].lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("\u2019", "'").replace("\u2011", "-")
    return re.sub(r"\s+", " ", text)


def classify_status_question(subject: str | None, text: str) -> StatusQuestion:
    """Whether the email (its subject and newest text, holding no SpotIDs) asks where its
    HotSpot integration or request stands."""
    folded = _fold(f"{subject or ''}\n{text}")
    for pattern in _FRENCH_RE:
        if pattern.search(folded):
            return StatusQuestion("status", "fr")
    for pattern in _ENGLISH_RE:
        if pattern.search(folded):
            return StatusQuestion("status", "en")
    if _ASKS.search(folded) and _TOPIC.search(folded) and _STATUS.search(folded):
        return StatusQuestion(
            "unsure",
            why="it asks something about HotSpot or a request, in words we do not read with "
            "certainty; a person should answer it",
        )
    return StatusQuestion("no")
