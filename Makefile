# The README's two commands. Everything the project needs is installed from here.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   ?= demo-workspace

.PHONY: demo test lint browser pdf-libs sdks bench-web bench-pages bench-startup bench-shape bench bench-analyses bench-forecast bench-calibration bench-ingest bench-fuzz bench-experiments bench-explain bench-nab bench-demo-alerts clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## make demo: build the demo workspace and print its balanced scorecard
demo: $(VENV)/.installed
	$(BIN)/northstar demo --workspace $(DEMO) --replace
	$(BIN)/northstar scorecard --workspace $(DEMO)

# Tests that run again with the machine's clock moved far before and far after the demo
# data, so that no test can lean on the day CI runs (docs/freshness.md): the modules that
# run on the machine's clock (ingestion, access) take the moved day (tests/conftest.py),
# the others check that the day they set wins.
DATED_TESTS ?= tests/test_freshness.py tests/test_analyses_cli.py tests/test_lifecycle_stickiness.py \
	tests/test_web_access.py tests/test_ingest_server.py

## make test: ruff, mypy and the whole test suite (the web UI's tests drive Debian's chromium),
## then the date-sensitive tests with the clock set to 2025-01-01 and to 2028-01-01
test: $(VENV)/.installed-test lint browser pdf-libs sdks
	$(BIN)/python -m pytest
	NORTHSTAR_TODAY=2025-01-01 $(BIN)/python -m pytest $(DATED_TESTS)
	NORTHSTAR_TODAY=2028-01-01 $(BIN)/python -m pytest $(DATED_TESTS)

# The real browser SDKs (posthog-js, analytics.js) that tests/test_browser_sdks.py loads
# from a page, pinned in tests/browser_sdks/package-lock.json, from the npm registry.
SDKS := tests/browser_sdks/node_modules/.package-lock.json
sdks: $(SDKS)
$(SDKS): tests/browser_sdks/package.json tests/browser_sdks/package-lock.json
	npm ci --prefix tests/browser_sdks --ignore-scripts --no-audit --no-fund --loglevel=error

# The browser tests use the system's chromium; Playwright never downloads one.
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# Report PDFs (WeasyPrint) need pango and a font from Debian; chromium brings them too.
pdf-libs:
	@ldconfig -p | grep -q libpangoft2-1.0 && fc-list | grep -qi dejavu || \
		(apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/lint-imports

## make bench: import-speed benchmarks (see benchmarks/README.md)
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/import_speed.py

## make bench-metrics: DAU, MAU and MRR through Northstar vs hand-written SQL (see benchmarks/README.md)
bench-metrics: $(VENV)/.installed-test
	$(BIN)/python benchmarks/metric_speed.py

## make bench-analyses: retention table and funnel through Northstar vs hand-written SQL (see benchmarks/README.md)
bench-analyses: $(VENV)/.installed-test
	$(BIN)/python benchmarks/analysis_speed.py

## make bench-forecast: backtest of the goal forecast on the demo data (see benchmarks/README.md)
bench-forecast: $(VENV)/.installed-test
	$(BIN)/python benchmarks/forecast_backtest.py

## make bench-calibration: goal P10-P90 coverage and P(hit) calibration per grain (see benchmarks/README.md)
bench-calibration: $(VENV)/.installed-test
	$(BIN)/python benchmarks/goal_calibration.py

## make bench-experiments: 1M exposed users x 3 metrics through Northstar vs hand-written SQL
bench-experiments: $(VENV)/.installed-test
	$(BIN)/python benchmarks/experiment_speed.py

## make bench-explain: why DAU fell over 1M events, 6 dimensions, depth 2 vs hand-written SQL
bench-explain: $(VENV)/.installed-test
	$(BIN)/python benchmarks/explain_speed.py

## make bench-nab: anomalies detect on the NAB subset in ../shared/nab, scored by NAB's scorer
bench-nab: $(VENV)/.installed-test
	$(BIN)/python benchmarks/nab/run.py

## make bench-demo-alerts: the demo's default alert rules over the demo year (caught, delay, false alarms)
bench-demo-alerts: $(VENV)/.installed-test
	$(BIN)/python benchmarks/demo_alerts.py

## make bench-fuzz: hostile requests against northstar serve on loopback: 0 x 5xx, every rejection kept
bench-fuzz: $(VENV)/.installed-test
	$(BIN)/python benchmarks/ingest_fuzz.py

## make bench-ingest: sustained live ingest through northstar serve, durability on (see benchmarks/README.md)
bench-ingest: $(VENV)/.installed-test
	$(BIN)/python benchmarks/ingest_speed.py

## make bench-startup: how long the northstar command takes to start (see benchmarks/README.md)
bench-startup: $(VENV)/.installed-test
	$(BIN)/python benchmarks/startup_speed.py

## make bench-shape: import and people counts on 10M events of 200,000 skewed users vs hand-written SQL (see benchmarks/README.md)
bench-shape: $(VENV)/.installed-test
	$(BIN)/python benchmarks/shape_speed.py

## make bench-pages: every page's cold and warm load time on the demo workspace (see benchmarks/README.md)
bench-pages: $(VENV)/.installed-test
	$(BIN)/python benchmarks/page_speed.py

## make bench-web: scorecard and explorer page load times on the 20M-event workspace (see benchmarks/README.md)
bench-web: $(VENV)/.installed-test
	$(BIN)/python benchmarks/web_speed.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
