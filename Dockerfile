# syntax=docker/dockerfile:1
# aiops-lab: one image for every Python part of the lab. The command picks the part:
#   python -m model_service    model service (default)       python -m monitoring.drift   drift monitor
#   python -m labs.pager       lab pager                      aiops-lab ...                CLI / drill engine
#   locust -f labs/load/...    load generator                 ensure-model                 first-start training
# See docker-compose.yml for how the lab wires them together and docs/compose.md for the why.

# Pinned: a floating tag would change the interpreter under a lock file that was tested on 3.11.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# ---------------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# Dependencies first, in their own layer: it is rebuilt only when the lock changes, not on every code edit.
# --no-deps: the lock is the complete closure (docker/lock.py); pip check proves it is consistent, so an
# incomplete lock fails here instead of a package being resolved behind the lock's back.
# --only-binary: every pinned package ships wheels for linux/amd64 and linux/arm64, so no compiler is needed.
COPY docker/requirements.lock docker/build-requirements.lock /tmp/
# Behind a TLS-inspecting proxy or a private index mirror (docs/compose.md, "Corporate networks"), pass the
# CA bundle and/or a pip.conf as *build secrets*: they are mounted for these RUNs only and never stored in a
# layer. Both are optional; without them pip uses PyPI with the base image's CAs.
#   docker build --secret id=ca_certs,src=/path/to/ca-bundle.pem --secret id=pip_conf,src=$HOME/.config/pip/pip.conf .
RUN --mount=type=secret,id=ca_certs --mount=type=secret,id=pip_conf \
    if [ -s /run/secrets/ca_certs ]; then export PIP_CERT=/run/secrets/ca_certs; fi \
    && if [ -s /run/secrets/pip_conf ]; then export PIP_CONFIG_FILE=/run/secrets/pip_conf; fi \
    && pip install --no-deps --only-binary=:all: -r /tmp/requirements.lock \
    && pip check

# The project itself, installed in "compat" editable mode: a .pth pointing at /app. Why not a wheel: the lab
# reads files next to its code (drift.yml, drills, monitoring configs) relative to the repository root,
# and compose mounts the repo's config directories over /app read-only; both need the code to live in /app.
WORKDIR /app
COPY pyproject.toml README.md ./
COPY aiops_core/ aiops_core/
COPY model_service/ model_service/
COPY labs/ labs/
COPY monitoring/ monitoring/
# The pager renders the runbooks its pages link to (/runbooks/<Alert>): the Markdown must be in the image.
COPY runbooks/ runbooks/
# DL3013 ("pin versions in pip") is a false positive here: `-e /app` is this repository, not a registry
# package; the only registry package in this RUN (setuptools) is pinned in build-requirements.lock.
# hadolint ignore=DL3013
RUN --mount=type=secret,id=ca_certs --mount=type=secret,id=pip_conf \
    if [ -s /run/secrets/ca_certs ]; then export PIP_CERT=/run/secrets/ca_certs; fi \
    && if [ -s /run/secrets/pip_conf ]; then export PIP_CONFIG_FILE=/run/secrets/pip_conf; fi \
    && pip install --no-deps --only-binary=:all: -r /tmp/build-requirements.lock \
    && pip install --no-deps --no-build-isolation --config-settings editable_mode=compat -e /app \
    && pip check \
    && pip uninstall --yes setuptools pip \
    && rm -rf /app/*.egg-info /app/build
# No build tools, caches or bytecode from the build leave this stage: only /opt/venv and /app are copied.

# ---------------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="aiops-lab" \
      org.opencontainers.image.description="AIOps practice lab: model service, drift monitor, pager, CLI" \
      org.opencontainers.image.licenses="Apache-2.0"

# A fixed, unprivileged uid/gid: named volumes are initialised from the image's directories with this
# owner, and the state never needs root. /var/lib/aiops holds nothing in the image; volumes land there.
# The base image's own pip/setuptools/wheel are build tools the lab never uses at run time: removed.
RUN groupadd --gid 10001 aiops \
    && useradd --uid 10001 --gid aiops --home-dir /var/lib/aiops --no-create-home \
       --shell /usr/sbin/nologin aiops \
    && install -d -o aiops -g aiops -m 0750 /var/lib/aiops /var/lib/aiops/state /var/lib/aiops/models \
    && PIP_ROOT_USER_ACTION=ignore python -m pip uninstall --yes pip setuptools wheel \
    && rm -rf /root/.cache

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
COPY --chmod=0755 docker/healthcheck.py /usr/local/bin/healthcheck
COPY --chmod=0755 docker/ensure_model.py /usr/local/bin/ensure-model

# AIOPS_HOST / AIOPS_DRIFT_HOST / AIOPS_PAGER_HOST: inside a container the service must listen on every
# interface or nothing outside the container reaches it; the native default (127.0.0.1) stays unchanged.
# Which ports are published to the host is decided by docker-compose.yml (loopback only).
# MPLCONFIGDIR: matplotlib (the drift page's trend, drill report charts) caches fonts there; $HOME is not writable.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DO_NOT_TRACK=1 \
    AIOPS_STATE_DIR=/var/lib/aiops/state \
    AIOPS_MODELS_DIR=/var/lib/aiops/models \
    AIOPS_HOST=0.0.0.0 \
    AIOPS_DRIFT_HOST=0.0.0.0 \
    AIOPS_PAGER_HOST=0.0.0.0 \
    AIOPS_PORT=8000 \
    MPLCONFIGDIR=/var/lib/aiops/state/.matplotlib

WORKDIR /app
# Numeric, so runtimes that enforce runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000 8001 8002 8089

# For the default command (the model service). Compose gives each other service its own probe.
HEALTHCHECK --interval=10s --timeout=4s --start-period=30s --retries=3 CMD ["healthcheck"]
CMD ["python", "-m", "model_service"]
