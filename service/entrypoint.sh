#!/usr/bin/env bash
# Container entrypoint: vLLM on 127.0.0.1, optional pre-warm, then the API-key gateway on $PORT.
# Prints one JSON line per stage (Cloud Logging reads them) and a cold-start summary.
#
# Environment (defaults from config.env; the environment wins):
#   MODEL_DIR           model directory (default: $MODELS_ROOT/<MODEL_ID with / -> -->)
#   VLLM_PYTHON         interpreter that has vllm (default python3)
#   GATEWAY_PYTHON      interpreter that has the gateway (default python3)
#   VLLM_DTYPE, VLLM_PORT, MAX_MODEL_LEN, MAX_NUM_SEQS, GPU_MEMORY_UTILIZATION, REASONING_PARSER
#   VLLM_TORCH_COMPILE_LEVEL  torch.compile level; > 0 also turns on the pre-warm
#   VLLM_EXTRA_ARGS     extra vLLM flags, word-split (e.g. CPU: --enforce-eager --device cpu)
#   SKIP_PREWARM        set to anything to skip the pre-warm
#   VLLM_STARTUP_DEADLINE, PREWARM_DEADLINE  seconds
set -euo pipefail

APP_DIR="${APP_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
CONFIG_ENV="${CONFIG_ENV:-$APP_DIR/config.env}"

log() {  # log SEVERITY MESSAGE [extra JSON members]
  local extra="${3:+,$3}"
  printf '{"severity":"%s","message":"%s","component":"entrypoint"%s}\n' "$1" "$2" "$extra" >&2
}

# config.env fills only what the environment leaves unset.
if [[ -f "$CONFIG_ENV" ]]; then
  while IFS='=' read -r key value; do
    [[ "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    if [[ -z "${!key+x}" ]]; then export "$key=$value"; fi
  done < <(grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$CONFIG_ENV")
else
  log WARNING "no config file at $CONFIG_ENV; using the environment only"
fi

: "${MODEL_ID:?set MODEL_ID in config.env}"
MODEL_DIR="${MODEL_DIR:-${MODELS_ROOT:-/models}/${MODEL_ID//\//--}}"
SERVED_MODEL_NAME="${SERVED_MODEL_NAME:-$MODEL_ID}"
VLLM_PYTHON="${VLLM_PYTHON:-python3}"
GATEWAY_PYTHON="${GATEWAY_PYTHON:-python3}"
VLLM_PORT="${VLLM_PORT:-8000}"
PORT="${PORT:-8080}"
VLLM_STARTUP_DEADLINE="${VLLM_STARTUP_DEADLINE:-900}"
PREWARM_DEADLINE="${PREWARM_DEADLINE:-180}"
VLLM_TORCH_COMPILE_LEVEL="${VLLM_TORCH_COMPILE_LEVEL:-0}"
export GATEWAY_UPSTREAM_URL="http://127.0.0.1:${VLLM_PORT}"
export PORT

now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
T0="$(now)"
STAGE_START="$T0"
SUMMARY=""
stage_done() {  # stage_done NAME: time since the previous stage ended
  local t seconds
  t="$(now)"
  seconds="$(awk -v a="$STAGE_START" -v b="$t" 'BEGIN{printf "%.2f", b-a}')"
  log INFO "stage $1 took ${seconds}s" "\"stage\":\"$1\",\"seconds\":$seconds"
  SUMMARY="${SUMMARY}${SUMMARY:+, }$1 ${seconds}s"
  STAGE_START="$t"
}

VLLM_PID=""
GATEWAY_PID=""
stop_children() {
  local pid
  for pid in $GATEWAY_PID $VLLM_PID; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do  # up to 10 s, then force
    local alive=0
    for pid in $GATEWAY_PID $VLLM_PID; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && return 0
    sleep 0.1
  done
  for pid in $GATEWAY_PID $VLLM_PID; do kill -KILL "$pid" 2>/dev/null || true; done
}
on_signal() {
  log INFO "received $1; stopping vLLM and the gateway" "\"signal\":\"$1\""
  stop_children
  exit 0
}
trap 'on_signal SIGTERM' TERM
trap 'on_signal SIGINT' INT

cd "$APP_DIR"  # so both interpreters find the service package
[[ -d "$MODEL_DIR" ]] || { log ERROR "model directory $MODEL_DIR missing; build the image with the model or set MODEL_DIR"; exit 1; }
stage_done config

vllm_args=(
  -m vllm.entrypoints.openai.api_server
  --model "$MODEL_DIR"
  --served-model-name "$SERVED_MODEL_NAME"
  --host 127.0.0.1 --port "$VLLM_PORT"
  --dtype "${VLLM_DTYPE:-bfloat16}"
  --max-num-seqs "${MAX_NUM_SEQS:-32}"
  --generation-config auto
  --reasoning-parser "${REASONING_PARSER:-deepseek_r1}"
)
[[ -n "${MAX_MODEL_LEN:-}" ]] && vllm_args+=(--max-model-len "$MAX_MODEL_LEN")
[[ -n "${GPU_MEMORY_UTILIZATION:-}" ]] && vllm_args+=(--gpu-memory-utilization "$GPU_MEMORY_UTILIZATION")
vllm_args+=(--compilation-config "{\"${VLLM_COMPILE_KEY:-mode}\": ${VLLM_TORCH_COMPILE_LEVEL}}")
# shellcheck disable=SC2206  # word splitting of extra args is intended
vllm_args+=(${VLLM_EXTRA_ARGS:-})

log INFO "starting vLLM for $SERVED_MODEL_NAME from $MODEL_DIR on 127.0.0.1:$VLLM_PORT"
"$VLLM_PYTHON" "${vllm_args[@]}" &
VLLM_PID=$!

probe() {  # probe URL: exit 0 when it answers 200
  "$GATEWAY_PYTHON" - "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

deadline=$(( SECONDS + VLLM_STARTUP_DEADLINE ))
until probe "http://127.0.0.1:${VLLM_PORT}/v1/models"; do
  if ! kill -0 "$VLLM_PID" 2>/dev/null; then
    wait "$VLLM_PID" && rc=0 || rc=$?
    log ERROR "vLLM exited with status $rc before becoming healthy; see its log above" "\"exit_code\":$rc"
    exit 1
  fi
  if (( SECONDS >= deadline )); then
    log ERROR "vLLM not healthy within ${VLLM_STARTUP_DEADLINE}s; raise VLLM_STARTUP_DEADLINE or check the log above"
    stop_children
    exit 1
  fi
  sleep 0.5
done
stage_done vllm_ready

if (( VLLM_TORCH_COMPILE_LEVEL > 0 )) && [[ -z "${SKIP_PREWARM:-}" ]]; then
  "$GATEWAY_PYTHON" -m service.prewarm --url "http://127.0.0.1:${VLLM_PORT}" \
    --model "$SERVED_MODEL_NAME" --deadline "$PREWARM_DEADLINE" || \
    log WARNING "pre-warm failed; serving anyway (first requests may be slow)"
  stage_done prewarm
fi

"$GATEWAY_PYTHON" -m service &
GATEWAY_PID=$!
until probe "http://127.0.0.1:${PORT}/health"; do
  if ! kill -0 "$GATEWAY_PID" 2>/dev/null; then
    wait "$GATEWAY_PID" && rc=0 || rc=$?
    log ERROR "gateway exited with status $rc during start-up; see its log above" "\"exit_code\":$rc"
    stop_children
    exit 1
  fi
  sleep 0.1
done
stage_done gateway_ready
total="$(awk -v a="$T0" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}')"
log INFO "cold start ${total}s: ${SUMMARY}" "\"stage\":\"total\",\"seconds\":$total"

# Exit when either process dies, taking the other one down with it.
set +e
wait -n "$VLLM_PID" "$GATEWAY_PID"
rc=$?
if kill -0 "$VLLM_PID" 2>/dev/null; then dead=gateway; else dead=vLLM; fi
log ERROR "$dead exited with status $rc; stopping the other process" "\"exit_code\":$rc"
stop_children
exit $(( rc == 0 ? 1 : rc ))
