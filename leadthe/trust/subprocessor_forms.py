"""Forms of the sub-processor pages: staff publish a new version of the list; a company admin objects to a change;
staff answer an objection."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, FieldList, FormField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from leadthe.forms import FlaskForm
from leadthe.privacy.registry import BY_TABLE
from leadthe.trust.subprocessors import NOTICE_DAYS, earliest_effective

KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
TEXTS = ("key", "name", "purpose", "categories", "location", "safeguard", "tables")


def _known_tables(form, field):
    unknown = [t for t in (field.data or "").split() if t != "*" and t not in BY_TABLE]
    if unknown:
        raise ValidationError(_l("Not a table of the registry: %(tables)s.", tables=", ".join(unknown)))


def _key_format(form, field):
    if field.data and not KEY.match(field.data.strip()):
        raise ValidationError(_l("Use lower-case letters, digits and hyphens (at most 40)."))


class EntryForm(FlaskForm):
    """One sub-processor. A row left empty is ignored (the empty row at the end adds one); ticking "remove"
    drops it from the new version. A part of ``NewVersionForm``, whose token covers it."""

    class Meta:
        csrf = False

    key = StringField(_l("Short id"), validators=[DataRequired(_l("Give a short id.")), _key_format])
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the name.")), Length(max=200)])
    purpose = TextAreaField(_l("Purpose"), validators=[DataRequired(_l("Say what it does for us.")), Length(max=1000)],
                            render_kw={"rows": 2})
    categories = TextAreaField(_l("Categories of data"), validators=[DataRequired(_l("Say which data it processes.")),
                                                                Length(max=1000)], render_kw={"rows": 2})
    location = StringField(_l("Location"), validators=[DataRequired(_l("Give the location.")), Length(max=200)])
    in_eea = BooleanField(_l("The data stays in the EU/EEA"))
    safeguard = StringField(_l("Transfer safeguard"), validators=[DataRequired(_l("Give the safeguard, or say none is needed.")),
                                                                  Length(max=1000)])
    since = DateField(_l("Since"), validators=[DataRequired(_l("Give the date since when we use it."))])
    tables = StringField(_l("Registry tables (space-separated; * for all)"),
                         validators=[DataRequired(_l("Name the tables it processes, or *.")), Length(max=1000), _known_tables])
    remove = BooleanField(_l("Remove it from the list"))

    def is_blank(self) -> bool:
        return not any((getattr(self, name).data or "").strip() for name in TEXTS)

    def validate(self, extra_validators=None):
        if self.is_blank() or self.remove.data:
            for f in self:
                f.errors = []
            return True
        return super().validate(extra_validators)


class EntryList(FieldList):
    """The entries, with their errors as sentences for the error summary (each error stays beside its field)."""

    def validate(self, form, extra_validators=()):
        ok = super().validate(form, extra_validators)
        if self.errors:
            self.errors = [str(_l("Sub-processor %(num)s: %(error)s", num=i + 1, error=message))
                           for i, entry in enumerate(self.entries) for f in entry.form for message in f.errors]
        return ok


def _notice_period(form, field):
    if field.data is not None and field.data < earliest_effective():
        raise ValidationError(_l("Give at least %(days)s days' notice: choose %(date)s or later.",
                                 days=NOTICE_DAYS, date=earliest_effective().isoformat()))


class NewVersionForm(FlaskForm):
    summary = TextAreaField(_l("What changes, in one or two sentences"),
                            validators=[DataRequired(_l("Say what changes.")), Length(max=1000)], render_kw={"rows": 3})
    effective = DateField(_l("Takes effect on"), validators=[DataRequired(_l("Choose the date it takes effect.")),
                                                            _notice_period])
    entries = EntryList(FormField(EntryForm), label=_l("Sub-processors"), min_entries=1)

    def kept_entries(self) -> list[EntryForm]:
        return [e.form for e in self.entries if not e.form.is_blank() and not e.form.remove.data]


class ObjectionForm(FlaskForm):
    reason = TextAreaField(_l("Why does your company object?"),
                           validators=[DataRequired(_l("Give the reason for your objection.")), Length(max=3000)],
                           render_kw={"rows": 6})


class AnswerForm(FlaskForm):
    note = TextAreaField(_l("Our answer (the company sees it with its objection)"),
                         validators=[DataRequired(_l("Write the answer.")), Length(max=3000)], render_kw={"rows": 5})

