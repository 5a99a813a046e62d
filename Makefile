# flowreg: `make run` sets everything up and serves the dashboard; `make test` runs the tests.
# Every target creates the virtualenv first if needed; nothing is installed outside .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
# Re-installs whenever pyproject.toml is newer than this stamp (new or changed dependencies).
STAMP  := $(VENV)/.flowreg-installed
SEED   := seeds/twilio.yaml

.PHONY: venv seed run test lint

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Loads the Twilio seed into the store FLOWREG_DB names, only while that store is empty, so a
# second `make run` keeps whatever the registry has become since.
seed: venv
	$(BIN)/flowreg apply --if-empty $(SEED) --author flowreg-seed --message "Twilio seed ($(SEED))"

# Demo mode: the bundled demo users (viewer, engineer, officer; passwords shown on the sign-in
# page) can sign in. Without FLOWREG_DEMO=1 only the users in FLOWREG_USERS can.
run: venv seed
	FLOWREG_DEMO=1 $(BIN)/streamlit run app.py --server.headless true --server.address 127.0.0.1 \
		--server.port $(PORT) --browser.gatherUsageStats false

# The whole suite: about 15 minutes on 2 idle cores. Chromium, Java 17 and Maven are needed for the
# browser and Neo4j tests (`.ci/run` installs them); the first line says what is missing.
test: venv
	$(BIN)/python tools/test_prereqs.py
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .

# A real Neo4j 5.26 for development, assembled from Maven Central (needs Java 17 and Maven):
# serves bolt://127.0.0.1:7687 in the foreground; Ctrl-C stops it. PORT=/DATA= optional.
.PHONY: neo4j neo4j-build
neo4j:
	python3 tools/neo4j/neo4j_server.py start $(if $(NEO4J_PORT),--port $(NEO4J_PORT)) $(if $(DATA),--data $(DATA))

neo4j-build:
	python3 tools/neo4j/neo4j_server.py build
