# Shell helpers to start and stop the sandbox; sourced by the demo and the
# benchmark. Everything binds 127.0.0.1 and uses the sandbox's fake keys.

# sandbox_start DIR [ARG...]: starts bin/countersign-sandbox with its data
# under DIR and any further arguments (such as --world FILE), waits for its
# env file and sources it. Sets SANDBOX_PID.
sandbox_start() {
  local dir=$1
  shift
  mkdir -p "$dir"
  ./bin/countersign-sandbox --listen 127.0.0.1:0 --data "$dir/data" --env-file "$dir/env" "$@" \
    >"$dir/sandbox.log" 2>&1 &
  SANDBOX_PID=$!

  local waited=0
  until [ -s "$dir/env" ]; do
    if ! kill -0 "$SANDBOX_PID" 2>/dev/null; then
      echo "the sandbox exited during start-up; its log:" >&2
      cat "$dir/sandbox.log" >&2
      return 1
    fi
    if [ "$waited" -ge 300 ]; then
      echo "the sandbox did not become ready in 30 s; its log is $dir/sandbox.log" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  # shellcheck disable=SC1091
  . "$dir/env"
}

# sandbox_stop: stops the sandbox this shell started, by its PID.
sandbox_stop() {
  if [ -n "${SANDBOX_PID:-}" ] && kill -0 "$SANDBOX_PID" 2>/dev/null; then
    kill -TERM "$SANDBOX_PID"
    wait "$SANDBOX_PID" 2>/dev/null || true
  fi
  SANDBOX_PID=
}
