"""Rectification: profile editing, the profile photo (checked, re-encoded, stripped), e-mail change."""
import io
import re

import sqlalchemy as sa
from PIL import Image

from leadthe.extensions import db
from leadthe.models import PrivacyRequest, User
from tests.conftest import PASSWORD, audit_actions, csrf_from, outbox, post_form
from tests.helpers import login


def jpeg_with_gps(size=(1200, 800)) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    gps = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def upload(client, **files_and_fields):
    html = client.get("/account/profile").get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "name": "Learner A", "job_title": "Analyst", "department": "Ops", **files_and_fields}
    return client.post("/account/profile", data=data, content_type="multipart/form-data")


def test_profile_edit_is_saved_and_recorded(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    response = upload(client, name="Lea Renamed", job_title="Data Analyst", department="Finance")
    assert response.status_code == 303
    with app.app_context():
        user = db.session.get(User, a.learner.id)
        assert (user.name, user.job_title, user.department) == ("Lea Renamed", "Data Analyst", "Finance")
        req = db.session.scalar(sa.select(PrivacyRequest).where(PrivacyRequest.kind == "rectification"))
        assert req.self_service and req.status == "completed"
    assert "profile.updated" in audit_actions(app)


def test_photo_is_reencoded_small_and_stripped_of_location(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    original = jpeg_with_gps()
    assert b"SecretCam" in original
    response = upload(client, photo=(io.BytesIO(original), "holiday.jpg"))
    assert response.status_code == 303
    with app.app_context():
        stored = db.session.get(User, a.learner.id).photo
    assert stored and b"SecretCam" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as img:
        assert img.format == "JPEG" and max(img.size) <= 256
        assert not img.getexif() and 0x8825 not in img.getexif()
    with client.get("/account/photo") as served:
        assert served.status_code == 200 and served.data == stored and "no-store" in served.headers["Cache-Control"]
    # another person cannot fetch it: the route only ever serves the signed-in person's own photo
    other = app.test_client()
    login(other, a.manager.email)
    assert other.get("/account/photo").status_code == 404


def test_upload_checked_by_content_not_name(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    response = upload(client, name="Kept Name", photo=(io.BytesIO(b"<?php echo 'hi'; ?>" * 20), "photo.jpg"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "not a picture we can read" in html
    assert 'value="Kept Name"' in html  # the other input is kept
    png = io.BytesIO()
    Image.new("RGBA", (50, 40), (0, 0, 255, 128)).save(png, format="PNG")
    assert upload(client, photo=(io.BytesIO(png.getvalue()), "not-a-jpeg.txt")).status_code == 303


def test_a_huge_picture_in_a_small_file_is_refused_beside_the_field(client, app, companies):
    """A 6300 × 6300 PNG of one colour is a few hundred KB but took about 460 MB to decode; pictures over
    about 12 megapixels are refused before decoding, with the reason beside the field (not a 500)."""
    a, _ = companies
    login(client, a.learner.email)
    png = io.BytesIO()
    Image.new("RGBA", (6300, 6300), (10, 20, 30, 255)).save(png, format="PNG")
    assert len(png.getvalue()) < 300_000
    response = upload(client, name="Kept Name", photo=(io.BytesIO(png.getvalue()), "huge.png"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="Kept Name"' in html
    assert re.search(r'<p class="error" id="photo-error">[^<]*too large[^<]*12 megapixels', html)
    with app.app_context():
        assert db.session.get(User, a.learner.id).photo is None


def test_a_rotated_phone_photo_is_turned_upright(client, app, companies):
    """12 MP fits; the camera's orientation is applied after the picture is made small."""
    a, _ = companies
    login(client, a.learner.email)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    jpeg = io.BytesIO()
    Image.new("RGB", (4032, 3024), (200, 30, 30)).save(jpeg, format="JPEG", exif=exif.tobytes())
    assert upload(client, photo=(io.BytesIO(jpeg.getvalue()), "phone.jpg")).status_code == 303
    with app.app_context():
        stored = db.session.get(User, a.learner.id).photo
    with Image.open(io.BytesIO(stored)) as img:
        assert img.size == (192, 256) and not img.getexif()


def test_photo_can_be_removed(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    upload(client, photo=(io.BytesIO(jpeg_with_gps((40, 40))), "me.jpg"))
    assert upload(client, remove_photo="y").status_code == 303
    with app.app_context():
        assert db.session.get(User, a.learner.id).photo is None


def test_email_change_is_confirmed_at_the_new_address_and_announced_to_the_old(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    wrong = post_form(client, "/account/email", {"email": "new@a.example", "password": "wrong password!"}, page="/account/profile")
    assert wrong.status_code == 422
    taken = post_form(client, "/account/email", {"email": a.admin.email, "password": PASSWORD}, page="/account/profile")
    assert taken.status_code == 422 and "Another account uses that address" in taken.get_data(as_text=True)
    assert post_form(client, "/account/email", {"email": "New@A.example", "password": PASSWORD}, page="/account/profile").status_code == 303
    confirm = outbox(app, kind="email_change")[-1]
    notice = [m for m in outbox(app, kind="security_notice") if "change" in m.subject][-1]
    assert confirm.to_addr == "new@a.example" and notice.to_addr == a.learner.email
    with app.app_context():
        assert db.session.get(User, a.learner.id).email == a.learner.email  # not before confirmation
    path = re.search(r"http://localhost(/account/email/confirm/\S+)", confirm.body_text).group(1)
    assert post_form(client, path, {}).status_code == 303
    with app.app_context():
        user = db.session.get(User, a.learner.id)
        assert user.email == "new@a.example" and user.pending_email is None
    assert any(m.to_addr == a.learner.email and "was changed" in m.subject for m in outbox(app))
    assert client.get(path).status_code == 400  # spent
    fresh = app.test_client()
    login(fresh, "new@a.example")
