# bayes_ccd: the two commands of the README do all set-up.
#   make demo   create .venv if missing, install, run the default analysis into results/demo/
#               and its robustness checks into results/demo-robustness/
#   make test   same set-up, then the whole test suite (fast, integration and slow tiers)
# Other targets: make demo-county (a SYNTHETIC two-way SDM panel on China's 2,848 county-level
# units, fitted by Bayes), make test-fast (skips `slow`), make bench, make lint, make clean.

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export MPLBACKEND := Agg

.PHONY: demo demo-county test test-fast bench lint clean

$(STAMP): pyproject.toml constraints.txt
	@if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		PYBIN=$$(sh scripts/find-python.sh) || exit 1; \
		echo "Creating $(VENV) with $$PYBIN"; \
		rm -rf $(VENV); \
		"$$PYBIN" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test,dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/bayes-ccd run models/demo.toml
	$(VENV)/bin/bayes-ccd robustness models/demo.toml

# simulate refuses to overwrite its panel: a new run starts from an empty directory.
COUNTY := results/county-demo
demo-county: $(STAMP)
	rm -rf $(COUNTY)
	$(VENV)/bin/bayes-ccd simulate --weights bundled:china-county --seed 20240601 \
		--out $(COUNTY)/panel.csv
	$(VENV)/bin/bayes-ccd fit --data $(COUNTY)/panel.csv --unit unit --time period --y y \
		--x x1,x2,x3,x4 --weights bundled:china-county --estimator bayes --out $(COUNTY)/fit

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts

clean:
	rm -rf $(VENV) results/*/ .pytest_cache
