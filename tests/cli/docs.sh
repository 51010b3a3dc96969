# The examples of docs/hooks.md, each run against a small site.
. "$TESTS_ROOT/lib.sh"
python3 "$TESTS_ROOT/doc_examples.py" "$(dirname "$TESTS_ROOT")/docs/hooks.md"
