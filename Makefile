# The two commands of the README: `make demo` and `make test`.
UV := python3 -m uv

.PHONY: demo test bootstrap bootstrap-test lint typecheck pytest bench

demo: bootstrap  ## set up, then run the demo
	$(UV) run bounty demo

test: bootstrap-test lint typecheck pytest  ## set up, then run every check and the whole test suite

bootstrap:
	./scripts/bootstrap

bootstrap-test:
	./scripts/bootstrap --test

lint:
	$(UV) run ruff check app tests bench examples migrations
	$(UV) run ruff format --check app tests bench examples migrations

typecheck:
	$(UV) run mypy

pytest:
	$(UV) run pytest -n auto

bench: bootstrap  ## benchmarks, run by hand
	$(UV) run python -m bench.engine
	$(UV) run python -m bench.latency
	$(UV) run python -m bench.service
	$(UV) run python -m bench.upload_memory
