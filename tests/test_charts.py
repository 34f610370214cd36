"""Charts (admin/_charts.html): a value scale, labels as text, the figures as a table behind a disclosure,
and an empty state that says what to do next instead of a blank frame."""
from __future__ import annotations

import re
from datetime import timedelta

from leadthe.extensions import db
from leadthe.models import ActivityDay, utcnow
from tests.helpers import login, signed_in


def _activity(app, user, minutes_by_days_ago: dict[int, int]):
    today = utcnow().date()
    with app.app_context():
        for back, minutes in minutes_by_days_ago.items():
            db.session.add(ActivityDay(user_id=user.id, day=today - timedelta(days=back), seconds=minutes * 60,
                                       lessons_completed=1))
        db.session.commit()


def _chart(html, chart_id):
    return html.split(f'id="{chart_id}-caption"', 1)[1].split("</figure>", 1)[0]


def test_an_empty_dashboard_says_what_to_do_instead_of_drawing_an_empty_chart(app, client, companies):
    login(client, companies[0].learner.email)
    html = client.get("/dashboard").get_data(as_text=True)
    week = _chart(html, "week")
    assert "No learning in the last seven days yet." in week and 'href="/courses"' in week
    assert "<svg" not in week and "<table" not in week
    assert 'class="data visually-hidden"' not in html  # the old hidden table made the page scroll sideways


def test_the_week_chart_has_a_value_scale_labels_and_its_figures_as_a_table(app, client, companies):
    learner = companies[0].learner
    _activity(app, learner, {0: 23, 1: 7, 3: 12})
    login(client, learner.email)
    week = _chart(client.get("/dashboard").get_data(as_text=True), "week")
    # 23 minutes at most: a scale in steps of 5 up to 25
    ticks = re.findall(r"<span>(\d+)</span>", week.split('class="cchart-axis"', 1)[1].split("</div>", 1)[0])
    assert ticks == ["25", "20", "15", "10", "5", "0"]
    assert 'height="23"' in week and 'viewBox="0 0 10 25"' in week
    labels = re.findall(r'<span class="cchart-label[^"]*">([^<]*)</span>', week)
    assert len(labels) == 7 and all(labels)  # seven days, each named
    assert "<summary>Show the figures as a table</summary>" in week
    assert re.search(r"<tr><th scope=\"row\">\w+</th><td class=\"num\">23</td></tr>", week)


def test_admin_dashboard_charts_have_a_scale_and_an_empty_state(app, companies):
    admin = signed_in(app, companies[0].admin.email)
    html = admin.get("/admin").get_data(as_text=True)
    daily = _chart(html, "daily")
    assert "Nobody has learned in the last 30 days yet." in daily and 'href="/admin/invitations"' in daily
    assert "<svg" not in daily
    _activity(app, companies[0].learner, {0: 5, 2: 5})
    daily = _chart(admin.get("/admin").get_data(as_text=True), "daily")
    assert 'role="img"' in daily and "<svg" in daily
    ticks = re.findall(r"<span>(\d+)</span>", daily.split('class="cchart-axis"', 1)[1].split("</div>", 1)[0])
    assert ticks == ["1", "0"]  # one active learner at most
    # thirty days: some labels are left blank so the rest stay readable; the newest day is always named
    labels = re.findall(r'<span class="cchart-label[^"]*">([^<]*)</span>', daily)
    assert len(labels) == 30 and labels[-1] and 4 <= sum(1 for label in labels if label) <= 8
