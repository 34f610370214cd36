"""Entry point for `flask --app app`, gunicorn (`app:app`) and anything that wants the WSGI app."""
from leadthe import create_app

app = create_app()
