"""The mails: an HTML and a plain-text part for each, from the templates in this package."""

from __future__ import annotations

import html
from dataclasses import dataclass
from importlib import resources
from string import Template


@dataclass(frozen=True, slots=True)
class Mail:
    subject: str
    text: str
    html: str


SUBJECTS = {
    "captcha": "SyncTV Verification Code",
    "signup": "SyncTV Signup Verification Code",
    "retrieve_password": "SyncTV Retrieve Password Verification Code",
    "test": "SyncTV Test Email",
}


def _load(name: str) -> Template:
    return Template(resources.files(__package__).joinpath("templates", name).read_text("utf-8"))


def render(kind: str, **values: str) -> Mail:
    """`kind` is a key of SUBJECTS; the code mails share the `captcha` templates."""
    base = "captcha" if kind in ("captcha", "signup") else kind
    subject = SUBJECTS[kind]
    text = _load(f"{base}.txt").substitute(title=subject, **values)
    safe = {k: html.escape(v, quote=True) for k, v in values.items()}
    return Mail(subject, text, _load(f"{base}.html").substitute(title=html.escape(subject), **safe))
