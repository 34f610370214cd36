"""Learning offline (issue 22), what the pages give the browser: the save panel only for enrolled learners and
hidden until JavaScript finds support, the page "Saved for offline", the scripts each page loads (the lesson page
keeps its five requests), and the texts the scripts show coming from the templates."""
from __future__ import annotations

import re

from tests.helpers import enrol, load, login, write_course


def scripts(html: str) -> list[str]:
    return [src.split("?")[0] for src in re.findall(r'<script src="([^"]+)"', html)]


def test_the_save_panel_is_for_enrolled_learners_and_hidden_until_the_browser_can_save(app, client, companies, tmp_path):
    load(app, write_course(tmp_path / "mini", "mini", 2, title="Mini course").parent)
    login(client, companies[0].learner.email)
    page = client.get("/courses/mini").get_data(as_text=True)
    assert "offline-panel" not in page and "offline.js" not in page  # not enrolled: nothing to save
    assert enrol(client, "mini").status_code == 303
    page = client.get("/courses/mini").get_data(as_text=True)
    panel = re.search(r'<section class="card offline-panel"[^>]*>', page).group(0)
    assert " hidden" in panel and 'data-manifest="/courses/mini/offline.json"' in panel
    assert "About {size} in this browser" in panel  # the words come from the template, the numbers from the browser
    assert "/static/js/offline.js" in scripts(page)
    assert 'data-sw="/static/js/sw.js?v=' in page
    assert 'href="/courses/saved"' in page


def test_the_lesson_page_loads_session_and_player_only(app, client, companies, tmp_path):
    load(app, write_course(tmp_path / "mini", "mini", 2, title="Mini course").parent)
    login(client, companies[0].learner.email)
    enrol(client, "mini")
    page = client.get("/courses/mini/lessons/l1").get_data(as_text=True)
    assert scripts(page) == ["/static/vendor/htmx-2.0.11.min.js", "/static/js/session.js", "/static/js/player.js"]
    assert '<template id="device-texts">' in page and "changes waiting to be sent" in page


def test_signed_out_pages_clear_without_the_signed_in_script(client):
    """app.js (part 7) clears a previous person's data on pages without a device key; session.js is not loaded."""
    page = client.get("/login").get_data(as_text=True)
    assert "/static/js/app.js" in scripts(page) and "/static/js/session.js" not in scripts(page)
    assert "device-texts" not in page and "data-device-key" not in page


def test_the_saved_page_explains_itself_without_javascript(app, client, companies):
    login(client, companies[0].learner.email)
    response = client.get("/courses/saved")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<h1>Saved for offline</h1>" in page
    assert "needs a browser with JavaScript turned on" in page
    assert "/static/js/offline.js" in scripts(page)
    assert 'href="/courses/saved"' in client.get("/courses").get_data(as_text=True)
