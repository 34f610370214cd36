"""The bare baseline: a Flask app that renders a page with the layout of a lesson (site navigation, an
outline of 11 lessons, the text, a form, a footer) from a template, with no database, no session, no
compression and no extensions. `gunicorn bench.load.bare_app:app`. Its page is about 3.6 KB against the
lesson page's 11 KB, so the comparison errs against the app."""
from flask import Flask, render_template_string

app = Flask(__name__)

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="/static/app.css"></head><body><header><a href="/">LeadThe.AI</a><nav><ul>
{% for i in range(6) %}<li><a href="/x{{ i }}">Link {{ i }}</a></li>{% endfor %}</ul></nav></header>
<main><h1>{{ title }}</h1><ol>{% for item in outline %}<li><a href="/l/{{ item }}">Lesson {{ item }}</a></li>{% endfor %}</ol>
<section>{% for p in paragraphs %}<p>{{ p }}</p>{% endfor %}</section>
<form method="post"><input type="hidden" name="csrf_token" value="{{ token }}"><button>Mark complete</button></form>
</main><footer>© LeadThe.AI</footer></body></html>"""
TEXT = ["A paragraph of lesson text about writing prompts that work, long enough to look like the real thing. " * 3] * 8


@app.route("/lesson")
def lesson():
    return render_template_string(PAGE, title="Tokens, prediction and the context window", outline=range(1, 12),
                                  paragraphs=TEXT, token="x" * 90)
