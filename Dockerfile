FROM python:3.11-slim
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY app ./app
COPY engine ./engine
COPY clients ./clients
COPY migrations ./migrations
COPY alembic.ini ./
RUN uv sync --frozen --no-dev --compile-bytecode && useradd --create-home bounty && mkdir -p /data && chown bounty /data
ENV PATH="/app/.venv/bin:$PATH"
USER bounty
