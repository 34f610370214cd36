# The two set-up commands (README.md, first thing): `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app app
PORT   ?= 5000
PIP    := $(PY) -m pip install --disable-pip-version-check --quiet

.PHONY: run test test-fast worker demo-code clean-venv translations

# `make run` and `make worker` are development (the app itself defaults to production); links in mail point at
# this server's port. An explicit LEADTHE_ENV or LEADTHE_BASE_URL is kept.
run worker demo-code: export LEADTHE_ENV ?= development
run worker demo-code: export LEADTHE_BASE_URL ?= http://127.0.0.1:$(PORT)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.app-installed: requirements/app.txt | $(PY)
	$(PIP) -r requirements/app.txt
	@touch $@

$(VENV)/.test-installed: requirements/app.txt requirements/test.txt | $(PY)
	$(PIP) -r requirements/test.txt
	@touch $@ $(VENV)/.app-installed

run: $(VENV)/.app-installed
	$(FLASK) db upgrade
	$(FLASK) leadthe load-content
	@if $(FLASK) leadthe has-data; then \
		echo "Existing data kept. Demo log-ins (if the demo company exists):"; \
		$(FLASK) leadthe seed-demo --print-only; \
	else \
		$(FLASK) leadthe seed-demo; \
	fi
	@echo "Serving on http://127.0.0.1:$(PORT)  (development mail: http://127.0.0.1:$(PORT)/dev/mail)"
	LEADTHE_INLINE_WORKER=$${LEADTHE_INLINE_WORKER:-1} $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The suite runs as pytest processes side by side (browser, PostgreSQL, SQLite; see tests/shards.py), each
# printed whole when it ends. LEADTHE_TEST_SHARDS=off runs it as one process.
test: $(VENV)/.test-installed
	$(PY) tests/shards.py $(PYTEST_ARGS)

# Everything but the browser tests, for a quick loop while working.
test-fast: $(VENV)/.test-installed
	$(PY) tests/shards.py -m "not browser" -q $(PYTEST_ARGS)

worker: $(VENV)/.app-installed
	$(FLASK) leadthe worker

# The current two-step code of a demo staff or DPO account (development only): make demo-code EMAIL=staff@leadthe.example
demo-code: $(VENV)/.app-installed
	@$(FLASK) leadthe demo-code $(EMAIL)

clean-venv:
	rm -rf $(VENV)

# Refresh the German catalogue after changing user-visible text: new strings appear with an empty msgstr
# (tests/test_i18n.py fails until each is translated).
translations: $(VENV)/.app-installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output -o leadthe/translations/messages.pot .
	$(VENV)/bin/pybabel update -i leadthe/translations/messages.pot -d leadthe/translations -l de --no-fuzzy-matching --ignore-obsolete
