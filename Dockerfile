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
COPY --from=build /wheels /tmp/wheels
RUN pip install /tmp/wheels/*.whl && rm -rf /tmp/wheels
# A fixed uid, so that files on mounted volumes keep one owner across rebuilds.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/tuxhook \
        --shell /usr/sbin/nologin tuxhook
# The default SQLite store (var/tuxhook.sqlite3) is relative to here, so it must be writable.
WORKDIR /var/lib/tuxhook

# rq-dashboard 0.9.0 imports six without declaring it. Installed over the same rq as the
# workers, so that it reads their job and registry formats.
FROM base AS dashboard
RUN pip install "rq-dashboard==0.9.0" "six==1.17.0"
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
