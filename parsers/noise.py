"""Numbers that are never SpotIDs: phones, postcodes, addresses, references, dates, money.

`mask` blanks their digits with `MASK` (one character per digit) so positions in the line
stay put: the pair reader finds candidates in the masked line and cuts locations from the
original one.
"""

from __future__ import annotations

import re

from parsers.normalize import lowered_exactly

MASK = "\ue000"

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|januar|februar|märz|mai"
    r"|juni|juli|oktober|dezember|janvier|février|mars|avril|juin|juillet|août|septembre"
    r"|octobre|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto"
    r"|septiembre|octubre|noviembre|diciembre)\.?"
)
_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA PR RI SC SD TN TX UT VT VA WA WV WI WY"
).split()
_STATE_NAMES = (
    r"(?:Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida"
    r"|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland"
    r"|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada"
    r"|New\s+(?:Hampshire|Jersey|Mexico|York)|(?:North|South)\s+(?:Carolina|Dakota)|Ohio"
    r"|Oklahoma|Oregon|Pennsylvania|Rhode\s+Island|Tennessee|Texas|Utah|Vermont|Virginia"
    r"|Washington|West\s+Virginia|Wisconsin|Wyoming)"
)
_STREET = (
    r"(?:st|street|ave|avenue|rd|road|blvd|boulevard|dr|drive|ln|lane|way|ct|court|pl|place"
    r"|pkwy|parkway|hwy|highway|sq|square|ter|terrace|cir|circle|plaza|pike|trl|trail|row"
    r"|broadway)\b\.?"
)
# A reference keyword, an optional "no./number/#" and the number it names.
_REFERENCE_WORDS = (
    r"invoice|inv|order|po|p\.\s?o\.?|purchase\s+order|ticket|case|ref|reference|confirmation"
    r"|conf|account|acct|a/c|customer|client|booking|reservation|transaction|txn|receipt"
    r"|tracking|claim|contract|quote|quotation|job|request|req|incident|member(?:ship)?"
    r"|policy|permit|licen[cs]e|plate|serial|sku|item|part|model|code|pin|otp|password"
    r"|passcode|verification|iban|bic|swift|routing|tax|vat|ein|employee|badge|ext"
    r"|extension|version|build|release|total|subtotal|count|qty|quantity|capacity|amount"
    r"|balance|sum|price|cost|fee|rate|spaces|stalls|rechnung|bestellung|auftrag|facture"
    r"|commande|factura|pedido|reg|registration|registered|hrb|kvk|siret|siren|abn|acn|crn"
    r"|duns|company\s+(?:no|nr|number)|space|stall|bay|card|ending\s+in|last\s+(?:4|four)"
    r"|visa|mastercard|amex|meeting|conference|webinar|dial-in|zoom|teams"
    # French (Québec): extension, fax, invoice, order, file, account, business and tax numbers.
    r"|poste|téléc|télécopieur|sans\s+frais|facture|commande|bon\s+de\s+commande|dossier"
    r"|réf|référence|compte|contrat|permis|plaque|immatriculation|neq|tps|tvq|gst|hst|qst"
    r"|billet|réservation|confirmation|transaction|reçu|client|cellulaire|cell"
)
_UNITS = (
    r"%|percent|spaces|parking\s+spaces|spots|stalls|bays|cars|vehicles|sq\.?\s?ft|sqft"
    r"|square\s+feet|m2|m²|km|mi|miles|ft|feet|meters|metres|kg|lbs?|hours|hrs|minutes|mins"
    r"|seconds|days|weeks|months|years|people|users|customers|employees|units|pcs|pieces"
    r"|times|usd|eur|gbp|cad|chf|aud|dollars?|euros?|pounds?|bucks|plätze|places|plazas"
    r"|\$|€|cases|espaces|véhicules|voitures|autos|stationnements|heures|jours|semaines|mois"
    r"|ans|mètres|pieds|étages|niveaux|entrées|sorties|abonnés|abonnements|clients"
    r"|entries|exits|visits|visitors|transactions|tickets|sessions|occupancy|trucks|bikes"
    r"|permits|members|subscribers|passes|reservations|bookings|orders|calls|emails|messages"
    r"|acres|hectares|floors|levels|locations|lots|garages|sites|stores|cities"
)
_CURRENCY = r"[$€£¥₹]|\b(?:usd|eur|gbp|cad|chf|aud|us\$|ca\$)"

_PATTERNS = [
    # Addresses and links: digits inside them are part of a name.
    # (A match can only start where a run of non-blanks does: starting later, it would end
    # at the same place, so the start is pinned to keep the search linear.)
    re.compile(r"(?<!\S)\S+@\S+|\b(?:https?://|www\.)\S+", re.I),
    # Dates and times.
    re.compile(r"(?<!\d)\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(?!\d)"),
    re.compile(rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b", re.I),
    re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\.?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}\b", re.I),
    re.compile(rf"\b{_MONTH},?\s+\d{{4}}\b", re.I),
    re.compile(r"(?<![\d.])\d{1,2}[:h]\d{2}(?::\d{2})?(?!\d)"),
    re.compile(
        r"\b(?:in|since|from|until|till|by|of|year|fy|opened|built|founded|established|est"
        r"|copyright|spring|summer|fall|autumn|winter|q[1-4]|h[12]|early|late|mid|end|start"
        r"|before|after|during)\.?\s+(?:19|20)\d{2}\b",
        re.I,
    ),
    re.compile(r"(?:©|\(c\))\s*(?:19|20)\d{2}", re.I),
    re.compile(r"\b(?:19|20)\d{2}\s*[-–]\s*(?:19|20)?\d{2}\b"),
    # Phone numbers.
    re.compile(r"\+\s?\d[\d\s().\-/]{5,}\d"),
    re.compile(r"(?<![\d\w])\(?\d{3}\)?[\s.\-]\d{3}[\s.\-]\d{4}(?!\d)"),
    re.compile(r"(?<![\d\w])\d{3}[.\-]\d{4}(?!\d)"),
    re.compile(r"(?<![\d\w])0\d{1,4}(?:[\s./-]\d{2,8}){1,4}(?!\d)"),
    re.compile(
        r"\b(?:tel|telephone|phone|ph|mobile|mob|cell|fax|call|direct|whatsapp|text|telefon"
        r"|handy|téléphone|tél|teléfono|móvil)\b\.?\s*(?:number|no\.?|#)?\s*[:.]?\s*"
        r"(?:me\s+)?(?:back\s+)?(?:at|on|under)?\s*[+\d(][\d\s().\-/]*\d",
        re.I,
    ),
    re.compile(r"(?:^|[|•·]\s*)[TMPFO]\s*[:.]\s*[+\d(][\d\s().\-/]*\d"),
    # Postcodes, units and street numbers.
    # Idaho's "ID" doubles as a SpotID label, so only its own ZIP range (83xxx) counts.
    re.compile(
        rf"(?:,\s*|\b(?!(?i:spot)\b)[A-Z][a-z]+\s+)(?:(?:{'|'.join(_STATES)})\s+\d{{5}}"
        r"|ID\s+83\d{3})(?:-\d{4})?\b"
    ),
    re.compile(rf"\b{_STATE_NAMES},?\s+\d{{5}}(?:-\d{{4}})?\b"),
    re.compile(r"\b(?:zip|postal|post\s*code|postcode|plz|cp)\b(?:\s*code)?[\s:#-]*\d{3,6}", re.I),
    re.compile(
        r"(?i:stra(?:ss|ß)e|str\.|platz|gasse|allee|rue|calle)\b[^,\n]{0,200},\s*\d{4,5}\s+[A-ZÀ-Þ]"
    ),
    re.compile(
        r"\b(?:suite|ste|unit|apt|apartment|floor|fl|room|rm|p\.?\s?o\.?\s?box|box|building"
        r"|bldg|dept|department|étage|bureau|local|app|appartement|casier\s+postal|c\.p\.)\b"
        r"\.?\s*(?:no\.?|#|n[°º])?\s*\d+",
        re.I,
    ),
    re.compile(
        rf"(?<![\w#])\d{{1,6}}(?:-\d{{1,4}})?\s+(?:[NSEW]\.?\s+|(?:North|South|East|West)\s+)?"
        rf"(?:[A-Z0-9][\w'’.-]*\s+){{1,3}}(?i:{_STREET})"
    ),
    re.compile(
        r"(?<![\w#])\d{1,5}(?:-\d{1,4})?,?\s+(?i:rue|avenue|av\.|boulevard|boul\.|bd|chemin"
        r"|calle|avenida|rua|via|viale|piazza)\s"
    ),
    # References, quantities and money.
    re.compile(
        rf"\b(?:{_REFERENCE_WORDS})\b\.?\s*(?:number|num|no\.?|nr\.?|#|id|n[°º]|numéro)?\s*[:#.=-]?"
        r"(?:\s*(?:is|was|of))?\s*#?\s*(?:[a-z]{1,4}-)?\d(?:[\d\-/.]|\s(?=\d))*",
        re.I,
    ),
    # A number (after a non-word character) up to the end of its run of digits, commas and
    # dots, then a unit. Only the run's first such number is tried (atomic group), and the
    # run is never given back (no unit starts with a digit, comma or dot): starting later in
    # the run would end at the same place, so the result is the same, in linear time. The
    # masked span is group "span".
    re.compile(
        rf"(?<![\d,.])(?>(?<![\w])(?=\d)|[\d,.]*?[,.](?=\d))(?P<span>\d[\d,.]*+)\s*"
        rf"(?:{_UNITS})(?![\w])",
        re.I,
    ),
    re.compile(rf"(?:{_CURRENCY})\s?\d[\d,.]*", re.I),
]
_DIGIT = re.compile(r"\d")
# Case-insensitive matching is slow: the patterns compiled with re.I also run as exact
# patterns on the lower-cased line, whenever that gives the same matches (`lowered_exactly`).
_EXACT = [
    re.compile(pattern.pattern, pattern.flags & ~re.I) if pattern.flags & re.I else None
    for pattern in _PATTERNS
]


def mask(line: str) -> str:
    """Blank the digits of every span that is known not to be a SpotID."""
    if not _DIGIT.search(line):
        return line  # nothing to blank
    lowered = lowered_exactly(line)
    chars = list(line)
    for pattern, exact_pattern in zip(_PATTERNS, _EXACT, strict=True):
        text = line
        if lowered is not None and exact_pattern is not None:
            pattern, text = exact_pattern, lowered
        spanned = "span" in pattern.groupindex
        for match in pattern.finditer(text):
            for index in range(match.start("span" if spanned else 0), match.end()):
                if _DIGIT.match(chars[index]):
                    chars[index] = MASK
    return "".join(chars)
