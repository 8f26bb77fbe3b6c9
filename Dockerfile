# One image for the receiver, the workers and the migration: `tuxhook receiver`, `tuxhook worker`,
# `tuxhook db upgrade`. The `dashboard` target adds rq-dashboard on the same rq and Redis client.

# Build a wheel, so that the runtime image holds the installed package and not the source tree.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY receiver receiver
COPY worker worker
COPY shared shared
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The runtime lock, every file checked against its hash, so that the image runs the RQ and Redis
# client the tests proved (docs/dependencies.md); then the wheel, alone. A layer of its own, so
# that a change to the code alone reinstalls nothing else.
COPY requirements/runtime.txt /tmp/runtime.txt
RUN pip install --require-hashes -r /tmp/runtime.txt && rm /tmp/runtime.txt
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-deps /tmp/wheels/*.whl && rm -rf /tmp/wheels
# A fixed uid, so that files on mounted volumes keep one owner across rebuilds.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/tuxhook \
        --shell /usr/sbin/nologin tuxhook
# The default SQLite store (var/tuxhook.sqlite3) is relative to here, so it must be writable.
WORKDIR /var/lib/tuxhook

# rq-dashboard from its own lock, compiled against the runtime lock: the same rq and redis as
# the workers, so that it reads their job and registry formats.
FROM base AS dashboard
COPY requirements/dashboard.txt /tmp/dashboard.txt
RUN pip install --require-hashes -r /tmp/dashboard.txt && rm /tmp/dashboard.txt
USER tuxhook
EXPOSE 9181
CMD ["rq-dashboard"]

# Last, so that a plain `docker build .` makes this one.
FROM base AS tuxhook
USER tuxhook
# Inside a container the receiver must listen on every interface to be reachable at all.
ENV TUXHOOK_HOST=0.0.0.0 TUXHOOK_PORT=8080
EXPOSE 8080
CMD ["tuxhook", "receiver"]
