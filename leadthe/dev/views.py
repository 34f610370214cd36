"""The style guide: every component of the design system on one page (development only, like the outbox)."""
from flask import flash, url_for
from werkzeug.datastructures import MultiDict

from leadthe.confirmation import confirmation_page, confirmed
from leadthe.dev import bp
from leadthe.dev.forms import SampleForm
from leadthe.forms import EmptyForm
from leadthe.htmx import render, see_other


@bp.route("/styleguide", methods=["GET", "POST"])
def styleguide():
    """For review and for the axe and Nu sweeps. Its sample form is shown with errors; its red button asks
    first (a dialog with JavaScript, the confirmation page without) and then changes nothing."""
    if EmptyForm().validate_on_submit():
        if not confirmed():
            return confirmation_page(title="Delete the sample?", message="This is the page people see without JavaScript.",
                                     button="Delete sample", cancel_url=url_for("dev.styleguide"))
        flash("Confirmed. (The style guide changes nothing.)", "success")
        return see_other(url_for("dev.styleguide"))
    form = SampleForm(formdata=MultiDict({"email": "not an address", "role": "learner"}), meta={"csrf": False})
    form.validate()
    return render("dev/styleguide.html", form=form, action_form=EmptyForm())
