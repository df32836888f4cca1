"""Every Hebrew catalogue is whole and compiled: no string is left empty or fuzzy (a fuzzy entry is not
compiled, so the page would show the English), and each .mo file says what its .po file says, so an
edited translation cannot be forgotten uncompiled."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import pytest

KESHER = Path(__file__).resolve().parents[1]
CATALOGUES = sorted(KESHER.glob("**/locale/he/LC_MESSAGES/django.po"))


def _entries(po: Path) -> list[dict[str, object]]:
    """The entries of a .po file: msgid, msgid_plural, msgstr (a list of forms) and whether it is fuzzy."""
    entries: list[dict[str, object]] = []
    entry: dict[str, object] = {}
    key = ""

    def close() -> None:
        if "msgid" in entry and not entry.get("obsolete"):
            entries.append(dict(entry))
        entry.clear()

    for line in po.read_text(encoding="utf-8").splitlines():
        starts_entry = line.startswith(("#", "msgid ", "msgctxt "))
        if not line.strip() or (starts_entry and "msgstr" in entry):
            close()  # an entry ends at a blank line, or where the next one starts without one
        if not line.strip():
            continue
        if line.startswith("#~"):
            entry["obsolete"] = True
        elif line.startswith("#,") and "fuzzy" in line:
            entry["fuzzy"] = True
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if key == "msgstr":
                forms = entry["msgstr"]
                assert isinstance(forms, list)
                forms[-1] += value
            else:
                entry[key] = str(entry[key]) + value
        else:
            word, _, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            if word.startswith("msgstr"):
                key = "msgstr"
                forms = entry.setdefault("msgstr", [])
                assert isinstance(forms, list)
                forms.append(value)
            else:
                key = word
                entry[word] = value
    close()
    return [e for e in entries if e["msgid"]]  # the header has an empty msgid


def test_there_are_catalogues_to_check():
    assert len(CATALOGUES) >= 10


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(KESHER)))
def test_every_string_is_translated_and_none_is_fuzzy(po: Path):
    entries = _entries(po)
    assert entries
    empty = [e["msgid"] for e in entries if not all(e["msgstr"])]  # type: ignore[arg-type]
    fuzzy = [e["msgid"] for e in entries if e.get("fuzzy")]
    assert empty == [], f"untranslated in {po}"
    assert fuzzy == [], f"fuzzy (so not compiled) in {po}"


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(KESHER)))
def test_the_compiled_catalogue_says_what_the_source_says(po: Path):
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run make messages"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in _entries(po):
        msgid, forms = str(entry["msgid"]), entry["msgstr"]
        assert isinstance(forms, list)
        context = str(entry.get("msgctxt", ""))
        if "msgid_plural" in entry:
            plural = str(entry["msgid_plural"])
            got = [
                compiled.npgettext(context, msgid, plural, n)
                if context
                else compiled.ngettext(msgid, plural, n)
                for n in (1, 2, 20, 7)
            ]
            want = [forms[compiled.plural(n)] for n in (1, 2, 20, 7)]  # type: ignore[attr-defined]
        else:
            got = [compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)]
            want = [forms[0]]
        if got != want:
            stale.append(msgid)
    assert stale == [], f"{po.with_suffix('.mo')} is older than its .po: run make messages"
