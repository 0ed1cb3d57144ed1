#!/usr/bin/env bash
# Fuzz the whole API with Schemathesis, once per role (`make fuzz`; .ci/run runs it).
#
# Serves the API (test settings: tasks run eagerly, no workers needed) on a fresh SQLite demo
# database (one server per runner, FUZZ_JOBS=2 by default, each on its own copy), issues a
# token for each role and runs tests/fuzz/schemathesis.toml with it: the
# admin through every phase (examples, coverage, fuzzing, stateful), the other roles through
# examples, coverage and fuzzing. Fails on any failure Schemathesis reports. Every check is on
# (Schemathesis' default: a 5xx, a response off the schema, a schema-valid request refused, a
# schema-invalid one accepted); tests/fuzz/schemathesis.toml turns off only
# `positive_data_acceptance` for the few operations whose rules OpenAPI cannot state, each
# with its reason, and tests/fuzz/hooks.py gives valid cases fresh Idempotency-Keys. Prints one
# `FUZZ role=... ` summary line per role.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PORT=${FUZZ_PORT:-8799}
EXAMPLES=${FUZZ_MAX_EXAMPLES:-8}
WORK=$(mktemp -d)
export DJANGO_SETTINGS_MODULE=lendcore.settings.test
export DATABASE_URL="sqlite:///$WORK/fuzz.sqlite3"
export FIELD_ENCRYPTION_KEY_FILE="$WORK/field-keys"
# The server runs tasks eagerly on one thread: a close of business requested after a business
# date three years ahead closed every day of the gap inside the request (101 s for the demo's
# 12 loans, schemathesis' response-time check failed). Jumps of two months keep every path.
export SERVICING_BUSINESS_DATE_MAX_JUMP_DAYS=60

"$BIN/python" manage.py migrate -v0
"$BIN/python" manage.py seed_demo >/dev/null 2>&1
"$BIN/python" manage.py shell -v0 -c "
from django.contrib.auth import get_user_model
from lendcore.accounts.services import api_token_issue
for name in ['admin', 'loan_officer', 'underwriter', 'servicing_agent', 'collector', 'auditor', 'alice']:
    user = get_user_model().objects.get(username=name)
    print(name, api_token_issue(user=user, name='fuzz').key)
" >"$WORK/tokens"

# Two runners, each with its own server on its own copy of the seeded database (one process,
# one thread each: SQLite takes one writer at a time), take the roles in turn: the two cores
# fuzz at once, and a role's writes never reach the other runner's server.
JOBS=${FUZZ_JOBS:-2}
SERVERS=()
trap 'kill "${SERVERS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for job in $(seq 0 $((JOBS - 1))); do
    cp "$WORK/fuzz.sqlite3" "$WORK/fuzz-$job.sqlite3"
    DATABASE_URL="sqlite:///$WORK/fuzz-$job.sqlite3" "$BIN/python" manage.py runserver \
        "127.0.0.1:$((PORT + job))" --noreload --nothreading >"$WORK/server-$job.log" 2>&1 &
    SERVERS+=($!)
done
for job in $(seq 0 $((JOBS - 1))); do
    for _ in $(seq 1 60); do
        "$BIN/python" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
            "http://127.0.0.1:$((PORT + job))/api/schema/" 2>/dev/null && break
        sleep 0.5
    done
done

fuzz_role() {  # role token port: fuzz one role, write its FUZZ line to $WORK/<role>.result
    local role=$1 token=$2 port=$3 phases=examples,coverage,fuzzing result started
    [ "$role" = admin ] && phases=examples,coverage,fuzzing,stateful
    local log="$WORK/$role.log"
    started=$(date +%s)
    if LENDCORE_FUZZ_TOKEN="$token" "$BIN/schemathesis" --config-file tests/fuzz/schemathesis.toml \
        run "http://127.0.0.1:$port/api/schema/" \
        --phases "$phases" \
        --max-examples "$EXAMPLES" --workers 1 --no-color ${FUZZ_SEED:+--seed "$FUZZ_SEED"} >"$log" 2>&1; then
        result=passed
    else
        result=failed
    fi
    local cases operations seed
    cases=$(grep -Eo '[0-9]+ generated' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
    operations=$(grep -Eo 'Tested: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
    # the seed replays a failure: FUZZ_SEED=<seed> make fuzz
    seed=$(grep -Eo 'Seed: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+' || echo none)
    echo "FUZZ role=$role result=$result operations=$operations cases=$cases phases=$phases" \
        "seed=$seed seconds=$(($(date +%s) - started))" >"$WORK/$role.result"
}

next_role() {  # pop the queue's first line under a lock (the runners share it)
    flock "$WORK/queue.lock" bash -c 'head -n 1 "$1"; sed -i 1d "$1"' _ "$WORK/queue"
}

# Each runner takes the next role from the queue when it is done with one (the admin's four
# phases first), so the two finish close together.
# FUZZ_ROLES="servicing_agent collector" fuzzes only those roles (to replay a failure).
if [ -n "${FUZZ_ROLES:-}" ]; then
    grep -wF "$(tr ' ' '\n' <<<"$FUZZ_ROLES")" "$WORK/tokens" >"$WORK/tokens.only" || true
    mv "$WORK/tokens.only" "$WORK/tokens"
fi
cp "$WORK/tokens" "$WORK/queue"
RUNNERS=()
for job in $(seq 0 $((JOBS - 1))); do
    (
        while line=$(next_role) && [ -n "$line" ]; do
            fuzz_role $line $((PORT + job))
        done
    ) &
    RUNNERS+=($!)
done
wait "${RUNNERS[@]}"

status=0
while read -r role _; do
    cat "$WORK/$role.result"
    if ! grep -q "result=passed" "$WORK/$role.result"; then
        status=1
        # the failures and the summary only: a whole log is long enough to be cut in CI's
        if grep -q '= \(FAILURES\|ERRORS\) =' "$WORK/$role.log"; then
            sed -n '/= \(FAILURES\|ERRORS\) =/,/= WARNINGS =/p' "$WORK/$role.log"
            sed -n '/= SUMMARY =/,$p' "$WORK/$role.log"
        else
            tail -n 60 "$WORK/$role.log"
        fi
    fi
done <"$WORK/tokens"
for job in $(seq 0 $((JOBS - 1))); do
    if grep -q "Internal Server Error\|Traceback" "$WORK/server-$job.log"; then
        echo "Server $job logged an error:"; grep -B2 -A20 "Traceback" "$WORK/server-$job.log" | head -80
        status=1
    fi
done
exit $status
