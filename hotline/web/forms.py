"""The base of every form: WTForms' own messages in the page's language, loaded once.

Flask-WTF reads WTForms' catalog from disk on every request and WTForms ships none in
Vietnamese, so a form's default messages ("This field is required.") came out in English
on Vietnamese pages. ``Form`` takes them from ``hotline/translations/vi/LC_MESSAGES/
wtforms.mo`` (English is the messages' own language) and keeps each catalog per process.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask_babel import get_locale
from flask_wtf import FlaskForm

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


@cache
def catalog(language: str) -> NullTranslations:
    """WTForms' messages in ``language`` (its msgids, English, when there is no catalog)."""
    return Translations.load(str(TRANSLATIONS), [language], domain="wtforms")


class Form(FlaskForm):
    """A Flask-WTF form whose built-in messages speak the page's language."""

    class Meta:
        def get_translations(self, form):
            locale = get_locale()
            return catalog(locale.language if locale is not None else "vi")
