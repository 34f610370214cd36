"""Public certificate verification and the printable PDF (anyone with the code; no other personal data)."""
from flask import Response, abort, url_for

from leadthe.assessments import bp
from leadthe.assessments.certificates import certificate_pdf, verify
from leadthe.htmx import render


@bp.route("/certificates/<code>")
def certificate(code):
    found = verify(code)
    if found is None:
        abort(404)
    body, status = render("assessments/certificate.html", cert=found)
    # the page is for people given the code, not for search engines
    return body, status, {"X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}


@bp.route("/certificates/<code>/pdf")
def certificate_pdf_view(code):
    found = verify(code)
    if found is None:
        abort(404)
    body = certificate_pdf(found, url_for("assessments.certificate", code=found.code, _external=True))
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="leadthe-certificate-{found.code}.pdf"',
        "Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"})
