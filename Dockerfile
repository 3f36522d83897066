# syntax=docker/dockerfile:1.7
# The vLLM + API-key gateway image. Build (cloudbuild.yaml does this):
#   set -a; . ./config.env; set +a
#   docker buildx build --secret id=hf_token,env=HF_TOKEN \
#     --build-arg VLLM_IMAGE="$VLLM_IMAGE" --build-arg VLLM_IMAGE_TAG="$VLLM_IMAGE_TAG" -t IMAGE .
# Everything else (model, names, serving flags) is read from config.env inside the build.
ARG VLLM_IMAGE=nvcr.io/nvidia/vllm
ARG VLLM_IMAGE_TAG=pinned-in-config.env
FROM ${VLLM_IMAGE}:${VLLM_IMAGE_TAG}

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV APP_DIR=/app \
    HOME=/home/app \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VLLM_PYTHON=python3 \
    GATEWAY_PYTHON=/opt/gateway/bin/python \
    VLLM_CACHE_ROOT=/home/app/.cache/vllm \
    PORT=8080
WORKDIR /app

# Non-root user owning only what it must write (caches under $HOME).
RUN useradd --uid 10001 --create-home --home-dir /home/app --shell /usr/sbin/nologin app

# The gateway lives in its own venv so it never changes the packages vLLM was built against.
# --without-pip + pip --python: works even where the base lacks ensurepip (python3-venv).
COPY pyproject.toml README.md ./
COPY service/ service/
COPY buildlens_core/ buildlens_core/
RUN python3 -m venv --without-pip /opt/gateway \
    && python3 -m pip --python /opt/gateway/bin/python install ".[service]"

COPY config.env ./

# The model, at build time: the token is a BuildKit secret (never a build arg or in a layer).
# Its directory is derived from MODEL_ID, exactly as service/entrypoint.sh derives it.
RUN --mount=type=secret,id=hf_token,required=true \
    set -a && . ./config.env && set +a \
    && HF_TOKEN="$(cat /run/secrets/hf_token)" python3 -c 'import os; \
from huggingface_hub import snapshot_download; \
model_id = os.environ["MODEL_ID"]; \
snapshot_download(repo_id=model_id, token=os.environ["HF_TOKEN"], \
    local_dir=os.path.join(os.environ["MODELS_ROOT"], model_id.replace("/", "--")), \
    allow_patterns=["*.json", "*.safetensors", "*.jinja", "*.txt", "*.model"])' \
    && rm -rf "${MODELS_ROOT}"/*/.cache \
    && chmod -R a+rX "${MODELS_ROOT}"

# The image never talks to the Hub at run time.
ENV HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1 \
    VLLM_NO_USAGE_STATS=1 \
    DO_NOT_TRACK=1

USER 10001
EXPOSE 8080
# CMD, not ENTRYPOINT: the NGC base keeps its own entrypoint, which sets up CUDA forward
# compatibility (needed on Cloud Run's 535 driver) and then execs this.
CMD ["/app/service/entrypoint.sh"]
