from flask import abort, request
from flask_login import current_user, login_required

from leadthe.htmx import render
from leadthe.leaderboard import bp, services
from leadthe.privacy.services import may_rank, settings_for
from leadthe.query_args import int_arg
from leadthe.trust import works_council


@bp.route("/leaderboard")
@login_required
def leaderboard():
    org = current_user.organization
    if org is None:
        abort(404)
    if not org.leaderboard_enabled:
        return render("leaderboard/off.html")
    scope = request.args.get("scope", "org")
    scope = scope if scope in ("team", "org") else "org"
    period = request.args.get("period", "all")
    period = period if period in ("week", "all") else "all"
    teams = services.viewer_teams(current_user)
    team_id = int_arg("team")
    if scope == "team":
        if team_id not in {t for t, _n in teams}:
            team_id = teams[0][0] if teams else None
    council = works_council.active(current_user.org_id)
    taking_part = may_rank(current_user, opt_in_needed=council)
    top, mine = ([], None)
    if scope == "org" or team_id is not None:
        top, mine = services.ranking(current_user, scope=scope, period=period, team_id=team_id)
    return render("leaderboard/index.html", block="board", top=top, mine=mine if taking_part else None, taking_part=taking_part,
                  scope=scope, period=period, teams=teams, team_id=team_id, points=services,
                  council=council, opted_in=council and bool(settings_for(current_user.id).leaderboard_opt_in))
