#!/bin/sh
# Golden sites: each tests/golden/NAME/input/ is a content repository (without
# .git); it is copied, committed at a fixed date, built with
# SOURCE_DATE_EPOCH=1700000000 and the result compared byte for byte with
# tests/golden/NAME/expected/ (diff -r).
#
# The theme's static files (css/, js/, favicon.svg) are left out of the comparison
# (only their presence is checked) because they change often; the HTML pages,
# the feed and the sitemap are the point.  Any change to the default theme's
# templates, or to the generator's output, therefore needs the expected files
# to be regenerated — and READ before they are committed:
#   UPDATE_GOLDEN=1 sh tests/golden/run.sh          (all sites)
#   UPDATE_GOLDEN=1 GOLDEN=basic sh tests/golden/run.sh
# (run from the source tree with JIANBAO and TESTS_ROOT set, or via
# `UPDATE_GOLDEN=1 TESTS=golden tests/run`).
. "$TESTS_ROOT/lib.sh"

GOLDEN_COMMIT_DATE=2024-03-06T10:00:00+08:00
export SOURCE_DATE_EPOCH=1700000000

for dir in "$TESTS_ROOT"/golden/*/; do
	dir=${dir%/}
	name=${dir##*/}
	[ -d "$dir/input" ] || continue
	[ -n "${GOLDEN:-}" ] && [ "$GOLDEN" != "$name" ] && continue

	repo=$WORK/$name
	out=$WORK/$name.out
	cp -R "$dir/input" "$repo"
	git init -q -b main "$repo"
	git_commit "$repo" "$GOLDEN_COMMIT_DATE" "golden site $name"
	(cd "$repo" && "$JIANBAO" build --quiet --no-pdf --out "$out") >"$WORK/$name.log" 2>&1
	status=$?
	if [ "$status" -ne 0 ] || [ -s "$WORK/$name.log" ]; then
		not_ok "golden $name: builds without errors or warnings" "status $status" "$(head -20 "$WORK/$name.log")"
		continue
	fi
	ok "golden $name: builds without errors or warnings"

	if [ -s "$out/css/site.css" ] && [ -s "$out/favicon.svg" ]; then
		ok "golden $name: theme static files copied"
	else
		not_ok "golden $name: theme static files copied" "$(cd "$out" && find . -type f | sort)"
	fi
	rm -rf "$out/css" "$out/js" "$out/favicon.svg"

	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		rm -rf "$dir/expected"
		cp -R "$out" "$dir/expected"
		ok "golden $name: expected/ rewritten ($(find "$dir/expected" -type f | wc -l) files) — read the diff before committing"
		continue
	fi
	if [ ! -d "$dir/expected" ]; then
		not_ok "golden $name: output matches expected/" "no $dir/expected (create it with UPDATE_GOLDEN=1)"
		continue
	fi
	if diff -r -u "$dir/expected" "$out" >"$WORK/$name.diff" 2>&1; then
		ok "golden $name: output matches expected/"
	else
		not_ok "golden $name: output matches expected/ (if the change is intended: UPDATE_GOLDEN=1 sh tests/golden/run.sh)" \
			"$(sed -e "s|$WORK/$name.out|actual|g" -e "s|$dir/expected|expected|g" -e 's/^/  /' "$WORK/$name.diff" | head -80)"
	fi
done
