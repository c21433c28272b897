# Weekly reporting pipeline. `make help` lists the targets.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
CONFIG ?= config.yaml
INPUTS ?= inputs
OUTPUTS ?= outputs
WEEK   ?=
STAMP  := $(VENV)/.installed

.PHONY: help weekly watch test templates sample bench bench-dedup bench-warnings clean-outputs install national approve
NATIONAL_INPUTS ?= national-inputs

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the pipeline and its test tools

# Bytecode kept up to date here: where PYTHONDONTWRITEBYTECODE is set, every run would compile the package again (~0.3 s).
COMPILE = @$(PY) -m compileall -q pipeline benchmarks >/dev/null

weekly: $(STAMP) ## run the reporting week (current week, or WEEK=YYYY-MM-DD) on inputs/
	$(COMPILE)
	$(PY) -m pipeline weekly --config "$(CONFIG)" --inputs "$(INPUTS)" --outputs "$(OUTPUTS)" $(if $(WEEK),--week "$(WEEK)",)

watch: $(STAMP) ## run the current week whenever the inbox changes and deliver feedback into the district folders (Ctrl-C stops)
	$(COMPILE)
	$(PY) -m pipeline watch --config "$(CONFIG)" --inputs "$(INPUTS)" --outputs "$(OUTPUTS)"

approve: $(STAMP) ## record the administrator's sign-off of a week (WEEK=YYYY-MM-DD, BY="name")
	$(PY) -m pipeline approve --config "$(CONFIG)" --inputs "$(INPUTS)" --outputs "$(OUTPUTS)" $(if $(WEEK),--week "$(WEEK)",) $(if $(BY),--by "$(BY)",)

test: $(STAMP) ## run the tests
	$(PY) -m pytest

national: $(STAMP) ## merge provinces' report.json files (NATIONAL_INPUTS=DIR) into the national roll-up
	$(PY) -m pipeline national --inputs "$(NATIONAL_INPUTS)" --outputs "$(OUTPUTS)" $(if $(WEEK),--week "$(WEEK)",)

templates: $(STAMP) ## write the district submission templates into templates/
	$(PY) -m pipeline templates --config "$(CONFIG)" --outputs templates

BENCH_SIZES ?= province,large
bench: $(STAMP) ## pipeline vs I/O floor vs a hand-written pandas script (BENCH_SIZES=province,large,nation); BENCH_SIZES=season: week 20 of a season, watch
	$(COMPILE)
	$(PY) -m benchmarks.bench --sizes $(BENCH_SIZES) $(BENCH_FLAGS)

bench-dedup: $(STAMP) ## measure fuzzy deduplication of people (precision/recall, time, memory); SIZES=10000,100000
	$(PY) -m benchmarks.bench_dedup $(if $(SIZES),--sizes $(SIZES),)

bench-warnings: $(STAMP) ## one huge workbook with a warning on every row vs none (ROWS=1180000): time and peak memory
	$(PY) -m benchmarks.bench_warnings $(if $(ROWS),--rows $(ROWS),)

sample: $(STAMP) ## regenerate the bundled synthetic sample inbox in inputs/
	$(PY) -m pipeline.synthetic sample "$(INPUTS)"

clean-outputs: ## delete everything under outputs/ (the store too: history is lost)
	find "$(OUTPUTS)" -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
