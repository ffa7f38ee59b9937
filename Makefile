# The two commands of the README: `make demo` and `make test`.
UV := python3 -m uv

.PHONY: demo test bootstrap bootstrap-test lint typecheck web-test pytest bench api-types

demo: bootstrap  ## set up, then run the demo
	$(UV) run bounty demo

test: bootstrap-test  ## set up, then run every check and the whole test suite
	$(MAKE) --no-print-directory --output-sync=target -j2 lint typecheck web-test  # single-threaded each: side by side
	$(MAKE) --no-print-directory pytest

bootstrap:
	./scripts/bootstrap

bootstrap-test:
	./scripts/bootstrap --test

lint:
	$(UV) run ruff check app engine clients tests bench examples migrations
	$(UV) run ruff format --check app engine clients tests bench examples migrations
	$(UV) run lint-imports  # the direction of imports (pyproject.toml, docs/architecture.md)

typecheck:
	$(UV) run mypy

web-test:  ## the web app: type check and component tests
	npm run --prefix frontend --silent typecheck
	npm run --prefix frontend --silent test

pytest:
	$(UV) run pytest -n auto

api-types:  ## regenerate the web app's API types and the client's models after changing the API
	$(UV) run bounty openapi --out frontend/openapi.json
	npm run --prefix frontend --silent gen:api
	scripts/client-models

bench: bootstrap  ## benchmarks, run by hand
	$(UV) run python -m bench.engine
	$(UV) run python -m bench.latency
	$(UV) run python -m bench.service
	$(UV) run python -m bench.upload_memory
