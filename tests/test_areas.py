"""Each area owns its blueprint: a module in ``leadthe/<area>/`` adds routes only to a blueprint defined in
that area (a page of another area's data calls that area's services instead). Checked on the source, and
the check is shown to catch what it looks for."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "leadthe"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _area(module: str) -> str:
    """``leadthe.staff.console`` -> ``staff``; a top-level module (``leadthe.errors``) is its own area."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def foreign_routes(code: str, module: str, is_package: bool = False) -> list[str]:
    """``@X.route`` decorators whose X is not a blueprint defined in the module's own area."""
    tree = ast.parse(code)
    origin: dict[str, str] = {}  # name -> the module that defines it
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[:len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            for alias in node.names:
                origin[alias.asname or alias.name] = base
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and (
                getattr(node.value.func, "id", None) == "Blueprint" or getattr(node.value.func, "attr", None) == "Blueprint"):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    origin[target.id] = module
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for deco in node.decorator_list:
            func = deco.func if isinstance(deco, ast.Call) else deco
            if not (isinstance(func, ast.Attribute) and func.attr == "route"):
                continue
            name = func.value.id if isinstance(func.value, ast.Name) else ast.unparse(func.value)
            owner = origin.get(name)
            if owner is None or not owner.startswith("leadthe") or _area(owner) != _area(module):
                found.append(f"{module}:{deco.lineno} {node.name} is routed on {name} (from {owner or 'unknown'})")
    return found


def test_each_area_adds_routes_only_to_its_own_blueprint():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += foreign_routes(path.read_text(encoding="utf-8"), _module_name(path), path.name == "__init__.py")
    assert found == []


def test_the_route_scan_catches_a_foreign_blueprint():
    code = """
from flask import Blueprint
from leadthe.staff import bp as staff_bp
from leadthe.legal import bp
from . import bp as own
local = Blueprint("x", __name__)

@staff_bp.route("/policies")
def foreign(): ...

@bp.route("/a")
def own_area(): ...

@own.route("/b")
def relative(): ...

@local.route("/c")
def local_blueprint(): ...

def register(bp2):
    @bp2.route("/d")
    def passed_in(): ...
"""
    found = foreign_routes(code, "leadthe.legal.staff_views")
    assert [line.split(" ")[1] for line in found] == ["foreign", "passed_in"]


# Every page goes through leadthe/htmx.py (render, render_form, see_other), which decides between a page
# and an htmx fragment and answers an invalid form with 422 (200 for htmx, refused and rolled back).
RENDERING_ALLOWED = {
    "leadthe/htmx.py": "the one helper that renders pages and fragments",
    "leadthe/errors.py": "error handlers render their page themselves, also when the request never reached a view",
    "leadthe/mail.py": "mail bodies, rendered for the outbox rather than as a response",
}


def direct_rendering(code: str) -> list[tuple[int, str]]:
    """Calls of Flask's render_template(_string) and hand-written ``(body, 422)`` answers."""
    hits = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in ("render_template", "render_template_string"):
                hits.append((node.lineno, name))
        elif isinstance(node, ast.Tuple) and len(node.elts) >= 2 and isinstance(node.elts[1], ast.Constant) \
                and node.elts[1].value == 422:
            hits.append((node.lineno, "hand-written 422"))
    return hits


def test_every_view_renders_through_the_htmx_helper():
    found = [f"{path.relative_to(ROOT)}:{line} {what}" for path in sorted(PACKAGE.rglob("*.py"))
             if str(path.relative_to(ROOT)) not in RENDERING_ALLOWED
             for line, what in direct_rendering(path.read_text(encoding="utf-8"))]
    assert found == []


def test_the_rendering_scan_catches_render_template_and_a_hand_written_422():
    code = """
import flask
from flask import render_template
def a():
    return render_template("x.html")
def b(form):
    return flask.render_template("x.html", form=form), 422
def c():
    return render("x.html", status=404)
"""
    assert direct_rendering(code) == [(5, "render_template"), (7, "hand-written 422"), (7, "render_template")]


def misplaced(code: str, module_file: str) -> list[tuple[int, str]]:
    """Job handlers outside an area's jobs.py, and form classes in a module with routes (forms go in forms.py)."""
    tree = ast.parse(code)
    has_routes = any(isinstance(node, ast.Attribute) and node.attr == "route" for node in ast.walk(tree))
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and module_file != "jobs.py":
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "job_handler":
                    hits.append((node.lineno, f"job handler {node.name}"))
        elif isinstance(node, ast.ClassDef) and has_routes and any(
                getattr(base, "id", None) in ("FlaskForm", "ReauthForm") or getattr(base, "id", "").endswith("Form")
                for base in node.bases):
            hits.append((node.lineno, f"form {node.name}"))
    return hits


def test_job_handlers_live_in_jobs_modules_and_forms_outside_views():
    found = [f"{path.relative_to(ROOT)}:{line} {what}" for path in sorted(PACKAGE.rglob("*.py"))
             for line, what in misplaced(path.read_text(encoding="utf-8"), path.name)
             if str(path.relative_to(ROOT)) not in PLACEMENT_ALLOWED]
    assert found == []


# Modules that may keep a form beside their routes, with the reason.
PLACEMENT_ALLOWED = {
    "leadthe/account/preferences.py": "the preferences form is built from the choices this module defines and reads",
}


def test_the_placement_scan_catches_a_job_handler_and_a_form_in_a_view_module():
    code = """
@job_handler("x.y")
def handler(job): ...

class NoticeForm(FlaskForm):
    pass

@bp.route("/x")
def view(): ...
"""
    assert misplaced(code, "console.py") == [(3, "job handler handler"), (5, "form NoticeForm")]
    assert misplaced(code, "jobs.py") == [(5, "form NoticeForm")]
