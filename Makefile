# The two commands of the README: `make demo` and `make test`.
UV := python3 -m uv

.PHONY: demo test bootstrap lint typecheck pytest bench

demo: bootstrap  ## set up, then run the demo
	$(UV) run bounty demo

test: bootstrap lint typecheck pytest  ## set up, then run every check and the whole test suite

bootstrap:
	./scripts/bootstrap

lint:
	$(UV) run ruff check app tests bench examples
	$(UV) run ruff format --check app tests bench examples

typecheck:
	$(UV) run mypy

pytest:
	$(UV) run pytest -n auto

bench: bootstrap  ## benchmarks, run by hand
	$(UV) run python -m bench.engine
