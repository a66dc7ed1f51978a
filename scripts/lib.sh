# Shared settings and helpers for the scripts in this folder; sourced, not run.
# Every port and path can be overridden from the environment.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${JARVIS_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
STACK_DIR="${JARVIS_STACK_DIR:-$ROOT/.stack}"          # data, pids and logs of the local stack (git-ignored)
# Kafka's log dir and Redis's append-only file: in memory (/dev/shm) when it has room.
# In production the broker and Redis run on machines of their own; here they would share
# the disk with the workers' checkpoint directory, whose group commit (syncfs) would then
# also write back the broker's data (measured: ~1 ms of kernel CPU per execution on this
# machine's ext4, as much as the worker process spends). JARVIS_STACK_DATA_DIR overrides.
stack_data_default() {
  local shm=/dev/shm avail
  if [ -d "$shm" ] && [ -w "$shm" ]; then
    avail=$(df -Pk "$shm" 2>/dev/null | awk 'NR==2 {print $4}')
    if [ "${avail:-0}" -ge $((4 * 1024 * 1024)) ]; then
      printf '%s/jarvis-stack-%s' "$shm" "$(printf '%s' "$STACK_DIR" | cksum | cut -d' ' -f1)"
      return
    fi
  fi
  printf '%s' "$STACK_DIR"
}
STACK_DATA_DIR="${JARVIS_STACK_DATA_DIR:-$(stack_data_default)}"
CACHE_DIR="${JARVIS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jarvis}"  # Kafka jars, outside the repo
KAFKA_VERSION="${JARVIS_KAFKA_VERSION:-4.1.1}"
KAFKA_PORT="${JARVIS_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${JARVIS_KAFKA_CONTROLLER_PORT:-19093}"
REDIS_PORT="${JARVIS_REDIS_PORT:-16379}"
S3_PORT="${JARVIS_S3_PORT:-19000}"
S3_BUCKET="${JARVIS_S3_BUCKET:-jarvis-artifacts}"

log() { printf '\033[1;34m[jarvis]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[jarvis] error:\033[0m %s\n' "$*" >&2; exit 1; }

# Wait until TCP port $1 on loopback accepts connections, for at most $2 seconds.
wait_port() {
  local port=$1 deadline=$(( $(date +%s) + $2 ))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# True when the pid in file $1 is a live process.
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Export the environment a Jarvis process needs to reach the local stack.
stack_env() {
  export JARVIS_KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
  export JARVIS_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  export JARVIS_S3_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
  export JARVIS_S3_BUCKET="$S3_BUCKET"
  export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
  export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"
  export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
}
