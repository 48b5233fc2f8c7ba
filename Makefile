# Two commands for a fresh clone:
#   make demo   — install, create the database, load demo data, serve on http://127.0.0.1:5000
#   make test   — install, then run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: demo test install browser run worker bench clean translations

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Browser tests drive Debian's chromium (never a downloaded browser build).
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "note: chromium is not installed (sudo apt-get install chromium); browser tests will be skipped"; fi

demo: install
	$(BIN)/flask --app hotline db upgrade
	$(BIN)/flask --app hotline seed-demo
	@echo "Open http://$(HOST):$(PORT)/login (accounts above) or http://$(HOST):$(PORT)/ (citizens)."
	$(BIN)/flask --app hotline run --host $(HOST) --port $(PORT)

run: install
	$(BIN)/flask --app hotline db upgrade
	$(BIN)/flask --app hotline run --host $(HOST) --port $(PORT)

test: install browser
	@$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

# UI strings are Vietnamese msgids; this refreshes the English catalog and compiles it.
# Translate new or fuzzy entries in hotline/translations/en/LC_MESSAGES/messages.po, then re-run.
# WTForms' own messages in Vietnamese live in hotline/translations/vi/LC_MESSAGES/wtforms.po.
TRANSLATIONS := hotline/translations
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --sort-by-file --no-wrap \
		--project "Hotline 1022" -o $(TRANSLATIONS)/messages.pot .
	@if [ -f $(TRANSLATIONS)/en/LC_MESSAGES/messages.po ]; then \
		$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l en --no-wrap; \
	else $(BIN)/pybabel init -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l en --no-wrap; fi
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics
	$(BIN)/pybabel compile -D wtforms -d $(TRANSLATIONS) -l vi --statistics

worker: install
	$(BIN)/flask --app hotline worker

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis

# Benchmarks against the local PostgreSQL (see README, Performance): BENCH_ARGS="--ten-million"
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)
