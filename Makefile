# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app ill
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install translations messages lint browser demo-db clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: setup.cfg setup.py pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	touch $@

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	$(BIN)/python scripts/messages.py --compile

# Update the catalogues from the code (then translate the new Indonesian entries).
messages: $(VENV)/.installed
	$(BIN)/python scripts/messages.py

instance/config.py:
	mkdir -p instance
	$(BIN)/python -c "import secrets; print('SECRET_KEY = %r' % secrets.token_hex(32))" > $@

run: install instance/config.py
	$(FLASK) db upgrade
	$(FLASK) demo load
	@echo "Serving on http://$(HOST):$(PORT)/"
	$(FLASK) run --host $(HOST) --port $(PORT)

# Debian's programs the tests drive as users would: Chromium for the browser
# tests (never a downloaded browser) and YAZ's yaz-client, the SRU client
# library systems' copy cataloguing is built on.
browser:
	@missing=""; [ -x /usr/bin/chromium ] || missing=" chromium"; \
	[ -x /usr/bin/yaz-client ] || missing="$$missing yaz"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "could not install$$missing: their tests will skip"; \
	  else echo "missing (apt-get install$$missing): their tests will skip"; fi; \
	fi

lint: $(VENV)/.installed
	$(BIN)/ruff check .

test: install browser lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
