from flask_wtf import FlaskForm
from wtforms import BooleanField


class CompanySettingsForm(FlaskForm):
    require_2fa = BooleanField("Require two-step verification for everyone in the company")
    leaderboard_enabled = BooleanField("Show leaderboards")
