# Two commands: `make run` (service with a demo tenant) and `make test` (checks + whole suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install system-deps lint bench fuzz clean

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements/constraints.txt -e '.[dev,edge]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	@bash infra/scripts/ensure-system-deps.sh

run: $(STAMP) system-deps
	$(BIN)/aquabill dev

lint: $(STAMP)
	$(BIN)/ruff check aquabill tests bench
	$(BIN)/lint-imports

test: $(STAMP) system-deps lint
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose"; fi; exit $$rc

# A longer fuzz of the whole API than the suite's (AQUABILL_FUZZ_EXAMPLES examples per operation and mode).
fuzz: $(STAMP) system-deps
	AQUABILL_FUZZ_EXAMPLES=$${AQUABILL_FUZZ_EXAMPLES:-30} $(BIN)/python -m pytest -q tests/integration/platform/test_api_fuzz.py

bench: $(STAMP) system-deps
	$(BIN)/python bench/tenants.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
